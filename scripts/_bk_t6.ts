import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { buildReferenceCnn } from './bench/reference';
(async () => {
  await initBackend({ backend: 'wasm' });
  const model = buildReferenceCnn(32);
  const xb = tf.randomNormal([32, 32, 32, 3]); const yb = tf.oneHot(tf.randomUniform([32], 0, 2, 'int32') as tf.Tensor1D, 2);
  const opt = tf.train.sgd(0.01);
  const step = () => tf.tidy(() => { opt.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar); });
  for (let i = 0; i < 3; i++) step();
  let t = performance.now(); for (let i = 0; i < 10; i++) step(); await model.getWeights()[0].data(); console.log('step ms', ((performance.now() - t) / 10).toFixed(1));
  const info = await tf.profile(() => { step(); step(); });
  const agg = new Map<string, number>();
  for (const k of info.kernels) agg.set(k.name, (agg.get(k.name) ?? 0) + (k.kernelTimeMs as number) / 2);
  console.log([...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, 14).map(([n, t]) => `${n} ${t.toFixed(1)}`).join('\n'));
})();
