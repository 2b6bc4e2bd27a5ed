/**
 * Conv2DBackpropFilter formulations back to back in one process (`npx tsx scripts/bench/filter_grad.ts`):
 * CPU ms per call on the reference CNN's layers (batch 32, 32 and 64 px), then ms per training step of the
 * reference CNN with each formulation forced, alternating. Env: MODES=conv,im2col,shifted,auto (which to
 * compare), PX=32,64 (step sizes), STEPS=10 (steps per timing).
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../lib/testing';
import { setConv2DFilterGradMode, type FilterGradMode } from '../../lib/backend/kernels/conv2d_backprop_filter';
import { cpuMs } from './kernels';
import { buildReferenceCnn } from './reference';

async function main(): Promise<void> {
  await useBackend('wasm');
  const modes = (process.env.MODES ?? 'conv,im2col,shifted,auto').split(',') as FilterGradMode[];
  const layers = [
    { px: 32, h: 32, ci: 3, co: 16 },
    { px: 32, h: 16, ci: 16, co: 32 },
    { px: 32, h: 8, ci: 32, co: 64 },
    { px: 64, h: 64, ci: 3, co: 16 },
    { px: 64, h: 32, ci: 16, co: 32 },
    { px: 64, h: 16, ci: 32, co: 64 },
    { px: 0, h: 32, ci: 16, co: 32, s: 2 },
    { px: 0, h: 16, ci: 32, co: 64, s: 2 },
  ];
  for (const l of layers) {
    const x = tf.randomNormal([32, l.h, l.h, l.ci], 0, 1, 'float32', 1);
    const s = (l as { s?: number }).s ?? 1;
    // A fresh dy for every call, as in training: the wasm BatchMatMul caches its XNNPACK operator (and the
    // packed right-hand matrix) per input buffer, so reusing one dy hides that cost.
    const dys = Array.from({ length: 12 }, (_, i) => tf.randomNormal([32, l.h / s, l.h / s, l.co], 0, 1, 'float32', 2 + i));
    let call = 0;
    const run = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: dys[call++ % dys.length] }, { strides: s, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, l.ci, l.co] } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const res: Record<string, number[]> = {};
    for (let round = 0; round < 3; round++) {
      for (const m of modes) {
        setConv2DFilterGradMode(m);
        (res[m] ??= []).push(cpuMs(run, l.h >= 64 ? 3 : 8));
      }
    }
    console.log(`x [32,${l.h},${l.h},${l.ci}] s${s} → co ${l.co}: ` + modes.map((m) => `${m} ${Math.min(...res[m]).toFixed(2)}`).join(' · ') + ' ms');
    tf.dispose([x, ...dys]);
  }
  const steps = Number(process.env.STEPS ?? 10);
  for (const px of (process.env.PX ?? '32').split(',').map(Number)) {
    const model = buildReferenceCnn(px);
    const xs = tf.randomNormal([32, px, px, 3], 0, 1, 'float32', 1);
    const ys = tf.oneHot(tf.randomUniform([32], 0, 2, 'int32', 2) as tf.Tensor1D, 2);
    const opt = tf.train.sgd(0.01);
    const step = () => tf.tidy(() => {
      opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar);
    });
    const res: Record<string, number[]> = {};
    for (let round = 0; round < 4; round++) {
      for (const m of modes) {
        setConv2DFilterGradMode(m);
        step();
        const t = performance.now();
        for (let i = 0; i < steps; i++) step();
        await model.getWeights()[0].data();
        (res[m] ??= []).push((performance.now() - t) / steps);
      }
    }
    console.log(`step ${px} px: ` + modes.map((m) => `${m} ${res[m].map((v) => v.toFixed(1)).join('/')}`).join(' · ') + ' ms');
    tf.dispose([xs, ys]);
    opt.dispose();
    model.dispose();
  }
  setConv2DFilterGradMode('auto');
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
