/**
 * The training loop: `train(model, data, opts)` fits a tf.LayersModel or a TransferModel — whole passes over the
 * data (`epochs`), or a fixed budget of optimisation steps reported in `rounds` — with per-round history, the best
 * checkpoint restored, early stopping, an in-place progress bar, and Stop (an interrupt) honoured between steps.
 * The parts: one step (step.ts), early stopping and the checkpoint (callbacks.ts), cached features (features.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG } from '../config';
import type { ProgressBar } from '../display/progress';
import type { Batch } from '../data/types';
import { interruptible, pausePoint } from '../interrupt';
import { learningRateAt, type Schedule } from './schedule';
import { batchesPerPass, countImages, endlessBatches, isImageArrays, onePass, type TrainData } from './batches';
import { BestCheckpoint, trainingProgressBar, type EarlyStoppingOptions } from './callbacks';
import { evaluateWith } from './evaluate';
import { cacheFeatures } from './features';
import { isTransfer, outputsProbabilities, unwrapModel, type Trainable, type TransferModelLike } from './model';
import { disposeStepGroups, makeStepGroups, setLearningRate, trainStep, type OptimizerName, type StepGroup } from './step';

/** Options of `train`; names follow TrainConfig (epochs, lr, batchSize, seed). Give `epochs` or `steps`. */
export interface TrainOptions {
  /** Passes over the data (one round each). */
  epochs?: number;
  /** A fixed budget of optimisation steps instead (the fair comparison gives every strategy the same number): batches are drawn pass after pass until `steps` updates are done. */
  steps?: number;
  /** With `steps`: validation / report rounds the budget is split into (default 1). */
  rounds?: number;
  /** Learning rate (of the head; each parameter group multiplies it by its lrScale). */
  lr: number;
  /** Default 'adam'. 'momentum' is SGD with momentum 0.9. */
  optimizer?: OptimizerName;
  /** Default 'constant'. */
  schedule?: Schedule;
  /** Data to compute val_loss / val_accuracy on after each round (never trained on). */
  valData?: TrainData;
  /** Stop after `patience` rounds without improvement of `monitor`; restore the best weights (default true). */
  earlyStopping?: EarlyStoppingOptions;
  /** Seeds the shuffling of ImageArrays (DataLoaders shuffle with their own seed). */
  seed: number;
  /** Images per batch for ImageArrays (default DEFAULT_CONFIG.batchSize). */
  batchSize?: number;
  /** Shuffle ImageArrays each pass (default true). */
  shuffle?: boolean;
  /** Show a progress bar (default true). */
  progress?: boolean;
  /** Label of the progress bar. */
  label?: string;
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

/** Logged after each round (an epoch, or a share of the step budget). */
export interface EpochLogs {
  /** 1-based round. */
  epoch: number;
  /** Optimisation steps done so far (all rounds). */
  steps: number;
  /** Mean training loss and accuracy over the round's batches (weighted by batch size). */
  loss: number;
  accuracy: number;
  val_loss?: number;
  val_accuracy?: number;
  /** The (head's) learning rate at the round's last step. */
  lr: number;
  /** Wall time of the round, validation included. */
  seconds: number;
  /** Training images per second (validation excluded). */
  imagesPerSec: number;
}

/** What `train` returns. */
export interface History {
  /** One entry per round. */
  epochs: EpochLogs[];
  /** The same numbers column-wise, like Keras' `history.history`. */
  history: Record<'loss' | 'accuracy' | 'val_loss' | 'val_accuracy' | 'lr' | 'seconds' | 'imagesPerSec', number[]>;
  /** 1-based round whose weights the model holds after a best-checkpoint restore; null when not restored. */
  bestEpoch: number | null;
  /** True when early stopping ended training before the last round. */
  stoppedEarly: boolean;
  /** Optimisation steps done. */
  steps: number;
  /** Total wall time. */
  seconds: number;
}

function checkOptions(opts: TrainOptions): void {
  const positive = (v: number | undefined) => v !== undefined && Number.isInteger(v) && v >= 1;
  if (opts.epochs !== undefined && opts.steps !== undefined) {
    throw new Error('train: give either epochs (passes over the data) or steps (a budget of optimisation steps, reported in `rounds`), not both');
  }
  if (opts.steps === undefined && !positive(opts.epochs)) throw new Error(`train: epochs must be a positive integer, got ${opts.epochs}`);
  if (opts.steps !== undefined && !positive(opts.steps)) throw new Error(`train: steps must be a positive integer, got ${opts.steps}`);
  if (opts.rounds !== undefined && (opts.steps === undefined || !positive(opts.rounds))) {
    throw new Error(`train: rounds (${opts.rounds}) needs steps and must be a positive integer; with epochs every epoch is a round`);
  }
  if (!(opts.lr > 0)) throw new Error(`train: lr must be positive, got ${opts.lr}`);
  if (!Number.isFinite(opts.seed)) throw new Error(`train: seed must be a number (the same seed gives the same numbers), got ${opts.seed}`);
}

/** Everything a run needs, prepared once: the data (features when cached), the forward pass, groups, counts. */
interface Run {
  opts: TrainOptions;
  data: TrainData;
  valData?: TrainData;
  forward: (xs: tf.Tensor4D, training: boolean) => tf.Tensor;
  trained: tf.LayersModel;
  fromProbabilities: boolean;
  groups: StepGroup[];
  batchSize: number;
  rounds: number;
  perPass: number | null;
  totalSteps: number | null;
  stepsPerRound: number | null;
  stream: AsyncGenerator<{ batch: Batch; pass: number }, void, undefined> | null;
  bar: ProgressBar | null;
  step: number;
  lr: number;
}

async function prepareRun(model: Trainable, data: TrainData, opts: TrainOptions): Promise<Run> {
  const full = unwrapModel(model);
  const batchSize = opts.batchSize ?? DEFAULT_CONFIG.batchSize;
  // Features computed once: the frozen base runs over train and val data a single time; only the head trains.
  const cached = isTransfer(model) && model.cacheFeatures === true && model.base !== undefined && model.head !== undefined;
  let run: Pick<Run, 'data' | 'valData' | 'forward' | 'trained'> = { data, valData: opts.valData, trained: full, forward: (xs, training) => full.apply(xs, { training }) as tf.Tensor };
  if (cached) {
    const tm = model as Required<Pick<TransferModelLike, 'base' | 'head'>> & TransferModelLike;
    const valData = opts.valData ? await cacheFeatures(tm.base, opts.valData, 64, opts.seed) : undefined;
    run = { data: await cacheFeatures(tm.base, data, 64, opts.seed), valData, trained: tm.head, forward: (xs, training) => tm.head.apply(tf.reshape(xs, [xs.shape[0], xs.shape[3]]), { training }) as tf.Tensor };
  } else if (isImageArrays(data)) {
    countImages(data, 'train data');
  }
  const groups = makeStepGroups(model, cached, opts.optimizer ?? 'adam', opts.lr);
  if (groups.length === 0) throw new Error(`train: model '${full.name}' has no trainable weights (everything frozen?)`);
  const perPass = batchesPerPass(run.data, batchSize);
  const rounds = opts.steps !== undefined ? Math.min(opts.rounds ?? 1, opts.steps) : (opts.epochs as number);
  const totalSteps = opts.steps ?? (perPass !== null ? perPass * rounds : null);
  const stepsPerRound = opts.steps !== undefined ? Math.ceil(opts.steps / rounds) : null;
  const stream = stepsPerRound !== null ? endlessBatches(run.data, { batchSize, shuffle: opts.shuffle ?? true, seed: opts.seed }) : null;
  const bar = trainingProgressBar(opts.progress !== false, totalSteps ?? rounds, opts.label ?? `train ${full.name}`);
  return { ...run, opts, fromProbabilities: outputsProbabilities(full), groups, batchSize, rounds, perPass, totalSteps, stepsPerRound, stream, bar, step: 0, lr: opts.lr };
}

/** The batches of one round: the next share of the step budget, or one whole pass. */
async function* roundBatches(run: Run, round: number): AsyncGenerator<Batch> {
  if (run.stream && run.stepsPerRound !== null) {
    const target = Math.min(run.opts.steps as number, round * run.stepsPerRound);
    while (run.step < target) {
      const next = await run.stream.next();
      if (next.done) return;
      yield next.value.batch;
    }
    return;
  }
  for await (const b of onePass(run.data, { batchSize: run.batchSize, shuffle: run.opts.shuffle ?? true, seed: run.opts.seed, pass: round - 1 })) yield b;
}

/** Trains one round and returns its logs (validation included). */
async function runRound(run: Run, round: number, history: History): Promise<EpochLogs> {
  const t0 = performance.now();
  const acc = { loss: 0, correct: 0, n: 0 };
  const fields = (extra: Record<string, string | number>) => ({ epoch: `${round}/${run.rounds}`, ...extra });
  for await (const batch of roundBatches(run, round)) {
    const progress = run.totalSteps !== null ? run.step / run.totalSteps : (round - 1) / run.rounds;
    run.lr = learningRateAt(run.opts.schedule ?? 'constant', run.opts.lr, progress);
    setLearningRate(run.groups, run.lr);
    const s = await trainStep(run.groups, (xs) => run.forward(xs, true), run.fromProbabilities, batch);
    if (!Number.isFinite(s.loss)) throw new Error(`train: loss became ${s.loss} at step ${run.step + 1} (lr ${run.lr}); lower the learning rate`);
    run.step++;
    acc.loss += s.loss * s.size;
    acc.correct += s.correct;
    acc.n += s.size;
    const seconds = (performance.now() - t0) / 1000;
    const batchField = run.perPass !== null ? `${((run.step - 1) % run.perPass) + 1}/${run.perPass}` : run.step;
    run.bar?.update(run.totalSteps !== null ? run.step : round - 1, fields({ batch: batchField, loss: s.loss.toFixed(4), accuracy: (acc.correct / acc.n).toFixed(3), 'images/s': seconds > 0 ? Math.round(acc.n / seconds) : 0 }));
    await run.opts.callbacks?.onBatchEnd?.(run.step, { loss: s.loss, accuracy: s.correct / s.size, batchSize: s.size, lr: run.lr });
    await pausePoint(() => history);
  }
  if (acc.n === 0 && !run.stream) {
    throw new Error(`train: the data yielded no batches in epoch ${round}; a one-shot iterator cannot be re-read — pass a DataLoader or ImageArrays`);
  }
  const trainSeconds = (performance.now() - t0) / 1000;
  const logs: EpochLogs = { epoch: round, steps: run.step, loss: acc.n ? acc.loss / acc.n : NaN, accuracy: acc.n ? acc.correct / acc.n : NaN, lr: run.lr, seconds: 0, imagesPerSec: trainSeconds > 0 ? acc.n / trainSeconds : 0 };
  if (run.valData) {
    const v = await evaluateWith((xs) => run.forward(xs, false), run.fromProbabilities, run.valData, 64);
    logs.val_loss = v.loss;
    logs.val_accuracy = v.accuracy;
  }
  logs.seconds = (performance.now() - t0) / 1000;
  const val: Record<string, string> = logs.val_accuracy !== undefined ? { val_accuracy: logs.val_accuracy.toFixed(3) } : {};
  run.bar?.update(run.totalSteps !== null ? run.step : round, fields({ loss: logs.loss.toFixed(4), accuracy: logs.accuracy.toFixed(3), ...val, 'images/s': Math.round(logs.imagesPerSec) }));
  return logs;
}

function emptyHistory(): History {
  return { epochs: [], history: { loss: [], accuracy: [], val_loss: [], val_accuracy: [], lr: [], seconds: [], imagesPerSec: [] }, bestEpoch: null, stoppedEarly: false, steps: 0, seconds: 0 };
}

/**
 * Trains `model` (a tf.LayersModel or a TransferModel) on `data` and returns the per-round history.
 * Example: `await train(tm, trainArrays, { epochs: 5, lr: 1e-3, valData: valArrays, seed: 42 })`, or with a step
 * budget `{ steps: 150, rounds: 10, ... }`. Stop (an interrupt) ends it between steps with an InterruptedError
 * whose `partial` is the history so far.
 */
export async function train(model: Trainable, data: TrainData, opts: TrainOptions): Promise<History> {
  checkOptions(opts);
  const started = performance.now();
  const run = await prepareRun(model, data, opts);
  const history = emptyHistory();
  const es = opts.earlyStopping;
  try {
    const checkpoint = es ? new BestCheckpoint(run.trained, es, run.valData !== undefined, run.rounds) : null;
    try {
      await interruptible('kit.train', () => `after epoch ${history.epochs.length + 1} of ${run.rounds}, step ${run.step}`, async () => {
        for (let round = 1; round <= run.rounds; round++) {
          const logs = await runRound(run, round, history);
          history.epochs.push(logs);
          for (const k of Object.keys(history.history) as Array<keyof History['history']>) history.history[k].push(logs[k] ?? NaN);
          await opts.callbacks?.onEpochEnd?.(round, logs);
          if (checkpoint?.observe(round, logs)) {
            history.stoppedEarly = round < run.rounds;
            break;
          }
          if (run.stepsPerRound !== null && run.step >= (opts.steps as number)) break;
        }
      });
      if (checkpoint) history.bestEpoch = checkpoint.finish(history.epochs.length);
    } finally {
      checkpoint?.dispose();
    }
  } finally {
    if (run.stream) await run.stream.return(undefined);
    disposeStepGroups(run.groups);
    run.bar?.close();
  }
  history.steps = run.step;
  history.seconds = (performance.now() - started) / 1000;
  return history;
}
