import * as tf from '@tensorflow/tfjs';
import { heapOffset, simdKernels } from '../simd';
import { fillOutput, originalWasmKernel, wasmKernel } from './compose';

/**
 * FusedBatchNorm (forward) for wasm on the kit's SIMD kernel (`batchNormRows`): float32 x [.., c] with c % 4 = 0 and
 * mean, variance, scale and offset of [c]. The backend's own kernel is a scalar C++ loop computing
 * offset + ((x − mean) · scale) / √(variance + ε) (the last division and addition in float64); the kit's rounds every
 * step the same way, four channels at a time and on the kit's threads: bit for bit the same results (tested).
 * Other cases use the backend's kernel.
 */
type BatchNormInputs = { x: tf.TensorInfo } & Partial<Record<'mean' | 'variance' | 'scale' | 'offset', tf.TensorInfo>>;

export const fusedBatchNormConfig = wasmKernel<BatchNormInputs, tf.FusedBatchNormAttrs>(tf.FusedBatchNorm, (call) => {
  const { inputs: { x, mean, variance, scale, offset }, attrs: { varianceEpsilon }, backend, args } = call;
  const c = x.shape[x.shape.length - 1];
  const vectors = [mean, variance, scale, offset];
  const fits = x.dtype === 'float32' && c % 4 === 0 && vectors.every((v) => v != null && v.dtype === 'float32' && tf.util.sizeFromShape(v.shape) === c);
  const simd = fits ? simdKernels(backend) : null;
  if (simd == null) return originalWasmKernel(tf.FusedBatchNorm).kernelFunc(args);
  const nf = backend.makeOutput([c], 'float32');
  const out = backend.makeOutput(x.shape, 'float32');
  return fillOutput(backend, out, [nf], () => {
    // √(variance + ε) as the C++ kernel computes it in float32 (the double square root of a float, rounded once,
    // is the correctly rounded float square root). Views after the last makeOutput.
    const v = backend.typedArrayFromHeap(variance!) as Float32Array;
    const f = backend.typedArrayFromHeap(nf) as Float32Array;
    const eps = Math.fround(varianceEpsilon);
    for (let k = 0; k < c; k++) f[k] = Math.sqrt(Math.fround(v[k] + eps));
    const at = (t: tf.TensorInfo) => heapOffset(backend, t);
    const rows = tf.util.sizeFromShape(x.shape) / c;
    simd.split('batchNormRows', rows, c * 4, [at(x), at(mean!), at(scale!), at(offset!), at(nf), at(out), c]);
  });
});
