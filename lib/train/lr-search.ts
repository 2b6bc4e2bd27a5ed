/**
 * The learning-rate search of one experiment cell (lib/train/protocol.ts's rule): for each rate of the strategy's
 * grid, a transfer model is built and trained with the budget (a wholly frozen base trains its head on features
 * cached once), the best-validation checkpoint of each run is kept, the best run is chosen on validation accuracy
 * (ties: lower validation loss) and measured once on the test images.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageArrays } from '../data/types';
import { buildTransferModel, extractFeatures, type TransferModel } from '../models/transfer';
import { FEATURE_LAYER, OUTPUT_LAYER } from '../models/zoo';
import { takeRows } from './batches';
import { predict } from './evaluate';
import { train, type History } from './loop';
import { accuracy, f1Score } from './metrics';
import { FeatureCache, headOnFeatures } from './feature-cache';
import { pausePoint } from '../interrupt';
import { cellKey, PROTOCOL, PROTOCOL_VERSION, transferOptionsOf, type Context, type ResultRow, type RunSpec } from './protocol';

/**
 * Source-task accuracy of a trained base with the source's own output layer w put back on its features: how much
 * of the source task the (fine-tuned) features still solve. Null when the base is not cut where w reads.
 */
export async function sourceTaskAccuracy(tm: TransferModel, source: tf.LayersModel, sourceTest: ImageArrays): Promise<number | null> {
  const out = source.layers.find((l) => l.name === OUTPUT_LAYER);
  if (!out) return null;
  let feeding = out.inboundNodes[0].inboundLayers[0];
  while (feeding.getClassName() === 'Dropout') feeding = feeding.inboundNodes[0].inboundLayers[0];
  if (feeding.name !== tm.cutAt) return null;
  const [kernel, bias] = out.getWeights();
  const features = extractFeatures(tm.base, sourceTest, 128);
  const predicted = tf.tidy(() => tf.argMax(tf.add(tf.matMul(features, kernel), bias), -1).dataSync() as Int32Array);
  features.dispose();
  return accuracy(sourceTest.labels, predicted);
}

/** What one learning rate gave. */
interface Trial {
  tm: TransferModel;
  lr: number;
  history: History;
  valAccuracy: number;
  valLoss: number;
}

/** Trains one transfer model at one learning rate with the budget; a frozen base trains its head on cached features. */
async function trainTrial(ctx: Context, spec: RunSpec, data: RunData, lr: number): Promise<Trial> {
  const tm = buildTransferModel(ctx.source.model, transferOptionsOf(ctx, spec, data.numClasses));
  const h = await train(tm.cacheFeatures ? headOnFeatures(tm) : tm, data.cached ? data.cached.train : data.train, {
    steps: data.steps,
    rounds: Math.min(ctx.budget.rounds, data.steps),
    lr,
    batchSize: data.batchSize,
    seed: spec.seed,
    valData: data.cached ? data.cached.val : data.val,
    earlyStopping: { patience: Infinity, monitor: 'val_accuracy', restoreBest: true },
    progress: false,
  });
  const at = (h.bestEpoch ?? h.epochs.length) - 1;
  return { tm, lr, history: h, valAccuracy: h.history.val_accuracy[at], valLoss: h.history.val_loss[at] };
}

/** The images (or cached features) of one cell. */
interface RunData {
  train: ImageArrays;
  val: ImageArrays;
  cached: { train: ImageArrays; val: ImageArrays; test: ImageArrays } | null;
  numClasses: number;
  steps: number;
  batchSize: number;
}

/** The cached features of a cell, when its transfer model has a fully frozen base. */
function cachedData(ctx: Context, spec: RunSpec, rows: { train: number[]; val: number[] }): RunData['cached'] {
  const numClasses = ctx.target.train.classes.length;
  const opts = transferOptionsOf(ctx, spec, numClasses);
  if (!opts.cacheFeatures) return null;
  const probe = buildTransferModel(ctx.source.model, { ...opts, seed: 0 });
  let caches = ctx.caches.get(probe.cutAt);
  if (!caches) ctx.caches.set(probe.cutAt, (caches = { pool: new FeatureCache(ctx.target.train), test: new FeatureCache(ctx.test) }));
  const out = { train: caches.pool.take(probe.base, rows.train), val: caches.pool.take(probe.base, rows.val), test: caches.test.take(probe.base) };
  probe.dispose();
  return out;
}

/** A row measured before that stands for this spec (same source, target, budget and data), relabelled; or null. */
export function reusableRow(ctx: Context, spec: RunSpec, rows: { train: number[]; val: number[] }): ResultRow | null {
  if (!ctx.opts.reuse || spec.copyUpTo !== undefined || (spec.cutAt !== undefined && spec.cutAt !== FEATURE_LAYER)) return null;
  const batchSize = Math.min(ctx.budget.batchSize, rows.train.length);
  const steps = Math.max(ctx.budget.steps, Math.ceil((ctx.budget.minEpochs * rows.train.length) / batchSize));
  const found = ctx.opts.reuse.find(
    (r) =>
      r.strategy === spec.strategy && r.m === spec.m && r.seed === spec.seed && (r.strategy === 'scratch' || r.cutAt === FEATURE_LAYER) &&
      r.source === ctx.source.name && r.target === ctx.target.name && r.steps === steps && r.batchSize === batchSize &&
      r.trainImages === rows.train.length && r.valImages === rows.val.length && r.testImages === ctx.test.labels.length,
  );
  return found ? { ...found, cutAt: spec.label ?? found.cutAt } : null;
}

/** One cell of an experiment: for each lr of the grid, train with the budget and keep the best; then test once. */
export async function runCell(ctx: Context, spec: RunSpec, rows: { train: number[]; val: number[] }): Promise<ResultRow> {
  const numClasses = ctx.target.train.classes.length;
  const batchSize = Math.min(ctx.budget.batchSize, rows.train.length);
  const steps = Math.max(ctx.budget.steps, Math.ceil((ctx.budget.minEpochs * rows.train.length) / batchSize));
  const cached = cachedData(ctx, spec, rows);
  const data: RunData = { train: takeRows(ctx.target.train, rows.train), val: takeRows(ctx.target.train, rows.val), cached, numClasses, steps, batchSize };
  let best: Trial | null = null;
  const lrSearch: ResultRow['lrSearch'] = [];
  for (const lr of ctx.grid(spec)) {
    await pausePoint(() => ctx.rowsSoFar);
    const trial = await trainTrial(ctx, spec, data, lr);
    lrSearch.push({ lr, valAccuracy: trial.valAccuracy, valLoss: trial.valLoss });
    ctx.tick(`${spec.strategy} m=${spec.m} seed=${spec.seed} lr=${lr}${spec.label ? ` cut=${spec.label}` : ''}`);
    const better = best === null || trial.valAccuracy > best.valAccuracy || (trial.valAccuracy === best.valAccuracy && trial.valLoss < best.valLoss);
    if (better) {
      best?.tm.dispose();
      best = trial;
    } else trial.tm.dispose();
  }
  if (!best) throw new Error(`experiment: empty learning-rate grid for ${spec.strategy}`);
  if (ctx.opts.lrSearch === 'first-seed' && spec.seed === ctx.firstSeed) ctx.firstChoice.set(cellKey(spec), best.lr);
  const predicted = cached ? await predict(headOnFeatures(best.tm), cached.test, { batchSize: 256 }) : await predict(best.tm, ctx.test, { batchSize: 128 });
  const row = rowOf(ctx, spec, best, lrSearch, predicted, data);
  row.sourceAccuracy = ctx.sourceTest ? await sourceTaskAccuracy(best.tm, ctx.source.model, ctx.sourceTest) : null;
  best.tm.dispose();
  return row;
}

function rowOf(ctx: Context, spec: RunSpec, best: Trial, lrSearch: ResultRow['lrSearch'], predicted: Int32Array, data: RunData): ResultRow {
  const numClasses = data.numClasses;
  const group = best.tm.paramGroups.find((g) => g.name === 'base');
  return {
    strategy: spec.strategy,
    m: spec.m,
    seed: spec.seed,
    lr: best.lr,
    accuracy: accuracy(ctx.test.labels, predicted),
    macroF1: f1Score(ctx.test.labels, predicted, { average: 'macro', numClasses, zeroDivision: 0 }),
    seconds: Math.round(best.history.seconds * 100) / 100,
    steps: data.steps,
    valAccuracy: best.valAccuracy,
    lrSearch,
    valCurve: best.history.epochs.map((e) => ({ step: e.steps, valAccuracy: e.val_accuracy ?? NaN })),
    cutAt: spec.label ?? best.tm.cutAt,
    trainableParams: best.tm.trainableParams,
    sourceAccuracy: null,
    baseLrScale: group && group.variables.length > 0 ? group.lrScale : null,
    batchNorm: best.tm.batchNorm,
    source: ctx.source.name,
    target: ctx.target.name,
    trainImages: data.train.labels.length,
    valImages: data.val.labels.length,
    testImages: ctx.test.labels.length,
    batchSize: data.batchSize,
    protocol: PROTOCOL_VERSION,
    protocolText: PROTOCOL,
    backend: tf.getBackend(),
  };
}
