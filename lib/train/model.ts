/**
 * What the training loop trains: a plain `tf.LayersModel`, or a transfer model (lib/models' TransferModel) whose
 * trainable weights come in parameter groups with their own learning-rate multipliers; and the loss.
 */
import * as tf from '@tensorflow/tfjs';

/** What `train` accepts besides a plain model: lib/models' TransferModel (only these fields are used). */
export interface TransferModelLike {
  strategy?: string;
  /** base → head, the whole model. */
  model: tf.LayersModel;
  /** The feature extractor (used when features are cached). */
  base?: tf.LayersModel;
  /** Features → class probabilities (used when features are cached). */
  head?: tf.LayersModel;
  /** Trainable weights grouped, each group with its learning-rate multiplier. */
  paramGroups: Array<{ name: string; variables: tf.LayerVariable[]; lrScale: number }>;
  /** Compute the frozen base's features once and train only the head on them. */
  cacheFeatures?: boolean;
}

/** A model `train` can fit. */
export type Trainable = tf.LayersModel | TransferModelLike;

/** True for a transfer model (base + head + parameter groups) rather than a plain LayersModel. */
export function isTransfer(m: Trainable): m is TransferModelLike {
  return !(m instanceof tf.LayersModel) && (m as TransferModelLike).model instanceof tf.LayersModel;
}

/** The whole model of a Trainable. */
export function unwrapModel(m: Trainable): tf.LayersModel {
  return isTransfer(m) ? m.model : m;
}

/** True when a model ends in softmax (its outputs are probabilities), false when it outputs logits. */
export function outputsProbabilities(model: tf.LayersModel): boolean {
  const last = model.layers[model.layers.length - 1];
  if (last instanceof tf.LayersModel) return outputsProbabilities(last);
  if (last.getClassName() === 'Softmax') return true;
  return (last.getConfig() as { activation?: unknown }).activation === 'softmax';
}

/**
 * Sparse softmax cross-entropy, mean over the batch: `-log p[label]`. Probabilities are clipped to
 * [1e-7, 1 − 1e-7] as Keras does; logits go through logSoftmax.
 */
export function sparseCrossEntropy(outputs: tf.Tensor, labels: tf.Tensor, fromProbabilities: boolean): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = outputs.shape[outputs.shape.length - 1] as number;
    const logP = fromProbabilities ? tf.log(tf.clipByValue(outputs, 1e-7, 1 - 1e-7)) : tf.logSoftmax(outputs);
    const oneHot = tf.oneHot(labels.toInt(), numClasses);
    return tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logP), -1))) as tf.Scalar;
  });
}
