import * as tf from '@tensorflow/tfjs';
import { initBackend, restoreWasmKernel } from '../lib/backend';
(async () => {
  await initBackend({ backend: 'wasm' });
  const x = tf.relu(tf.randomNormal([32, 32, 32, 16])); const y = tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'); const dy = tf.randomNormal(y.shape);
  const run = () => { const t = performance.now(); for (let i = 0; i < 10; i++) { const r = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' }) as tf.Tensor; r.dataSync(); r.dispose(); } return ((performance.now() - t) / 10).toFixed(2); };
  run(); console.log('kit', run());
  restoreWasmKernel('MaxPoolGrad'); run(); console.log('orig', run());
})();
