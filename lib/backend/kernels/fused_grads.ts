import * as tf from '@tensorflow/tfjs';
import { alignedSums, heapOffset, LINE_UNITS, simdKernels } from '../simd';
import { wasmKernel, type WasmCall } from './compose';

/**
 * The kit's fused gradient kernels (wasm only; lib/backend/kernels/gradients.ts calls them from the gradients it
 * registers, during a first-order backward pass). Each computes in one pass what tfjs's gradient computes with
 * several full-size kernels, rounding every operation the same way: the results are tfjs's, bit for bit.
 */
export const KIT_SIGMOID_GRAD = 'KitSigmoidGrad';
export const KIT_SQUARE_GRAD = 'KitSquareGrad';
export const KIT_RELU_GRAD = 'KitReluGrad';
export const KIT_BATCH_NORM_GRAD = 'KitBatchNormGrad';

type SimdKernels = NonNullable<ReturnType<typeof simdKernels>>;
type Inputs = Record<string, tf.TensorInfo>;

/** What a fused kernel's body receives: its inputs and attributes, the backend, the kit's SIMD kernels and heap offsets. */
interface FusedCall<A> extends WasmCall<Inputs, A> {
  simd: SimdKernels;
  at: (t: tf.TensorInfo) => number;
}

/** A fused kernel on the kit's SIMD kernels; an error naming the kernel if they are not loaded. */
function fusedKernel<A = Record<string, never>>(kernelName: string, body: (call: FusedCall<A>) => tf.TensorInfo | tf.TensorInfo[]): tf.KernelConfig {
  return wasmKernel<Inputs, A>(kernelName, (call) => {
    const simd = simdKernels(call.backend);
    if (simd == null) throw new Error(`${kernelName} (wasm): the kit's SIMD kernels are not loaded`);
    return body({ ...call, simd, at: (t) => heapOffset(call.backend, t) });
  });
}

/** An element-wise fused gradient (dy and one saved tensor of the same shape, float32). */
function elementwise(kernelName: string, kernel: 'sigmoidGrad' | 'squareGrad' | 'reluGrad', saved: string): tf.KernelConfig {
  return fusedKernel(kernelName, ({ inputs, backend, simd, at }) => {
    const { dy } = inputs;
    const size = tf.util.sizeFromShape(dy.shape);
    const out = backend.makeOutput(dy.shape, 'float32');
    simd.split(kernel, Math.ceil(size / 16), 16 * 3, [at(dy), at(inputs[saved]), at(out), size]);
    return out;
  });
}

/** dy · (y · (1 − y)): Sigmoid's gradient from its output y. */
export const kitSigmoidGradConfig = elementwise(KIT_SIGMOID_GRAD, 'sigmoidGrad', 'y');
/** dy · (x · 2): Square's gradient. */
export const kitSquareGradConfig = elementwise(KIT_SQUARE_GRAD, 'squareGrad', 'x');
/** dy · step(x): Relu's gradient. */
export const kitReluGradConfig = elementwise(KIT_RELU_GRAD, 'reluGrad', 'x');

/**
 * FusedBatchNorm's gradient, x and dy [.., c], channel vectors mean, scale, r, m, nr (see batchNormGrad in
 * assembly/kernels.ts): outputs dx, then the gradients of mean, variance, scale and offset ([c] each).
 */
export const kitBatchNormGradConfig = fusedKernel(KIT_BATCH_NORM_GRAD, ({ inputs, backend, simd, at }) => {
  const { x, dy, mean, scale, r, m, nr } = inputs;
  const c = x.shape[x.shape.length - 1];
  const rows = tf.util.sizeFromShape(x.shape) / c;
  const dx = backend.makeOutput(x.shape, 'float32');
  const sums = [0, 1, 2, 3].map(() => backend.makeOutput([c], 'float32'));
  const acc = alignedSums(backend, 4 * c);
  try {
    simd.split('batchNormGrad', c / 4, rows * 4 * 12, [
      at(x), at(dy), at(mean), at(scale), at(r), at(m), at(nr), at(dx), acc.offset, ...sums.map(at), rows, c,
    ], LINE_UNITS);
  } finally {
    backend.disposeData(acc.info.dataId);
  }
  return [dx, ...sums];
});

export const KIT_SWISH_GRAD = 'KitSwishGrad';

/** Swish's gradient from dy, x and s = sigmoid(x). */
export const kitSwishGradConfig = fusedKernel(KIT_SWISH_GRAD, ({ inputs: { dy, x, s }, backend, simd, at }) => {
  const size = tf.util.sizeFromShape(dy.shape);
  const out = backend.makeOutput(dy.shape, 'float32');
  simd.split('swishGrad', Math.ceil(size / 16), 16 * 6, [at(dy), at(x), at(s), at(out), size]);
  return out;
});
