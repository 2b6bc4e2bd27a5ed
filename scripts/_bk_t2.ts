import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as path from 'path';
import { registerWasmTrainingKernels } from '../lib/backend/kernels';
setWasmPaths(path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + '/');
registerWasmTrainingKernels();
function onBoth(name: string, inputs: () => Record<string, tf.Tensor>, attrs: any) {
  tf.setBackend('cpu'); const a = tf.engine().runKernel(name, inputs(), attrs) as tf.Tensor; const av = a.dataSync();
  tf.setBackend('wasm'); const b = tf.engine().runKernel(name, inputs(), attrs) as tf.Tensor; const bv = b.dataSync();
  let num = 0, den = 0; for (let i = 0; i < av.length; i++) { num = Math.max(num, Math.abs(av[i] - bv[i])); den = Math.max(den, Math.abs(av[i])); }
  console.log(name, JSON.stringify(attrs), a.shape.join('x'), b.shape.join('x'), 'relerr', (num / den).toExponential(2));
}
(async () => {
  await tf.setBackend('wasm');
  const cases: any[] = [
    { s: 1, pad: 'same', H: 8, W: 7, k: 3, d: 1 }, { s: 2, pad: 'same', H: 9, W: 8, k: 3, d: 1 }, { s: 2, pad: 'valid', H: 9, W: 10, k: 3, d: 1 },
    { s: 1, pad: [[0,0],[1,2],[0,1],[0,0]], H: 6, W: 5, k: 3, d: 1 }, { s: 3, pad: 'valid', H: 11, W: 7, k: 2, d: 1 }, { s: 1, pad: 'same', H: 8, W: 8, k: 3, d: 2 }, {s:2,pad:'same',H:8,W:8,k:5,d:1},
  ];
  for (const c of cases) {
    const N = 2, ci = 3, co = 4, M = 2;
    const x = tf.randomNormal([N, c.H, c.W, ci]); const wf = tf.randomNormal([c.k, c.k, ci, co]); const wd = tf.randomNormal([c.k, c.k, ci, M]);
    tf.setBackend('cpu');
    if (c.d === 1) {
      const y = tf.conv2d(x as tf.Tensor4D, wf as tf.Tensor4D, c.s, c.pad);
      const dy = tf.randomNormal(y.shape);
      onBoth('Conv2DBackpropFilter', () => ({ x, dy }), { strides: c.s, pad: c.pad, dataFormat: 'NHWC', filterShape: wf.shape });
      onBoth('Conv2DBackpropInput', () => ({ dy, filter: wf }), { strides: c.s, pad: c.pad, dataFormat: 'NHWC', inputShape: x.shape });
    }
    tf.setBackend('cpu');
    const y2 = tf.depthwiseConv2d(x as tf.Tensor4D, wd as tf.Tensor4D, c.s, c.pad, 'NHWC', c.d);
    const dy2 = tf.randomNormal(y2.shape);
    onBoth('DepthwiseConv2dNativeBackpropFilter', () => ({ x, dy: dy2 }), { strides: c.s, dilations: c.d, pad: c.pad, filterShape: wd.shape });
    onBoth('DepthwiseConv2dNativeBackpropInput', () => ({ dy: dy2, filter: wd }), { strides: c.s, dilations: c.d, pad: c.pad, inputShape: x.shape });
  }
})();
