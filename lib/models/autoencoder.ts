/**
 * The unsupervised pre-training of notebook 01, small enough to run in seconds: a dense (denoising) autoencoder
 * trained on unlabelled images, and the classifiers that use it — a linear head on its frozen code, or a deep
 * classifier whose hidden layers *start* from the encoder and are then fine-tuned (the DBN-era recipe), next to
 * the same classifier started from a modern random initialisation (Glorot & Bengio, 2010). Every initialiser
 * and mask is seeded; training is full-batch (or fixed-order mini-batch) Adam, so a seed gives the same numbers.
 */
import * as tf from '@tensorflow/tfjs';
import { interruptible, pausePoint } from '../interrupt';

/** Sizes of the autoencoder: input width and the encoder's hidden widths (the last is the code). */
export interface AutoencoderOptions {
  inputSize: number;
  /** Encoder widths, e.g. [128, 32]; the decoder mirrors them. */
  hidden: number[];
  seed: number;
}

/** An encoder (input → code) and a decoder (code → input) and the autoencoder that chains them. */
export interface Autoencoder {
  encoder: tf.Sequential;
  decoder: tf.Sequential;
  autoencoder: tf.Sequential;
}

function dense(units: number, activation: 'relu' | 'sigmoid' | 'softmax' | 'linear', seed: number, inputShape?: number[], zeros = false): tf.layers.Layer {
  return tf.layers.dense({
    units,
    activation,
    ...(inputShape ? { inputShape } : {}),
    kernelInitializer: zeros ? 'zeros' : tf.initializers.glorotUniform({ seed }),
  });
}

/** A ReLU autoencoder with a sigmoid output (pixels in [0, 1]); the decoder mirrors the encoder's widths. */
export function buildAutoencoder(opts: AutoencoderOptions): Autoencoder {
  if (opts.hidden.length === 0) throw new Error('buildAutoencoder: hidden must list at least one width (the code)');
  const { inputSize, hidden, seed } = opts;
  const encoder = tf.sequential({ name: 'encoder', layers: hidden.map((u, i) => dense(u, 'relu', seed * 10 + i, i === 0 ? [inputSize] : undefined)) });
  const back = [...hidden.slice(0, -1)].reverse();
  const decoder = tf.sequential({
    name: 'decoder',
    layers: [...back.map((u, i) => dense(u, 'relu', seed * 10 + 5 + i, i === 0 ? [hidden[hidden.length - 1]] : undefined)), dense(inputSize, 'sigmoid', seed * 10 + 9, back.length ? undefined : [hidden[hidden.length - 1]])],
  });
  return { encoder, decoder, autoencoder: tf.sequential({ layers: [encoder, decoder] }) };
}

/** Options of `trainDenoisingAutoencoder`. */
export interface DenoisingOptions {
  epochs: number;
  batchSize: number;
  /** Fraction of input pixels set to 0 (a seeded mask drawn once); the target is the clean image. */
  maskFraction: number;
  lr: number;
  seed: number;
}

/** Train the autoencoder to rebuild clean images from masked ones (binary cross-entropy); returns the loss per epoch. */
export async function trainDenoisingAutoencoder(ae: Autoencoder, x: tf.Tensor2D, opts: DenoisingOptions): Promise<number[]> {
  const masked = tf.tidy(() => tf.mul(x, tf.greater(tf.randomUniform(x.shape, 0, 1, 'float32', opts.seed), opts.maskFraction).cast('float32')));
  ae.autoencoder.compile({ optimizer: tf.train.adam(opts.lr), loss: 'binaryCrossentropy' });
  // fixed order, no shuffling: the same seed gives the same run (fit's own shuffle is not seeded)
  const history = await ae.autoencoder.fit(masked, x, { epochs: opts.epochs, batchSize: opts.batchSize, shuffle: false, verbose: 0 });
  masked.dispose();
  return history.history.loss as number[];
}

/** Options of `buildClassifier`. */
export interface ClassifierOptions {
  inputSize: number;
  /** Hidden ReLU widths ([] = a linear softmax head). */
  hidden: number[];
  classes: number;
  seed: number;
  /** Start the hidden layers from this encoder's weights (same widths) instead of a random initialisation. */
  startFrom?: tf.Sequential;
  /** Zero-initialised output layer (a linear probe's usual start). */
  zeroHead?: boolean;
}

/** A softmax classifier with ReLU hidden layers, randomly initialised (Glorot uniform) or started from an encoder. */
export function buildClassifier(opts: ClassifierOptions): tf.Sequential {
  const { inputSize, hidden, classes, seed } = opts;
  const layers = [...hidden.map((u, i) => dense(u, 'relu', seed * 10 + 20 + i, i === 0 ? [inputSize] : undefined)), dense(classes, 'softmax', seed * 10 + 29, hidden.length ? undefined : [inputSize], opts.zeroHead)];
  const model = tf.sequential({ layers });
  if (opts.startFrom) {
    const source = opts.startFrom.layers;
    if (source.length !== hidden.length) throw new Error(`buildClassifier: startFrom has ${source.length} layers but hidden lists ${hidden.length} widths`);
    source.forEach((layer, i) => {
      const w = layer.getWeights();
      const want = model.layers[i].getWeights().map((t) => t.shape.join('×'));
      const got = w.map((t) => t.shape.join('×'));
      if (want.join() !== got.join()) throw new Error(`buildClassifier: encoder layer ${i} has weights [${got}] but the classifier's layer ${i} needs [${want}]`);
      model.layers[i].setWeights(w);
    });
  }
  return model;
}

/** Full-batch Adam steps on the cross-entropy of `model` (all layers trainable); returns the final loss. */
export async function trainFullBatch(model: tf.LayersModel, x: tf.Tensor2D, labels: Int32Array, opts: { steps: number; lr: number }): Promise<number> {
  const optimizer = tf.train.adam(opts.lr);
  const y = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), model.outputs[0].shape[1] as number).cast('float32'));
  let last = NaN;
  try {
    await interruptible('trainFullBatch', () => `at a full-batch step of ${opts.steps}`, async () => {
      for (let step = 0; step < opts.steps; step++) {
        const loss = optimizer.minimize(() => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.add(model.apply(x) as tf.Tensor, 1e-7))), -1))) as tf.Scalar, step === opts.steps - 1);
        if (loss) {
          last = loss.dataSync()[0];
          loss.dispose();
        }
        await pausePoint(() => ({ step, loss: last }));
      }
    });
  } finally {
    y.dispose();
    optimizer.dispose();
  }
  return last;
}

/** Test accuracy of a classifier (argmax of its outputs against the labels). */
export function classifierAccuracy(model: tf.LayersModel, x: tf.Tensor2D, labels: Int32Array): number {
  const predicted = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(-1).dataSync());
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predicted[i] === labels[i]) correct++;
  return correct / labels.length;
}
