import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { originalWasmKernel, wasmKernel } from './compose';
import { alias } from './identity';

/**
 * Multiply for wasm: a float32 tensor times a float32 scalar that holds exactly 1 shares the tensor's buffer
 * (x · 1 = x in IEEE arithmetic), every other product is the backend's own. tfjs-layers' swish is
 * x · sigmoid(x · α) with α = 1, so each swish layer multiplied its whole input by 1 forward and its gradient by
 * 1 backward (≈ 20 full-size passes per step of the MBConv source model).
 */
export const multiplyConfig = wasmKernel<{ a: tf.TensorInfo; b: tf.TensorInfo }>(tf.Multiply, ({ inputs: { a, b }, backend, args }) => {
  const other = isOne(backend, b) ? a : isOne(backend, a) ? b : null;
  if (other == null || other.dtype !== 'float32') return originalWasmKernel(tf.Multiply).kernelFunc(args);
  return alias(backend, other);
});

/** Whether `t` is a float32 scalar (rank 0, so the product has the other operand's shape) equal to 1. */
function isOne(backend: BackendWasm, t: tf.TensorInfo): boolean {
  if (t.dtype !== 'float32' || t.shape.length !== 0) return false;
  return (backend.typedArrayFromHeap(t) as Float32Array)[0] === 1;
}
