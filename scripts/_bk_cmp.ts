import * as tf from '@tensorflow/tfjs';
import { initBackend, restoreWasmKernel } from '../lib/backend';
(async () => {
  await initBackend({ backend: 'wasm' });
  const time = (f: () => tf.Tensor) => { for (let i = 0; i < 2; i++) f().dispose(); const c0 = process.cpuUsage(); for (let i = 0; i < 10; i++) { const r = f(); r.dataSync(); r.dispose(); } const c = process.cpuUsage(c0); return (c.user + c.system) / 1e4; };
  const x = tf.randomNormal([32, 32, 32, 16]); const w = tf.randomNormal([3, 3, 16, 32]); const dy = tf.randomNormal([32, 32, 32, 32]);
  const x2 = tf.randomNormal([32, 16, 16, 32]); const w2 = tf.randomNormal([3, 3, 32, 64]); const dy2 = tf.randomNormal([32, 8, 8, 64]);
  const xr = tf.relu(tf.randomNormal([32, 32, 32, 16])); const yr = tf.maxPool(xr as tf.Tensor4D, 2, 2, 'valid'); const dyr = tf.randomNormal(yr.shape);
  const s = tf.randomNormal([1, 1, 1, 96]);
  const cases: [string, () => tf.Tensor][] = [
    ['Conv2DBackpropInput', () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: x.shape }) as tf.Tensor],
    ['Conv2DBackpropInput', () => tf.engine().runKernel('Conv2DBackpropInput', { dy: dy2, filter: w2 }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: x2.shape }) as tf.Tensor],
    ['MaxPoolGrad', () => tf.engine().runKernel('MaxPoolGrad', { dy: dyr, input: xr, output: yr }, { filterSize: 2, strides: 2, pad: 'valid' }) as tf.Tensor],
    ['Tile', () => tf.tile(s, [32, 16, 16, 1])],
  ];
  const kit = cases.map(([, f]) => time(f));
  for (const name of ['Conv2DBackpropInput', 'MaxPoolGrad', 'Tile']) restoreWasmKernel(name);
  const orig = cases.map(([, f]) => time(f));
  cases.forEach(([n], i) => console.log(`${n}: kit ${kit[i].toFixed(2)} ms, wasm's own ${orig[i].toFixed(2)} ms, ${(orig[i] / kit[i]).toFixed(1)}×`));
})();
