import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, simdKernels } from '../simd';
import { originalWasmKernel, wasmKernel } from './compose';
import { alias } from './identity';

/**
 * Multiply for wasm:
 * - a float32 tensor times a float32 scalar that holds exactly 1 shares the tensor's buffer (x · 1 = x in IEEE
 *   arithmetic): tfjs-layers' swish is x · sigmoid(x · α) with α = 1, so each swish layer multiplied its whole input
 *   by 1 forward and its gradient by 1 backward (≈ 20 full-size passes per step of the MBConv source model);
 * - x [n, h, w, c] times a per-image channel vector [n, 1, 1, c] (either order; float32, c % 4 = 0) — the
 *   squeeze-and-excitation gate, forward and in its gradient — on the kit's `channelScaleRows`: the backend's
 *   broadcasting kernel took 2–5× as long as a same-shape product of the same size;
 * every other product is the backend's own. One float32 product per element either way: the same bits.
 */
export const multiplyConfig = wasmKernel<{ a: tf.TensorInfo; b: tf.TensorInfo }>(tf.Multiply, ({ inputs: { a, b }, backend, args }) => {
  const other = isOne(backend, b) ? a : isOne(backend, a) ? b : null;
  if (other != null && other.dtype === 'float32') return alias(backend, other);
  const scaled = channelScale(backend, a, b) ?? channelScale(backend, b, a);
  return scaled ?? originalWasmKernel(tf.Multiply).kernelFunc(args);
});

/** Whether `t` is a float32 scalar (rank 0, so the product has the other operand's shape) equal to 1. */
function isOne(backend: BackendWasm, t: tf.TensorInfo): boolean {
  if (t.dtype !== 'float32' || t.shape.length !== 0) return false;
  return (backend.typedArrayFromHeap(t) as Float32Array)[0] === 1;
}

/** x [n, h, w, c] · s [n, 1, 1, c] on the SIMD kernel, or null when the shapes (or dtypes) are another case. */
function channelScale(backend: BackendWasm, x: tf.TensorInfo, s: tf.TensorInfo): tf.TensorInfo | null {
  if (x.dtype !== 'float32' || s.dtype !== 'float32' || x.shape.length !== 4 || s.shape.length !== 4) return null;
  const [n, h, w, c] = x.shape;
  if (c % 4 !== 0 || h * w <= 1 || s.shape[0] !== n || s.shape[1] !== 1 || s.shape[2] !== 1 || s.shape[3] !== c) return null;
  const simd = simdKernels(backend);
  if (simd == null) return null;
  const out = backend.makeOutput(x.shape, 'float32');
  simd.split('channelScaleRows', n, h * w * c, [heapOffset(backend, x), heapOffset(backend, s), heapOffset(backend, out), h * w, c]);
  return out;
}
