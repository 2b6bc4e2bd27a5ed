import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as path from 'path';
import { registerWasmTrainingKernels } from '../lib/backend/kernels';
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
registerWasmTrainingKernels();
function err(a: tf.Tensor, b: tf.Tensor) { const av = a.dataSync(), bv = b.dataSync(); let num = 0, den = 0; for (let i = 0; i < av.length; i++) { num = Math.max(num, Math.abs(av[i] - bv[i])); den = Math.max(den, Math.abs(av[i])); } return (num/den).toExponential(2); }
(async () => {
  await tf.setBackend('wasm');
  for (const [s, d, pad, k] of [[1, 2, 'same', 3], [1, 3, 'valid', 2], [1, 2, 'valid', 3]] as any[]) {
    tf.setBackend('cpu');
    const N = 2, C = 3, M = 2, H = 9, W = 8, ke = (k - 1) * d + 1;
    const x = tf.randomNormal([N, H, W, C]); const wd = tf.randomNormal([k, k, C, M]);
    // dilated filter (zeros between taps)
    const wdil = tf.buffer([ke, ke, C, M]); const wv = wd.bufferSync();
    for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) for (let c = 0; c < C; c++) for (let m = 0; m < M; m++) wdil.set(wv.get(i, j, c, m), i * d, j * d, c, m);
    const wdt = wdil.toTensor();
    const y = tf.depthwiseConv2d(x as any, wd as any, s, pad, 'NHWC', d);
    const y2 = tf.depthwiseConv2d(x as any, wdt as any, s, pad, 'NHWC', 1);
    console.log('fwd dil vs dilated filter', err(y, y2));
    const dy = tf.randomNormal(y.shape);
    const refF = (tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: s, dilations: 1, pad, filterShape: wdt.shape }) as tf.Tensor);
    const refFs = tf.stridedSlice(refF, [0, 0, 0, 0], [ke, ke, C, M], [d, d, 1, 1]);
    const refI = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: wdt }, { strides: s, dilations: 1, pad, inputShape: x.shape }) as tf.Tensor;
    tf.setBackend('wasm');
    const gF = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: s, dilations: d, pad, filterShape: wd.shape }) as tf.Tensor;
    const gI = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: wd }, { strides: s, dilations: d, pad, inputShape: x.shape }) as tf.Tensor;
    console.log(s, d, pad, 'filter', err(refFs, gF), 'input', err(refI, gI));
  }
})();
