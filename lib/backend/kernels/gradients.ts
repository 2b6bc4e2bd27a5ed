import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from '../simd';
import { KIT_BATCH_NORM_GRAD, KIT_RELU_GRAD, KIT_SIGMOID_GRAD, KIT_SQUARE_GRAD } from './fused_grads';

/**
 * Gradients tfjs registers for every backend, replaced on wasm by formulations that compute the very same values
 * (bit for bit) with fewer full-size kernels; on other backends the original gradient runs unchanged.
 *
 * - **Mean**: tfjs builds `ones(x.shape)` in JavaScript (a full-size array filled and copied onto the heap), then
 *   multiplies dy by it and divides by the count: three full-size passes. dy · 1 is dy exactly, so the same values
 *   are (dy / count) on the small tensor, then broadcast (Tile: an exact copy): one pass. Batch norm's moments and
 *   every global average pool take this gradient (≈ 50 times per step of the MBConv source model).
 * - **Sigmoid**, **Square**, **Relu**: dy·(y·(1 − y)), dy·(x·2) and dy·step(x) in one pass each (two or three
 *   kernels in tfjs).
 * - **FusedBatchNorm**: tfjs's gradient runs ≈ 25 kernels, 14 of them over the whole activation; the kit's
 *   `KitBatchNormGrad` computes dx and the four channel sums in one pass (lib/backend/kernels/fused_grads.ts).
 * The fused kernels run only in a first-order backward pass (the tape off): they have no gradients of their own,
 * so a gradient of a gradient uses tfjs's formulation.
 */
/**
 * The gradient of an element-wise kernel from one saved tensor (its input x or its output y) on the kit's fused
 * kernel `fusedName` where `fused` allows it, else tfjs's own.
 */
function elementwiseGradient(kernelName: string, fusedName: string, saved: 'x' | 'y'): tf.GradConfig {
  return {
    kernelName,
    ...(saved === 'x' ? { inputsToSave: ['x'] } : { outputsToSave: [true] }),
    gradFunc: (dy, savedTensors) => {
      const [t] = savedTensors;
      if (!fused(dy as tf.Tensor, t)) return tfjsGradient(kernelName, dy, savedTensors, {});
      return { x: () => tf.engine().runKernel(fusedName, { dy: dy as tf.Tensor, [saved]: t }) as tf.Tensor };
    },
  };
}

const WASM_GRADIENTS: readonly tf.GradConfig[] = [
  {
    kernelName: tf.Mean,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved;
      const axes = tf.util.parseAxisParam((attrs as unknown as tf.MeanAttrs).axis, x.shape);
      const count = tf.util.sizeFromShape(axes.map((a) => x.shape[a]));
      const expanded = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
      return { x: () => tf.broadcastTo(tf.div(tf.reshape(dy as tf.Tensor, expanded), count), x.shape) };
    },
  },
  elementwiseGradient(tf.Sigmoid, KIT_SIGMOID_GRAD, 'y'),
  elementwiseGradient(tf.Square, KIT_SQUARE_GRAD, 'x'),
  elementwiseGradient(tf.Relu, KIT_RELU_GRAD, 'x'),
  {
    kernelName: tf.FusedBatchNorm,
    inputsToSave: ['x', 'mean', 'variance', 'scale'],
    gradFunc: (dy, saved, attrs) => {
      const [x, mean, variance, scale] = saved;
      const c = x.shape[x.shape.length - 1];
      const fits = scale != null && mean.rank === 1 && mean.shape[0] === c && c % 4 === 0 && [mean, variance, scale].every((t) => t.dtype === 'float32');
      if (!fits || !fused(dy as tf.Tensor, x)) return tfjsGradient(tf.FusedBatchNorm, dy, saved, attrs);
      // The channel vectors exactly as tfjs's gradient computes them (small kernels on [c]).
      const r = tf.rsqrt(tf.add(variance, tf.scalar((attrs as unknown as tf.FusedBatchNormAttrs).varianceEpsilon)));
      const m = tf.mul(tf.mul(tf.mul(r, r), r), tf.scalar(-0.5));
      const nr = tf.mul(r, tf.scalar(-1));
      const [dx, dMean, dVariance, dScale, dOffset] = tf.engine().runKernel(KIT_BATCH_NORM_GRAD, { x, dy: dy as tf.Tensor, mean, scale, r, m, nr }) as tf.Tensor[];
      return { x: () => dx, mean: () => dMean, variance: () => dVariance, scale: () => dScale, offset: () => dOffset };
    },
  },
];

/** Whether a fused gradient kernel may run: wasm with the SIMD kernels, float32 operands, a first-order pass. */
function fused(dy: tf.Tensor, other: tf.Tensor): boolean {
  if (tf.getBackend() !== 'wasm' || dy.dtype !== 'float32' || other.dtype !== 'float32' || dy.size !== other.size) return false;
  if ((tf.engine() as unknown as { isTapeOn(): boolean }).isTapeOn()) return false;
  return simdKernels(tf.backend() as BackendWasm) != null;
}

/** tfjs's own gradient of `kernelName`. */
function tfjsGradient(kernelName: string, dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[], attrs: tf.NamedAttrMap): ReturnType<tf.GradConfig["gradFunc"]> {
  const original = originals.get(kernelName);
  if (original == null) throw new Error(`lib/backend/kernels/gradients: tfjs registers no gradient for ${kernelName}`);
  return original.gradFunc(dy, saved, attrs);
}

const originals = new Map<string, tf.GradConfig>();

/** Registers the wasm gradients (see WASM_GRADIENTS) over tfjs's; safe to call more than once. */
export function registerWasmGradients(): void {
  for (const config of WASM_GRADIENTS) {
    if (originals.has(config.kernelName)) continue;
    const original = tf.getGradient(config.kernelName);
    if (original == null) continue;
    originals.set(config.kernelName, original);
    tf.registerGradient({
      ...original,
      gradFunc: (dy, saved, attrs) => (tf.getBackend() === 'wasm' ? config.gradFunc(dy, saved, attrs) : original.gradFunc(dy, saved, attrs)),
    });
  }
}

/** Puts tfjs's own gradients back (tests compare both). */
export function restoreTfjsGradients(): void {
  for (const [, original] of originals) tf.registerGradient(original);
  originals.clear();
}
