import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, simdKernels } from '../simd';
import { wasmKernel } from './compose';

/**
 * The kernels of the fused optimizer updates (lib/backend/optimizers.ts): one Adam or SGD step of one float32
 * variable on the kit's SIMD kernels (`adamUpdate`, `sgdUpdate` in simd/assembly/kernels.ts), every constant the
 * float32 scalar tfjs makes of it and every operation rounded to float32 in tfjs's order.
 */
export const KIT_ADAM_UPDATE = 'KitAdamUpdate';
export const KIT_SGD_UPDATE = 'KitSgdUpdate';

type Info = tf.TensorInfo;
const f32 = Math.fround;

/** The float32 value of a scalar on the wasm heap. */
function scalarOf(backend: BackendWasm, t: Info): number {
  return (backend.typedArrayFromHeap(t) as Float32Array)[0];
}

/** [value', m', v'] from value, m, v, g and the scalars 1 − β1ᵗ, 1 − β2ᵗ (attrs: β1, β2, ε, learning rate). */
export const kitAdamUpdateConfig = wasmKernel<Record<string, Info>, { beta1: number; beta2: number; epsilon: number; learningRate: number }>(
  KIT_ADAM_UPDATE,
  ({ inputs: { value, m, v, g, oneMinusAccBeta1, oneMinusAccBeta2 }, attrs: { beta1, beta2, epsilon, learningRate }, backend }) => {
    const simd = simdKernels(backend);
    if (simd == null) throw new Error(`${KIT_ADAM_UPDATE} (wasm): the kit's SIMD kernels are not loaded`);
    const size = tf.util.sizeFromShape(value.shape);
    const outs = [0, 1, 2].map(() => backend.makeOutput(value.shape, 'float32'));
    const at = (t: Info) => heapOffset(backend, t);
    simd.split('adamUpdate', Math.ceil(size / 16), 16 * 12, [
      at(value), at(m), at(v), at(g), ...outs.map(at), size,
      f32(beta1), f32(1 - beta1), f32(beta2), f32(1 - beta2), scalarOf(backend, oneMinusAccBeta1), scalarOf(backend, oneMinusAccBeta2),
      f32(epsilon), f32(-learningRate),
    ]);
    return outs;
  },
);

/** value' = c·g + value (c: the optimizer's scalar −lr). */
export const kitSgdUpdateConfig = wasmKernel<Record<string, Info>>(KIT_SGD_UPDATE, ({ inputs: { value, g, c }, backend }) => {
  const simd = simdKernels(backend);
  if (simd == null) throw new Error(`${KIT_SGD_UPDATE} (wasm): the kit's SIMD kernels are not loaded`);
  const size = tf.util.sizeFromShape(value.shape);
  const out = backend.makeOutput(value.shape, 'float32');
  simd.split('sgdUpdate', Math.ceil(size / 16), 16 * 2, [heapOffset(backend, value), heapOffset(backend, g), heapOffset(backend, out), size, scalarOf(backend, c)]);
  return out;
});
