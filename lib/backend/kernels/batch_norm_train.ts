import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { alignedSums, heapOffset, LINE_UNITS, simdKernels, type SimdKernels } from '../simd';
import { fillOutput, wasmKernel } from './compose';

/**
 * tfjs-layers' training batch norm as two kernels (wasm, the kit's SIMD kernels; lib/backend/layers.ts calls them).
 * tfjs runs it as ≈ 24 engine calls per layer and step: the moments, the normalization, two clones and six small
 * ops of the moving averages forward; a dozen ops on [c] vectors around the three full passes backward. Each
 * engine call costs ≈ 5–20 µs of bookkeeping whatever its size, and the MBConv source model has 22 batch norms.
 * Here the full passes are the same SIMD kernels as before and the [c] arithmetic runs in JavaScript, every
 * operation rounded to float32 as tfjs's own kernel rounds it (a float32 +, −, ×, ÷ or √ computed in float64 and
 * rounded once is the correctly rounded float32 result), so the results are the same bits (test/backend/layers.test.ts).
 */
export const KIT_BATCH_NORM_TRAIN = 'KitBatchNormTrain';
export const KIT_BATCH_NORM_BACKWARD = 'KitBatchNormBackward';

type Info = tf.TensorInfo;
const f32 = Math.fround;

/** The kit's SIMD kernels, or an error naming the kernel. */
function kernelsOf(name: string, backend: BackendWasm): SimdKernels {
  const simd = simdKernels(backend);
  if (simd == null) throw new Error(`${name} (wasm): the kit's SIMD kernels are not loaded`);
  return simd;
}

/** Channels (the last axis) of x and the rows they repeat over. */
function channelsOf(x: Info): { c: number; rows: number } {
  const c = x.shape[x.shape.length - 1];
  return { c, rows: tf.util.sizeFromShape(x.shape) / c };
}

/** Per-channel sum of kind 0 (x), 1 ((x − mean)²) or 2 (k·((x − mean)·2)) over the rows of x, times `scale`, into `out`. */
function channelSum(backend: BackendWasm, simd: SimdKernels, x: Info, mean: Info, k: Info, out: Info, kind: 0 | 1 | 2, scale: number): void {
  const { c, rows } = channelsOf(x);
  const acc = alignedSums(backend, c);
  try {
    const at = (t: Info) => heapOffset(backend, t);
    simd.split('channelSum', c / 4, rows * 4 * 3, [at(x), at(mean), at(k), acc.offset, at(out), rows, c, kind, scale], LINE_UNITS);
  } finally {
    backend.disposeData(acc.info.dataId);
  }
}

/**
 * Forward, training mode: x [.., c] (float32, c % 4 = 0), scale and offset (γ, β), movingMean and movingVariance
 * [c]; attrs epsilon and momentum. Outputs [normed, mean, variance, new moving mean, new moving variance]:
 *   mean = tf.mean over the rows (float64 sums · 1/rows), variance = the mean of (x − mean)²,
 *   normed = tf.batchNorm(x, mean, variance, β, γ, ε) (the kit's FusedBatchNorm arithmetic),
 *   moving ← moving − (moving − value) · (1 − momentum) (tfjs-layers' update, each op rounded to float32).
 */
export const kitBatchNormTrainConfig = wasmKernel<Record<string, Info>, { epsilon: number; momentum: number }>(KIT_BATCH_NORM_TRAIN, (call) => {
  const { inputs: { x, scale, offset, movingMean, movingVariance }, attrs: { epsilon, momentum }, backend } = call;
  const simd = kernelsOf(KIT_BATCH_NORM_TRAIN, backend);
  const { c, rows } = channelsOf(x);
  const normed = backend.makeOutput(x.shape, 'float32');
  const mean = backend.makeOutput([c], 'float32');
  const variance = backend.makeOutput([c], 'float32');
  const newMean = backend.makeOutput([c], 'float32');
  const newVariance = backend.makeOutput([c], 'float32');
  const nf = backend.makeOutput([c], 'float32');
  const outputs = [normed, mean, variance, newMean, newVariance];
  return fillOutput(backend, outputs, [nf], () => {
    channelSum(backend, simd, x, x, x, mean, 0, 1 / rows);
    channelSum(backend, simd, x, mean, x, variance, 1, 1 / rows);
    // Views after the last allocation (allocating may grow and move the heap).
    const view = (t: Info) => backend.typedArrayFromHeap(t) as Float32Array;
    const [m, v, nfv, mm, mv, nm, nv] = [mean, variance, nf, movingMean, movingVariance, newMean, newVariance].map(view);
    const eps = f32(epsilon);
    const decay = f32(1 - momentum);
    for (let k = 0; k < c; k++) {
      nfv[k] = Math.sqrt(f32(v[k] + eps)); // √(variance + ε) in float32, as the FusedBatchNorm kernel computes it
      nm[k] = f32(mm[k] - f32(f32(mm[k] - m[k]) * decay));
      nv[k] = f32(mv[k] - f32(f32(mv[k] - v[k]) * decay));
    }
    const at = (t: Info) => heapOffset(backend, t);
    simd.split('batchNormRows', rows, c * 4, [at(x), at(mean), at(scale), at(offset), at(nf), at(normed), c]);
  });
});

/**
 * The gradient of the forward above: x, dy, the batch's mean and variance, scale (γ); attr epsilon. Outputs
 * [dx, dγ, dβ]. In tfjs's order: r = rsqrt(variance + ε) (a float32 square root, then a float32 division),
 * m = r·r·r·(−0.5), nr = −r; FusedBatchNorm's gradient (`batchNormGrad`: dx₁ and the channel sums of dmean,
 * dvariance, dγ, dβ); ds = dvariance / rows; dmean −= Σ ds·((x − mean)·2) (`channelSum`); dm = dmean / rows; then
 * dx = (dx₁ + ds·((x − mean)·2)) + dm (`batchNormFinishDx`, in place on dx₁).
 */
export const kitBatchNormBackwardConfig = wasmKernel<Record<string, Info>, { epsilon: number }>(KIT_BATCH_NORM_BACKWARD, (call) => {
  const { inputs: { x, dy, mean, variance, scale }, attrs: { epsilon }, backend } = call;
  const simd = kernelsOf(KIT_BATCH_NORM_BACKWARD, backend);
  const { c, rows } = channelsOf(x);
  const dx = backend.makeOutput(x.shape, 'float32');
  const dScale = backend.makeOutput([c], 'float32');
  const dOffset = backend.makeOutput([c], 'float32');
  // [c] vectors for the SIMD kernels: r, m, nr, dmean, dvariance, ds, the channel sum, dm.
  const vec = [0, 1, 2, 3, 4, 5, 6, 7].map(() => backend.makeOutput([c], 'float32'));
  const [r, m, nr, dMean, dVariance, ds, sum, dm] = vec;
  const acc = alignedSums(backend, 4 * c);
  const outputs = [dx, dScale, dOffset];
  return fillOutput(backend, outputs, [...vec, acc.info], () => {
    const view = (t: Info) => backend.typedArrayFromHeap(t) as Float32Array;
    const [vv, rv, mv, nrv] = [variance, r, m, nr].map(view);
    const eps = f32(epsilon);
    for (let k = 0; k < c; k++) {
      const rk = f32(1 / f32(Math.sqrt(f32(vv[k] + eps))));
      rv[k] = rk;
      mv[k] = f32(f32(f32(rk * rk) * rk) * -0.5);
      nrv[k] = -rk;
    }
    const at = (t: Info) => heapOffset(backend, t);
    simd.split('batchNormGrad', c / 4, rows * 4 * 12, [
      at(x), at(dy), at(mean), at(scale), at(r), at(m), at(nr), at(dx), acc.offset, at(dMean), at(dVariance), at(dScale), at(dOffset), rows, c,
    ], LINE_UNITS);
    const n = f32(rows);
    const [dvv, dsv] = [dVariance, ds].map(view);
    for (let k = 0; k < c; k++) dsv[k] = f32(dvv[k] / n);
    channelSum(backend, simd, x, mean, ds, sum, 2, 1);
    const [dmv, sv, dmOut] = [dMean, sum, dm].map(view);
    for (let k = 0; k < c; k++) dmOut[k] = f32(f32(dmv[k] + -sv[k]) / n);
    simd.split('batchNormFinishDx', rows, c * 6, [at(x), at(mean), at(ds), at(dm), at(dx), c]);
  });
});
