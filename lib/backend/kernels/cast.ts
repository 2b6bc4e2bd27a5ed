import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { originalWasmKernel } from './compose';
import { alias } from './identity';

/**
 * Cast for wasm: a cast to the tensor's own dtype shares its buffer (see identity.ts) instead of copying
 * it — tfjs-layers and the Cast gradient issue many float32→float32 casts. Real conversions use the
 * backend's own kernel.
 */
export const castConfig: tf.KernelConfig = {
  kernelName: tf.Cast,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { dtype } = args.attrs as unknown as tf.CastAttrs;
    if (dtype !== x.dtype || x.dtype === 'string' || x.dtype === 'complex64') return originalWasmKernel(tf.Cast).kernelFunc(args);
    return alias(args.backend as BackendWasm, x);
  },
};
