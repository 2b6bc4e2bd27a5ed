import * as tf from '@tensorflow/tfjs';
import { heapOffset, simdKernels } from '../simd';
import { originalWasmKernel, wasmKernel } from './compose';

/**
 * Add for wasm: a bias over the last axis (x [..., C] + b [C] or [1, …, 1, C], float32, C % 4 = 0 — every conv
 * and dense layer's bias) on the kit's SIMD kernel, ≈ 5× faster than the backend's broadcasting Add on the
 * reference CNN's activations; every other Add is the backend's own. float32 addition is exact IEEE arithmetic
 * either way, so the results are identical.
 */
export const addConfig = wasmKernel<{ a: tf.TensorInfo; b: tf.TensorInfo }>(tf.Add, ({ inputs: { a, b }, backend, args }) => {
  const c = a.shape[a.shape.length - 1] ?? 0;
  const rows = c > 0 ? tf.util.sizeFromShape(a.shape) / c : 0;
  const bias =
    a.dtype === 'float32' && b.dtype === 'float32' && c % 4 === 0 && c > 0 && rows > 1 &&
    b.shape.length >= 1 && b.shape.length <= a.shape.length && b.shape[b.shape.length - 1] === c &&
    b.shape.slice(0, -1).every((d) => d === 1);
  const simd = bias ? simdKernels(backend) : null;
  if (simd == null) return originalWasmKernel(tf.Add).kernelFunc(args);
  const out = backend.makeOutput(a.shape, 'float32');
  simd.split('addBiasRows', rows, c * 2, [heapOffset(backend, a), heapOffset(backend, b), heapOffset(backend, out), c]);
  return out;
});
