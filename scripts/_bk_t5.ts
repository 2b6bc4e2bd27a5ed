import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
(async () => {
  await initBackend({ backend: 'wasm' });
  const time = (name: string, f: () => tf.Tensor) => { for (let i = 0; i < 2; i++) f().dispose(); const t = performance.now(); for (let i = 0; i < 10; i++) { const r = f(); r.dataSync(); r.dispose(); } console.log(name, ((performance.now() - t) / 10).toFixed(2), 'ms'); };
  for (const [H, ci, co] of [[16, 16, 96], [16, 96, 16], [8, 144, 24]]) {
    const x = tf.randomNormal([32, H, H, ci]); const dy = tf.randomNormal([32, H, H, co]); const w = tf.randomNormal([1, 1, ci, co]);
    time(`1x1 filter grad ${H} ${ci}->${co}`, () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [1, 1, ci, co] }) as tf.Tensor);
    time(`1x1 input grad ${H} ${ci}->${co}`, () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape }) as tf.Tensor);
    time(`1x1 fwd ${H} ${ci}->${co}`, () => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'));
  }
  for (const [H, c, s] of [[16, 96, 1], [16, 96, 2], [8, 144, 1]]) {
    const x = tf.randomNormal([32, H, H, c]); const w = tf.randomNormal([3, 3, c, 1]);
    const y = tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, 'same'); const dy = tf.randomNormal(y.shape);
    time(`dw filter grad ${H} ${c} s${s}`, () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: s, dilations: 1, pad: 'same', filterShape: [3, 3, c, 1] }) as tf.Tensor);
    time(`dw input grad ${H} ${c} s${s}`, () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { strides: s, dilations: 1, pad: 'same', inputShape: x.shape }) as tf.Tensor);
    time(`dw fwd ${H} ${c} s${s}`, () => tf.depthwiseConv2d(x as tf.Tensor4D, w as tf.Tensor4D, s, 'same'));
  }
})();
