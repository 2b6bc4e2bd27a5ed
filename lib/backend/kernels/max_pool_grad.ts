import * as tf from '@tensorflow/tfjs';
import { originalWasmKernel, runProgram } from './compose';

/**
 * MaxPoolGrad for wasm, replacing the backend's own kernel (the largest single cost of a training step of
 * the reference CNN once the convolution gradients were fast).
 *
 * The wasm backend's MaxPoolWithArgmax finds, per window, the flat index of the (first) maximum; dx is dy
 * scattered to those indices with ScatterNd, which sums where overlapping windows pick the same input.
 * That kernel starts each window's search at FLT_MIN (the smallest positive float), so a window whose values
 * are all ≤ 0 — common after ReLU — reports index 0; the input is therefore shifted to x − min(x) + 1 ≥ 1
 * first (order and ties preserved). Explicit numeric pads or a rounding mode fall back to the backend's own
 * kernel.
 */
export const maxPoolGradConfig: tf.KernelConfig = {
  kernelName: tf.MaxPoolGrad,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, backend, attrs } = args;
    const { dy, input } = inputs as { dy: tf.TensorInfo; input: tf.TensorInfo };
    const { filterSize, strides, pad, dimRoundingMode } = attrs as unknown as tf.MaxPoolGradAttrs;
    if ((pad !== 'same' && pad !== 'valid') || dimRoundingMode != null || input.dtype !== 'float32') {
      return originalWasmKernel(tf.MaxPoolGrad).kernelFunc(args);
    }
    const size = tf.util.sizeFromShape(input.shape);
    const outSize = tf.util.sizeFromShape(dy.shape);
    return runProgram(backend, (p) => {
      const axes = input.shape.map((_, i) => i);
      const min = p.run('Min', { x: input }, { axis: axes, keepDims: false });
      const one = p.run('Fill', {}, { shape: [], value: 1, dtype: 'float32' });
      const offset = p.run('Sub', { a: min, b: one });
      const positive = p.run('Sub', { a: input, b: offset });
      const [, argmax] = p.runMulti(
        'MaxPoolWithArgmax',
        { x: positive },
        { filterSize, strides, pad, includeBatchInIndex: true },
      );
      const indices = p.reshape(argmax, [outSize, 1]);
      const updates = p.reshape(dy, [outSize]);
      const dx = p.run('ScatterNd', { indices, updates }, { shape: [size] });
      return p.reshape(dx, input.shape);
    });
  },
};
