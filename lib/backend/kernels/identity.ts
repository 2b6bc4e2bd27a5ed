import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { originalWasmKernel, wasmKernel } from './compose';

/**
 * Identity for wasm without a copy: the result shares x's buffer and raises its ref count, as tfjs's cpu
 * backend and the wasm Reshape do (no wasm kernel writes into its inputs). The engine clones every tensor
 * it saves for a gradient, so the backend's copying Identity cost ≈ 30 ms per training step of a small
 * MBConv net (≈ 800 copies). Strings use the backend's own kernel.
 */
export const identityConfig = wasmKernel<{ x: tf.TensorInfo }>(tf.Identity, ({ inputs: { x }, backend, args }) => {
  if (x.dtype === 'string') return originalWasmKernel(tf.Identity).kernelFunc(args);
  return alias(backend, x);
});

/** A TensorInfo sharing x's data (ref count raised). */
export function alias(backend: BackendWasm, x: tf.TensorInfo): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}
