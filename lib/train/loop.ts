/**
 * The training loop: `train(model, data, opts)` with one optimizer per parameter group (so a fine-tuned
 * base can learn at a tenth of the head's rate even under Adam), frozen weights left alone, sparse softmax
 * cross-entropy on int32 labels, per-epoch history, best-checkpoint restore, early stopping, an in-place
 * progress bar, and an optional fixed budget of optimisation steps. `evaluate` and `predict` read the same
 * kinds of data.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG } from '../config';
import type { Batch, ImageArrays } from '../data/types';
import { batchesPerPass, countImages, isImageArrays, onePass, endlessBatches, type TrainData } from './batches';
import { learningRateAt, type Schedule } from './schedule';
import { makeProgressBar, type ProgressLike } from './show';

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
  /** 'additional-layers': compute the base's features once and train only the head on them. */
  cacheFeatures?: boolean;
}

/** A model `train` can fit. */
export type Trainable = tf.LayersModel | TransferModelLike;

/** Options of `train`; names follow TrainConfig (epochs, lr, batchSize, seed). */
export interface TrainOptions {
  /** Passes over the data; with `steps`, the number of reporting rounds the step budget is split into. */
  epochs: number;
  /** Learning rate (of the head; each parameter group multiplies it by its lrScale). */
  lr: number;
  /** Default 'adam'. 'momentum' is SGD with momentum 0.9. */
  optimizer?: 'adam' | 'sgd' | 'momentum';
  /** Default 'constant'. */
  schedule?: Schedule;
  /** Data to compute val_loss / val_accuracy on after each epoch (never trained on). */
  valData?: TrainData;
  /** Stop after `patience` epochs without improvement of `monitor`; restore the best weights (default true). */
  earlyStopping?: { patience: number; monitor?: 'val_loss' | 'val_accuracy' | 'loss' | 'accuracy'; restoreBest?: boolean };
  /** Seeds the shuffling of ImageArrays (DataLoaders shuffle with their own seed). */
  seed: number;
  /** Images per batch for ImageArrays (default DEFAULT_CONFIG.batchSize). */
  batchSize?: number;
  /** Shuffle ImageArrays each epoch (default true). */
  shuffle?: boolean;
  /** Show a progress bar (default true; off when lib/display has none). */
  progress?: boolean;
  /** Label of the progress bar. */
  label?: string;
  /**
   * A fixed budget of optimisation steps instead of whole epochs (the fair comparison gives every strategy the
   * same number): batches are drawn pass after pass until `steps` updates are done, reported in `epochs` rounds.
   */
  steps?: number;
  callbacks?: {
    onBatchEnd?: (step: number, logs: BatchLogs) => void | Promise<void>;
    onEpochEnd?: (epoch: number, logs: EpochLogs) => void | Promise<void>;
  };
}

/** Logged after each optimisation step. */
export interface BatchLogs {
  loss: number;
  accuracy: number;
  batchSize: number;
  lr: number;
}

/** Logged after each epoch (or reporting round). */
export interface EpochLogs {
  /** 1-based. */
  epoch: number;
  /** Optimisation steps done so far (all epochs). */
  steps: number;
  /** Mean training loss and accuracy over the epoch's batches (weighted by batch size). */
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  /** The (head's) learning rate at the epoch's last step. */
  lr: number;
  /** Wall time of the epoch, validation included. */
  seconds: number;
  /** Training images per second (validation excluded). */
  imagesPerSec: number;
}

/** What `train` returns. */
export interface History {
  /** One entry per epoch. */
  epochs: EpochLogs[];
  /** The same numbers column-wise, like Keras' `history.history`. */
  history: Record<'loss' | 'accuracy' | 'val_loss' | 'val_accuracy' | 'lr' | 'seconds' | 'imagesPerSec', number[]>;
  /** 1-based epoch whose weights the model holds after a best-checkpoint restore; null when not restored. */
  bestEpoch: number | null;
  /** True when early stopping ended training before the last epoch. */
  stoppedEarly: boolean;
  /** Optimisation steps done. */
  steps: number;
  /** Total wall time. */
  seconds: number;
}

/** Result of `evaluate`. */
export interface EvalResult {
  loss: number;
  accuracy: number;
  /** Images evaluated. */
  n: number;
}

function isTransfer(m: Trainable): m is TransferModelLike {
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

function makeOptimizer(kind: 'adam' | 'sgd' | 'momentum', lr: number): tf.Optimizer {
  if (kind === 'adam') return tf.train.adam(lr);
  if (kind === 'sgd') return tf.train.sgd(lr);
  if (kind === 'momentum') return tf.train.momentum(lr, 0.9);
  throw new Error(`train: unknown optimizer '${kind as string}'; expected adam, sgd or momentum`);
}

function setOptimizerLr(opt: tf.Optimizer, lr: number): void {
  // (tfjs optimizers override instanceof, so test for the method.) SGD and momentum cache -lr in a tensor.
  const withSetter = opt as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
  if (typeof withSetter.setLearningRate === 'function') withSetter.setLearningRate(lr);
  else withSetter.learningRate = lr; // Adam reads it at every step
}

interface Group {
  name: string;
  variables: tf.Variable[];
  lrScale: number;
  optimizer: tf.Optimizer;
}

/** Trainable variables per group; frozen variables (trainable false, or lrScale 0) are in no group. */
function paramGroupsOf(m: Trainable, trainHeadOnly: boolean): Array<{ name: string; variables: tf.Variable[]; lrScale: number }> {
  if (!isTransfer(m)) return [{ name: 'all', variables: m.trainableWeights.map((v) => v.read() as tf.Variable), lrScale: 1 }];
  return m.paramGroups
    .filter((g) => g.lrScale > 0 && (!trainHeadOnly || g.name === 'head'))
    .map((g) => ({ name: g.name, lrScale: g.lrScale, variables: g.variables.filter((v) => v.trainable).map((v) => v.read() as tf.Variable) }))
    .filter((g) => g.variables.length > 0);
}

/** Feature vectors of every image of `data`, computed once by a frozen base (for 'additional-layers'). */
async function cacheFeatures(base: tf.LayersModel, data: TrainData, batchSize: number, seed: number): Promise<ImageArrays> {
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  let dim = 0;
  for await (const batch of onePass(data, { batchSize, shuffle: false, seed, pass: 0 })) {
    const feats = tf.tidy(() => base.predict(batch.xs) as tf.Tensor2D);
    dim = feats.shape[1];
    chunks.push((await feats.data()) as Float32Array);
    if (!batch.ys) throw new Error('train: a training batch has no labels (ys); expected int32 class indices');
    labels.push(...(await batch.ys.data()));
    tf.dispose([feats, batch.xs, batch.ys]);
  }
  const images = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    images.set(c, off);
    off += c.length;
  }
  // Stored as 1×1×dim "images" so the same batching code serves; the forward pass reshapes to [n, dim].
  return { images, labels: Int32Array.from(labels), height: 1, width: 1, channels: dim, classes: isImageArrays(data) ? data.classes : [] };
}

/** Weights copied in memory (tf.clone shares the buffer until the variable is assigned a new value). */
function snapshot(model: tf.LayersModel): tf.Tensor[] {
  return model.weights.map((w) => tf.clone(w.read()));
}

function restore(model: tf.LayersModel, saved: tf.Tensor[]): void {
  model.weights.forEach((w, i) => w.write(saved[i]));
}

/** Mean loss and accuracy of `forward` over one unshuffled pass of `data`. */
async function evaluateWith(
  forward: (xs: tf.Tensor4D) => tf.Tensor,
  fromProbabilities: boolean,
  data: TrainData,
  batchSize: number,
): Promise<EvalResult> {
  let lossSum = 0;
  let correct = 0;
  let n = 0;
  for await (const batch of onePass(data, { batchSize, shuffle: false, seed: 0, pass: 0 })) {
    if (!batch.ys) {
      tf.dispose(batch.xs);
      throw new Error('evaluate: a batch has no labels (ys); expected int32 class indices');
    }
    const ys = batch.ys;
    const [loss, right] = tf.tidy(() => {
      const out = forward(batch.xs);
      return [sparseCrossEntropy(out, ys, fromProbabilities), tf.sum(tf.equal(tf.argMax(out, -1), ys.toInt()))];
    });
    const size = batch.xs.shape[0];
    lossSum += (await loss.data())[0] * size;
    correct += (await right.data())[0];
    n += size;
    tf.dispose([loss, right, batch.xs, ys]);
  }
  if (n === 0) throw new Error('evaluate: the data yielded no images');
  return { loss: lossSum / n, accuracy: correct / n, n };
}

/** Loss and accuracy of a model on labelled data (inference mode). */
export async function evaluate(model: Trainable, data: TrainData, opts: { batchSize?: number } = {}): Promise<EvalResult> {
  const m = unwrapModel(model);
  return evaluateWith((xs) => m.apply(xs, { training: false }) as tf.Tensor, outputsProbabilities(m), data, opts.batchSize ?? 64);
}

/** Predicted class ids (argmax) for every image of `data`, in order; with `probabilities`, also the class probabilities. */
export async function predict(model: Trainable, data: TrainData, opts?: { batchSize?: number; probabilities?: false }): Promise<Int32Array>;
export async function predict(
  model: Trainable,
  data: TrainData,
  opts: { batchSize?: number; probabilities: true },
): Promise<{ classes: Int32Array; probabilities: Float32Array; numClasses: number }>;
export async function predict(
  model: Trainable,
  data: TrainData,
  opts: { batchSize?: number; probabilities?: boolean } = {},
): Promise<Int32Array | { classes: Int32Array; probabilities: Float32Array; numClasses: number }> {
  const m = unwrapModel(model);
  const fromProbabilities = outputsProbabilities(m);
  const classes: number[] = [];
  const probs: Float32Array[] = [];
  let numClasses = 0;
  for await (const batch of onePass(data, { batchSize: opts.batchSize ?? 64, shuffle: false, seed: 0, pass: 0 })) {
    const [ids, p] = tf.tidy(() => {
      const out = m.apply(batch.xs, { training: false }) as tf.Tensor2D;
      const pr = fromProbabilities ? out : tf.softmax(out);
      return [tf.argMax(out, -1), opts.probabilities ? pr : null];
    });
    classes.push(...(await ids.data()));
    if (p) {
      numClasses = p.shape[1] as number;
      probs.push((await p.data()) as Float32Array);
    }
    tf.dispose([ids, p ?? [], batch.xs, batch.ys ?? []]);
  }
  const out = Int32Array.from(classes);
  if (!opts.probabilities) return out;
  const flat = new Float32Array(probs.reduce((s, c) => s + c.length, 0));
  let off = 0;
  for (const c of probs) {
    flat.set(c, off);
    off += c.length;
  }
  return { classes: out, probabilities: flat, numClasses };
}

function checkOptions(opts: TrainOptions): void {
  if (!Number.isInteger(opts.epochs) || opts.epochs < 1) throw new Error(`train: epochs must be a positive integer, got ${opts.epochs}`);
  if (!(opts.lr > 0)) throw new Error(`train: lr must be positive, got ${opts.lr}`);
  if (opts.steps !== undefined && (!Number.isInteger(opts.steps) || opts.steps < 1)) {
    throw new Error(`train: steps must be a positive integer, got ${opts.steps}`);
  }
  if (!Number.isFinite(opts.seed)) throw new Error(`train: seed must be a number (the same seed gives the same numbers), got ${opts.seed}`);
}

/**
 * Trains `model` (a tf.LayersModel or a TransferModel) on `data` and returns the per-epoch history.
 * Example: `const h = await train(tm, trainArrays, { epochs: 5, lr: 1e-3, valData: valArrays, seed: 42 })`.
 */
export async function train(model: Trainable, data: TrainData, opts: TrainOptions): Promise<History> {
  checkOptions(opts);
  const batchSize = opts.batchSize ?? DEFAULT_CONFIG.batchSize;
  const shuffle = opts.shuffle ?? true;
  const schedule = opts.schedule ?? 'constant';
  const full = unwrapModel(model);
  const fromProbabilities = outputsProbabilities(full);
  const started = performance.now();

  // 'additional-layers': the frozen base runs once over train and val data; only the head trains.
  const cached = isTransfer(model) && model.cacheFeatures === true && model.base !== undefined && model.head !== undefined;
  let trainData = data;
  let valData = opts.valData;
  let trained: tf.LayersModel = full;
  let forward = (xs: tf.Tensor4D, training: boolean) => full.apply(xs, { training }) as tf.Tensor;
  if (cached) {
    const tm = model as Required<Pick<TransferModelLike, 'base' | 'head'>> & TransferModelLike;
    trainData = await cacheFeatures(tm.base, data, 64, opts.seed);
    if (valData) valData = await cacheFeatures(tm.base, valData, 64, opts.seed);
    trained = tm.head;
    forward = (xs, training) => tm.head.apply(tf.reshape(xs, [xs.shape[0], xs.shape[3]]), { training }) as tf.Tensor;
  } else if (isImageArrays(data)) {
    countImages(data, 'train data');
  }

  const groups: Group[] = paramGroupsOf(model, cached).map((g) => ({
    ...g,
    optimizer: makeOptimizer(opts.optimizer ?? 'adam', opts.lr * g.lrScale),
  }));
  if (groups.length === 0) throw new Error(`train: model '${full.name}' has no trainable weights (everything frozen?)`);
  const variables = groups.flatMap((g) => g.variables);

  const perPass = batchesPerPass(trainData, batchSize);
  const totalSteps = opts.steps ?? (perPass !== null ? perPass * opts.epochs : null);
  const stepsPerRound = opts.steps !== undefined ? Math.ceil(opts.steps / opts.epochs) : null;
  const es = opts.earlyStopping;
  const monitor = es?.monitor ?? (valData ? 'val_loss' : 'loss');
  if (monitor.startsWith('val_') && !valData) throw new Error(`train: earlyStopping monitors '${monitor}' but no valData was given`);
  const restoreBest = es !== undefined && es.restoreBest !== false;

  const bar: ProgressLike | null =
    opts.progress === false ? null : makeProgressBar(totalSteps ?? opts.epochs, opts.label ?? `train ${full.name}`);
  const history: History = {
    epochs: [],
    history: { loss: [], accuracy: [], val_loss: [], val_accuracy: [], lr: [], seconds: [], imagesPerSec: [] },
    bestEpoch: null,
    stoppedEarly: false,
    steps: 0,
    seconds: 0,
  };
  let best: { value: number; loss: number; epoch: number; weights: tf.Tensor[] | null } | null = null;
  let sinceBest = 0;
  let stepIndex = 0;
  let lrNow = opts.lr;
  let epochStarted = performance.now();

  const runStep = async (batch: Batch, epoch: number, acc: { loss: number; correct: number; n: number }) => {
    if (!batch.ys) {
      tf.dispose(batch.xs);
      throw new Error('train: a training batch has no labels (ys); expected int32 class indices');
    }
    const progress = totalSteps !== null ? stepIndex / totalSteps : (epoch - 1) / opts.epochs;
    lrNow = learningRateAt(schedule, opts.lr, progress);
    for (const g of groups) setOptimizerLr(g.optimizer, lrNow * g.lrScale);
    const ys = batch.ys;
    const [loss, correct] = tf.tidy(() => {
      let right: tf.Scalar | null = null;
      const { value, grads } = tf.variableGrads(() => {
        const out = forward(batch.xs, true);
        right = tf.keep(tf.sum(tf.equal(tf.argMax(out, -1), ys.toInt())) as tf.Scalar);
        return sparseCrossEntropy(out, ys, fromProbabilities);
      }, variables);
      // One optimizer per group: Adam normalises the gradient, so scaling gradients would not scale its steps.
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
    if (!Number.isFinite(lossValue)) {
      throw new Error(`train: loss became ${lossValue} at step ${stepIndex + 1} (lr ${lrNow}); lower the learning rate`);
    }
    stepIndex++;
    acc.loss += lossValue * size;
    acc.correct += correctValue;
    acc.n += size;
    const seconds = (performance.now() - epochStarted) / 1000;
    bar?.update(totalSteps !== null ? stepIndex : epoch - 1, {
      epoch: `${epoch}/${opts.epochs}`,
      batch: perPass !== null ? `${((stepIndex - 1) % perPass) + 1}/${perPass}` : stepIndex,
      loss: lossValue.toFixed(4),
      accuracy: (acc.correct / acc.n).toFixed(3),
      'images/s': seconds > 0 ? Math.round(acc.n / seconds) : 0,
    });
    await opts.callbacks?.onBatchEnd?.(stepIndex, { loss: lossValue, accuracy: correctValue / size, batchSize: size, lr: lrNow });
  };

  const stream = stepsPerRound !== null ? endlessBatches(trainData, { batchSize, shuffle, seed: opts.seed }) : null;
  try {
    for (let epoch = 1; epoch <= opts.epochs; epoch++) {
      const t0 = performance.now();
      epochStarted = t0;
      const acc = { loss: 0, correct: 0, n: 0 };
      if (stream && stepsPerRound !== null) {
        const target = Math.min(opts.steps as number, epoch * stepsPerRound);
        while (stepIndex < target) {
          const next = await stream.next();
          if (next.done) break;
          await runStep(next.value.batch, epoch, acc);
        }
      } else {
        for await (const batch of onePass(trainData, { batchSize, shuffle, seed: opts.seed, pass: epoch - 1 })) {
          await runStep(batch, epoch, acc);
        }
        if (acc.n === 0) {
          throw new Error(`train: the data yielded no batches in epoch ${epoch}; a one-shot iterator cannot be re-read — pass a DataLoader or ImageArrays`);
        }
      }
      const trainSeconds = (performance.now() - t0) / 1000;
      const logs: EpochLogs = {
        epoch,
        steps: stepIndex,
        loss: acc.n ? acc.loss / acc.n : NaN,
        accuracy: acc.n ? acc.correct / acc.n : NaN,
        lr: lrNow,
        seconds: 0,
        imagesPerSec: trainSeconds > 0 ? acc.n / trainSeconds : 0,
      };
      if (valData) {
        const v = await evaluateWith((xs) => forward(xs, false), fromProbabilities, valData, 64);
        logs.val_loss = v.loss;
        logs.val_accuracy = v.accuracy;
      }
      logs.seconds = (performance.now() - t0) / 1000;
      history.epochs.push(logs);
      for (const k of Object.keys(history.history) as Array<keyof History['history']>) history.history[k].push(logs[k] ?? NaN);
      bar?.update(totalSteps !== null ? stepIndex : epoch, {
        epoch: `${epoch}/${opts.epochs}`,
        loss: logs.loss.toFixed(4),
        accuracy: logs.accuracy.toFixed(3),
        ...(logs.val_accuracy !== undefined ? { val_accuracy: logs.val_accuracy.toFixed(3) } : {}),
        'images/s': Math.round(logs.imagesPerSec),
      });
      await opts.callbacks?.onEpochEnd?.(epoch, logs);

      if (es) {
        const value = logs[monitor] as number;
        const higherIsBetter = monitor.endsWith('accuracy');
        const improved =
          best === null ||
          (higherIsBetter ? value > best.value : value < best.value) ||
          // On a small validation set accuracies tie often: break ties by the lower loss.
          (higherIsBetter && value === best.value && (logs.val_loss ?? logs.loss) < best.loss);
        if (improved) {
          if (best?.weights) tf.dispose(best.weights);
          best = { value, loss: logs.val_loss ?? logs.loss, epoch, weights: restoreBest && epoch < opts.epochs ? snapshot(trained) : null };
          sinceBest = 0;
        } else if (++sinceBest >= es.patience) {
          history.stoppedEarly = epoch < opts.epochs;
          break;
        }
      }
      if (stepsPerRound !== null && stepIndex >= (opts.steps as number)) break;
    }
    const lastEpoch = history.epochs.length;
    if (restoreBest && best) {
      if (best.weights && best.epoch !== lastEpoch) restore(trained, best.weights);
      history.bestEpoch = best.epoch;
    }
  } finally {
    if (stream) await stream.return(undefined);
    if (best?.weights) tf.dispose(best.weights);
    for (const g of groups) g.optimizer.dispose();
    bar?.close();
  }
  history.steps = stepIndex;
  history.seconds = (performance.now() - started) / 1000;
  return history;
}
