import * as tf from '@tensorflow/tfjs';
import { originalWasmKernel, wasmKernel } from './compose';
import { alias } from './identity';

/**
 * Cast for wasm: a cast to the tensor's own dtype shares its buffer (see identity.ts) instead of copying
 * it — tfjs-layers and the Cast gradient issue many float32→float32 casts. Real conversions use the
 * backend's own kernel.
 */
export const castConfig = wasmKernel<{ x: tf.TensorInfo }, tf.CastAttrs>(tf.Cast, ({ inputs: { x }, attrs: { dtype }, backend, args }) => {
  if (dtype !== x.dtype || x.dtype === 'string' || x.dtype === 'complex64') return originalWasmKernel(tf.Cast).kernelFunc(args);
  return alias(backend, x);
});
