import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, simdKernels } from '../simd';

/**
 * The kit's fused gradient kernels (wasm only; lib/backend/kernels/gradients.ts calls them from the gradients it
 * registers, during a first-order backward pass). Each computes in one pass what tfjs's gradient computes with
 * several full-size kernels, rounding every operation the same way: the results are tfjs's, bit for bit.
 */
export const KIT_SIGMOID_GRAD = 'KitSigmoidGrad';
export const KIT_SQUARE_GRAD = 'KitSquareGrad';
export const KIT_RELU_GRAD = 'KitReluGrad';
export const KIT_BATCH_NORM_GRAD = 'KitBatchNormGrad';

/** An element-wise fused gradient (dy and one saved tensor of the same shape, float32). */
function elementwise(kernelName: string, kernel: 'sigmoidGrad' | 'squareGrad' | 'reluGrad', saved: string): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: ({ inputs, backend }) => {
      const b = backend as BackendWasm;
      const { dy } = inputs as { dy: tf.TensorInfo };
      const other = inputs[saved] as tf.TensorInfo;
      const simd = simdKernels(b);
      if (simd == null) throw new Error(`${kernelName} (wasm): the kit's SIMD kernels are not loaded`);
      const size = tf.util.sizeFromShape(dy.shape);
      const out = b.makeOutput(dy.shape, 'float32');
      simd.split(kernel, Math.ceil(size / 16), 16 * 3, [heapOffset(b, dy), heapOffset(b, other), heapOffset(b, out), size]);
      return out;
    },
  };
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
export const kitBatchNormGradConfig: tf.KernelConfig = {
  kernelName: KIT_BATCH_NORM_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const b = backend as BackendWasm;
    const { x, dy, mean, scale, r, m, nr } = inputs as Record<string, tf.TensorInfo>;
    const simd = simdKernels(b);
    if (simd == null) throw new Error(`${KIT_BATCH_NORM_GRAD} (wasm): the kit's SIMD kernels are not loaded`);
    const c = x.shape[x.shape.length - 1];
    const rows = tf.util.sizeFromShape(x.shape) / c;
    const dx = b.makeOutput(x.shape, 'float32');
    const sums = [0, 1, 2, 3].map(() => b.makeOutput([c], 'float32'));
    const acc = b.makeOutput([8 * c], 'float32'); // 4 × c float64 sums
    try {
      (b.typedArrayFromHeap(acc) as Float32Array).fill(0);
      const at = (t: tf.TensorInfo) => heapOffset(b, t);
      simd.split('batchNormGrad', c / 4, rows * 4 * 12, [
        at(x), at(dy), at(mean), at(scale), at(r), at(m), at(nr), at(dx), at(acc), ...sums.map(at), rows, c,
      ]);
    } finally {
      b.disposeData(acc.dataId);
    }
    return [dx, ...sums];
  },
};

export const KIT_CHANNEL_SUM = 'KitChannelSum';
export const KIT_BATCH_NORM_FINISH_DX = 'KitBatchNormFinishDx';
export const KIT_SWISH_GRAD = 'KitSwishGrad';

/** Per-channel sums of x [.., c] (kind 0), (x − mean)² (kind 1) or k·((x − mean)·2) (kind 2), times `scale`: [c]. */
export const kitChannelSumConfig: tf.KernelConfig = {
  kernelName: KIT_CHANNEL_SUM,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const b = backend as BackendWasm;
    const { x, mean, k } = inputs as Record<string, tf.TensorInfo>;
    const { kind, scale } = attrs as unknown as { kind: number; scale: number };
    const simd = simdKernels(b);
    if (simd == null) throw new Error(`${KIT_CHANNEL_SUM} (wasm): the kit's SIMD kernels are not loaded`);
    const c = x.shape[x.shape.length - 1];
    const rows = tf.util.sizeFromShape(x.shape) / c;
    const out = b.makeOutput([c], 'float32');
    const acc = b.makeOutput([2 * c], 'float32'); // c float64 sums
    try {
      (b.typedArrayFromHeap(acc) as Float32Array).fill(0);
      const at = (t: tf.TensorInfo) => heapOffset(b, t);
      simd.split('channelSum', c / 4, rows * 4 * 3, [at(x), at(mean), at(k), at(acc), at(out), rows, c, kind, scale]);
    } finally {
      b.disposeData(acc.dataId);
    }
    return out;
  },
};

/** dx₁ + ds·((x − mean)·2), then + dm: the batch norm's input gradient from its three contributions (a new tensor). */
export const kitBatchNormFinishDxConfig: tf.KernelConfig = {
  kernelName: KIT_BATCH_NORM_FINISH_DX,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const b = backend as BackendWasm;
    const { x, mean, ds, dm, dx } = inputs as Record<string, tf.TensorInfo>;
    const simd = simdKernels(b);
    if (simd == null) throw new Error(`${KIT_BATCH_NORM_FINISH_DX} (wasm): the kit's SIMD kernels are not loaded`);
    const c = x.shape[x.shape.length - 1];
    const rows = tf.util.sizeFromShape(x.shape) / c;
    const out = b.makeOutput(x.shape, 'float32');
    // The kernel updates its dx argument in place: work on a copy so the input stays as the engine knows it.
    (b.typedArrayFromHeap(out) as Float32Array).set(b.typedArrayFromHeap(dx) as Float32Array);
    const at = (t: tf.TensorInfo) => heapOffset(b, t);
    simd.split('batchNormFinishDx', rows, c * 6, [at(x), at(mean), at(ds), at(dm), at(out), c]);
    return out;
  },
};

/** Swish's gradient from dy, x and s = sigmoid(x). */
export const kitSwishGradConfig: tf.KernelConfig = {
  kernelName: KIT_SWISH_GRAD,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const b = backend as BackendWasm;
    const { dy, x, s } = inputs as Record<string, tf.TensorInfo>;
    const simd = simdKernels(b);
    if (simd == null) throw new Error(`${KIT_SWISH_GRAD} (wasm): the kit's SIMD kernels are not loaded`);
    const size = tf.util.sizeFromShape(dy.shape);
    const out = b.makeOutput(dy.shape, 'float32');
    simd.split('swishGrad', Math.ceil(size / 16), 16 * 6, [heapOffset(b, dy), heapOffset(b, x), heapOffset(b, s), heapOffset(b, out), size]);
    return out;
  },
};
