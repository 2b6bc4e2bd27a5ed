import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
function err(a: tf.Tensor, b: tf.Tensor) { const av = a.dataSync(), bv = b.dataSync(); let num = 0, den = 0; for (let i = 0; i < av.length; i++) { num = Math.max(num, Math.abs(av[i] - bv[i])); den = Math.max(den, Math.abs(av[i])); } return (num/den).toExponential(2); }
(async () => {
  await initBackend({ backend: 'wasm' });
  for (const [k, s, pad, H, relu] of [[2, 2, 'valid', 8, true], [3, 2, 'same', 9, true], [3, 1, 'same', 7, false], [2, 2, 'same', 7, true]] as any[]) {
    tf.setBackend('cpu');
    let x = tf.randomNormal([2, H, H + Number(process.env.DW ?? 0), Number(process.env.C ?? 3)]); if (relu) x = tf.relu(x);
    const y = tf.maxPool(x as tf.Tensor4D, k, s, pad); const dy = tf.randomNormal(y.shape);
    const ref = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: k, strides: s, pad }) as tf.Tensor;
    tf.setBackend('wasm');
    const got = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: k, strides: s, pad }) as tf.Tensor;
    console.log(k, s, pad, H, err(ref, got));
  }
  const x = tf.relu(tf.randomNormal([32, 32, 32, 16])); const y = tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'); const dy = tf.randomNormal(y.shape);
  const t = performance.now(); for (let i = 0; i < 10; i++) { const r = tf.engine().runKernel('MaxPoolGrad', { dy, input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' }) as tf.Tensor; r.dataSync(); r.dispose(); } console.log('ms', (performance.now() - t) / 10);
})();
