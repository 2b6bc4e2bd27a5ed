import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
(async () => {
  await initBackend({ backend: 'wasm' });
  const time = (f: () => tf.Tensor) => { for (let i = 0; i < 2; i++) f().dispose(); const c0 = process.cpuUsage(); for (let i = 0; i < 10; i++) { const r = f(); r.dataSync(); r.dispose(); } const c = process.cpuUsage(c0); return ((c.user + c.system) / 1e4).toFixed(2); };
  const [H, c, n] = [16, 96, 32];
  const xt = tf.randomNormal([1, H, H, c * n]); const f = tf.randomNormal([H, H, c * n, 1]);
  const pad = [[0,0],[1,1],[1,1],[0,0]] as any;
  console.log('dw same filter', time(() => tf.depthwiseConv2d(xt as tf.Tensor4D, f as tf.Tensor4D, 1, pad)), 'fresh', time(() => tf.tidy(() => tf.depthwiseConv2d(xt as tf.Tensor4D, tf.add(f, 0) as tf.Tensor4D, 1, pad))), 'add', time(() => tf.add(f, 0)));
  // alternative: batch = n, channels = c, kernel = dy per (n)?? regular conv with batch= c? measure Conv2D waste variant
  const x2 = tf.randomNormal([c, H, H, n]); const f2 = tf.randomNormal([H, H, n, c]);
  console.log('conv2d (C× waste)', time(() => tf.tidy(() => tf.conv2d(x2 as tf.Tensor4D, tf.add(f2, 0) as tf.Tensor4D, 1, pad))));
})();
