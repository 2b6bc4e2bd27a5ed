import * as tf from '@tensorflow/tfjs';
import { middleReductionConfig } from './reduce';

/**
 * Mean for wasm over leading or middle axes of float32 tensors (batch-norm moments over [0, 1, 2],
 * squeeze-excitation's average over [1, 2]) without the backend's transpose: see reduce.ts. Innermost
 * reductions, other dtypes and interleaved axes use the backend's own kernel.
 */
export const meanConfig: tf.KernelConfig = middleReductionConfig(tf.Mean, (r) => 1 / r);
