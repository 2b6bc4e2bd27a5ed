import * as tf from '@tensorflow/tfjs';
import { buildReferenceCnn } from './reference';

/** Mean time per training step and per kernel call (grouped by kernel and input shapes) of the reference CNN. */
export interface StepProfile {
  msPerStep: number;
  kernelMsPerStep: number;
  kernels: { name: string; shapes: string; ms: number }[];
  /** Kernel calls the engine makes per step (tf.profile's count; kernels a kit kernel calls inside it are not counted). */
  callsPerStep: number;
}

/**
 * Profiles SGD training steps (batch 32) of `model` (default: the reference CNN at `imageSize`) on the active
 * backend: wall time per step over `steps` steps, then `tf.profile` of `profiled` more, averaged per kernel. On
 * wasm a kernel's time is its wall time (nested kernel calls included in their parent's).
 */
export async function profileStep(imageSize = 32, steps = 20, profiled = 10, given?: tf.LayersModel): Promise<StepProfile> {
  const model = given ?? buildReferenceCnn(imageSize);
  const [, h, w, c] = model.inputs[0].shape as number[];
  const classes = (model.outputs[0].shape as number[])[1];
  const xb = tf.randomNormal([32, h, w, c], 0, 1, 'float32', 1);
  const yb = tf.oneHot(tf.randomUniform([32], 0, classes, 'int32', 2) as tf.Tensor1D, classes);
  const optimizer = tf.train.sgd(0.01);
  const step = () =>
    tf.tidy(() => {
      optimizer.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar);
    });
  for (let i = 0; i < 5; i++) step();
  await model.getWeights()[0].data();
  const t = performance.now();
  for (let i = 0; i < steps; i++) step();
  await model.getWeights()[0].data();
  const msPerStep = (performance.now() - t) / steps;
  const sums = new Map<string, { name: string; shapes: string; ms: number }>();
  let calls = 0;
  for (let r = 0; r < profiled; r++) {
    const info = await tf.profile(() => {
      step();
    });
    calls += info.kernels.length;
    for (const k of info.kernels) {
      const shapes = JSON.stringify(k.inputShapes);
      const key = `${k.name} ${shapes}`;
      const e = sums.get(key) ?? { name: k.name, shapes, ms: 0 };
      e.ms += (k.kernelTimeMs as number) / profiled;
      sums.set(key, e);
    }
  }
  tf.dispose([xb, yb]);
  optimizer.dispose();
  if (!given) model.dispose();
  const kernels = [...sums.values()].sort((a, b) => b.ms - a.ms);
  return { msPerStep, kernelMsPerStep: kernels.reduce((s, k) => s + k.ms, 0), kernels, callsPerStep: calls / profiled };
}
