import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { originalWasmKernel } from './compose';
import { axesOf, reducedShape, reduceMiddle, reductionView } from './reduce';

/**
 * Sum for wasm over leading or middle axes of float32 tensors (e.g. [N, H, W, C] over [0, 1, 2], every
 * bias and batch-norm gradient) without the backend's transpose: see reduce.ts. Innermost reductions,
 * other dtypes and interleaved axes use the backend's own kernel.
 */
export const sumConfig: tf.KernelConfig = {
  kernelName: tf.Sum,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: tf.TensorInfo };
    const { axis, keepDims } = attrs as unknown as tf.SumAttrs;
    const axes = axesOf(axis, x.shape.length);
    const view = x.dtype === 'float32' ? reductionView(x.shape, axes) : null;
    if (view == null) return originalWasmKernel(tf.Sum).kernelFunc(args);
    return reduceMiddle(backend as BackendWasm, x, view, reducedShape(x.shape, axes, keepDims), 1);
  },
};
