import * as tf from '@tensorflow/tfjs';
import { middleReductionConfig } from './reduce';

/**
 * Sum for wasm over leading or middle axes of float32 tensors (e.g. [N, H, W, C] over [0, 1, 2], every
 * bias and batch-norm gradient) without the backend's transpose: see reduce.ts. Innermost reductions,
 * other dtypes and interleaved axes use the backend's own kernel.
 */
export const sumConfig: tf.KernelConfig = middleReductionConfig(tf.Sum, () => 1);
