/**
 * One optimisation step. Every parameter group has its own optimizer (so a fine-tuned base can learn at a tenth of
 * the head's rate even under Adam, which normalises gradients: scaling them would not scale its steps); frozen
 * weights belong to no group and never change.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../data/types';
import { isTransfer, sparseCrossEntropy, type Trainable } from './model';

/** The optimizers `train` offers: Adam, plain SGD, SGD with momentum 0.9. */
export type OptimizerName = 'adam' | 'sgd' | 'momentum';

/** A parameter group ready to step: its variables, learning-rate multiplier and optimizer. */
export interface StepGroup {
  name: string;
  variables: tf.Variable[];
  lrScale: number;
  optimizer: tf.Optimizer;
}

function makeOptimizer(kind: OptimizerName, lr: number): tf.Optimizer {
  if (kind === 'adam') return tf.train.adam(lr);
  if (kind === 'sgd') return tf.train.sgd(lr);
  if (kind === 'momentum') return tf.train.momentum(lr, 0.9);
  throw new Error(`train: unknown optimizer '${kind as string}'; expected adam, sgd or momentum`);
}

/**
 * The trainable variables of `m` in groups with their optimizers; frozen variables (trainable false, or lrScale 0)
 * are in no group. `headOnly` keeps only the head group (features computed once).
 */
export function makeStepGroups(m: Trainable, headOnly: boolean, optimizer: OptimizerName, lr: number): StepGroup[] {
  const plain = !isTransfer(m) ? [{ name: 'all', variables: m.trainableWeights.map((v) => v.read() as tf.Variable), lrScale: 1 }] : null;
  const groups =
    plain ??
    (m as Exclude<Trainable, tf.LayersModel>).paramGroups
      .filter((g) => g.lrScale > 0 && (!headOnly || g.name === 'head'))
      .map((g) => ({ name: g.name, lrScale: g.lrScale, variables: g.variables.filter((v) => v.trainable).map((v) => v.read() as tf.Variable) }))
      .filter((g) => g.variables.length > 0);
  return groups.map((g) => ({ ...g, optimizer: makeOptimizer(optimizer, lr * g.lrScale) }));
}

/** Sets every group's learning rate to `lr × lrScale` (tfjs optimizers differ in where they keep it). */
export function setLearningRate(groups: StepGroup[], lr: number): void {
  for (const g of groups) {
    // (tfjs optimizers override instanceof, so test for the method.) SGD and momentum cache -lr in a tensor.
    const opt = g.optimizer as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
    if (typeof opt.setLearningRate === 'function') opt.setLearningRate(lr * g.lrScale);
    else opt.learningRate = lr * g.lrScale; // Adam reads it at every step
  }
}

/** Frees the groups' optimizer state. */
export function disposeStepGroups(groups: StepGroup[]): void {
  for (const g of groups) g.optimizer.dispose();
}

/** What one step measured on its batch. */
export interface StepResult {
  loss: number;
  /** Correctly classified images of the batch. */
  correct: number;
  /** Images in the batch. */
  size: number;
}

/**
 * Forward, loss, gradients and one update of every group on `batch` (whose tensors it disposes). `forward` maps the
 * batch images to outputs in training mode.
 */
export async function trainStep(
  groups: StepGroup[],
  forward: (xs: tf.Tensor4D) => tf.Tensor,
  fromProbabilities: boolean,
  batch: Batch,
): Promise<StepResult> {
  if (!batch.ys) {
    tf.dispose(batch.xs);
    throw new Error('train: a training batch has no labels (ys); expected int32 class indices');
  }
  const ys = batch.ys;
  const variables = groups.flatMap((g) => g.variables);
  const [loss, correct] = tf.tidy(() => {
    let right: tf.Scalar | null = null;
    const { value, grads } = tf.variableGrads(() => {
      const out = forward(batch.xs);
      right = tf.keep(tf.sum(tf.equal(tf.argMax(out, -1), ys.toInt())) as tf.Scalar);
      return sparseCrossEntropy(out, ys, fromProbabilities);
    }, variables);
    for (const g of groups) {
      const subset: tf.NamedTensorMap = {};
      for (const v of g.variables) subset[v.name] = grads[v.name];
      g.optimizer.applyGradients(subset);
    }
    return [value, right as unknown as tf.Scalar];
  });
  const size = batch.xs.shape[0];
  const lossValue = (await loss.data())[0];
  const correctValue = (await correct.data())[0];
  tf.dispose([loss, correct, batch.xs, ys]);
  return { loss: lossValue, correct: correctValue, size };
}
