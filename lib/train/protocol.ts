/**
 * The fair protocol every experiment of the kit runs under (`compareStrategies`, `cutSweep`):
 *
 *   1. every strategy trains for the same number of optimisation steps on the same m images per class;
 *   2. each strategy's learning rate is chosen from a grid on a validation split drawn from the target's *training*
 *      images (disjoint from the m training images; the same for every strategy), and the checkpoint with the best
 *      validation accuracy is kept;
 *   3. the chosen model is evaluated once on the test images (the target's `val` split), never seen before.
 *
 * A fully frozen base is run once per image (lib/train/feature-cache.ts): same numbers, less time.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { isQuick, quickOr } from '../config';
import type { ImageArrays } from '../data/types';
import { loadTarget, subsetPerClass, type TargetData, type TargetReadOptions } from '../data/target';
import { loadView, type ViewName } from '../data/embedded';
import { DEFAULT_SOURCE, loadSourceModel, type SourceModel } from '../models/source';
import type { Strategy, TransferOptions } from '../models/transfer';
import type { BatchNormMode } from '../models/batchnorm';
import { progressBar, type ProgressBar } from '../display/progress';
import type { FeatureCache } from './feature-cache';

/** The protocol, as written in every result row. */
export const PROTOCOL =
  'equal optimisation steps for every strategy on the same m images per class; learning rate chosen per strategy ' +
  'from its lrGrid on a validation split of the target TRAIN images (disjoint from the m, same for all strategies), ' +
  'best-validation checkpoint kept; accuracy and macro-F1 measured once on the target test images (its val split)';
/** fair-v2: per-strategy default grids wide enough that the choice is interior; frozen bases run once per image. */
export const PROTOCOL_VERSION = 'fair-v2';

/** What a run trains: a lecture strategy, or a linear probe (a linear head on the source's pooled features at a cut). */
export type RunStrategy = Strategy | 'probe';

/**
 * The default learning-rate grid of a run, measured wide enough that the choice lies inside it (docs/training.md):
 * heads on frozen features are cheap, so their grid is wide; fine-tuning's copied base learns at 0.1 × the rate, so
 * its grid sits one step higher than that of the other networks that train their convolutions.
 */
export function defaultLrGrid(kind: 'head' | 'finetune' | 'network'): readonly number[] {
  if (kind === 'head') return quickOr([1e-3, 3e-3, 1e-2, 3e-2, 1e-1], [3e-3, 3e-2]);
  if (kind === 'finetune') return quickOr([3e-3, 1e-2, 3e-2], [3e-3, 1e-2]);
  return quickOr([1e-3, 3e-3, 1e-2], [1e-3, 3e-3]);
}

/** The training budget every strategy gets. */
export interface Budget {
  /** Optimisation steps per run (default 150; quick mode 12). */
  steps?: number;
  /** At least this many passes over the m·k training images (default 10; quick 0): the budget grows to ceil(minEpochs · images / batchSize) steps at large m, the same for every strategy. */
  minEpochs?: number;
  /** Images per step (default 32; fewer when the m images are fewer). */
  batchSize?: number;
  /** Validation rounds per run: the checkpoint is chosen among these (default 10; quick 3). */
  rounds?: number;
}

/** Options shared by compareStrategies and cutSweep. */
export interface ExperimentOptions {
  /** Source model: a shipped name (default 'digits-m-0-4'), a model folder path, a loaded SourceModel or a tf.LayersModel. */
  source?: string | SourceModel | tf.LayersModel;
  /** Target: an embedded view ('digits-m-5-9'), a folder with train/ and val/ class folders, or data in memory. */
  target: string | TargetData;
  /** A count K (seeds 1..K) or explicit seeds. */
  seeds: number | number[];
  budget?: Budget;
  /** Learning rates tried: one grid for all, or one per strategy (default: `defaultLrGrid` by kind of run). */
  lrGrid?: readonly number[] | Partial<Record<RunStrategy, readonly number[]>>;
  /** Instead of a search, each strategy uses the learning rate it chose for the same seed in these rows (e.g. at another m). */
  lrFrom?: ResultRow[];
  /** Rows measured before under the same protocol (same source, target, budget and data), taken instead of re-running. */
  reuse?: ResultRow[];
  /** 'every-seed' (default): each seed searches its own rate; 'first-seed': the first seed searches, the others keep its choice. */
  lrSearch?: 'every-seed' | 'first-seed';
  /** Validation images per class drawn from the target's training images (default 20; quick 5). */
  valPerClass?: number;
  /** Test images per class (default: all of the target's test split; quick 20). */
  testPerClass?: number;
  /** Learning-rate multiplier of the copied base weights when they train (default: finetune 0.1, others 1). */
  baseLrScale?: number;
  /** Trainable batch-norm layers: 'train' (default) or 'frozen-stats' (see lib/models/batchnorm.ts). */
  batchNorm?: BatchNormMode;
  /** Source-task test images (a view name such as 'digits-m-0-4', or arrays): each row then reports `sourceAccuracy`. */
  sourceTest?: ViewName | ImageArrays;
  /** How a folder target is read (allowSingleClass, onBadImage). */
  read?: TargetReadOptions;
  /** Called with each row as soon as it is measured (the CLI prints JSON lines from here). */
  onRow?: (row: ResultRow) => void;
  /** Outer progress bar over all runs (default true). */
  progress?: boolean;
}

/** One measured run (one strategy, m, seed, and cut), with the protocol that produced it. */
export interface ResultRow {
  strategy: RunStrategy;
  m: number;
  seed: number;
  /** Learning rate chosen on the validation split. */
  lr: number;
  /** Test accuracy and macro-F1. */
  accuracy: number;
  macroF1: number;
  /** Training seconds of the chosen run (validation rounds included). */
  seconds: number;
  /** Optimisation steps of every run (the budget). */
  steps: number;
  /** Best validation accuracy of the chosen run, and of each lr tried. */
  valAccuracy: number;
  lrSearch: Array<{ lr: number; valAccuracy: number; valLoss: number }>;
  /** Validation accuracy after each round of the chosen run. */
  valCurve: Array<{ step: number; valAccuracy: number }>;
  /** Where the source was cut (probe), or copied up to (AnB / AnB+ in a cut sweep); 'none' for scratch in a sweep. */
  cutAt: string;
  /** Weights that train. */
  trainableParams: number;
  /** Source-task accuracy of the trained base with the source's own output layer put back (when `sourceTest` is given). */
  sourceAccuracy: number | null;
  baseLrScale: number | null;
  batchNorm: BatchNormMode;
  source: string;
  target: string;
  trainImages: number;
  valImages: number;
  testImages: number;
  batchSize: number;
  protocol: typeof PROTOCOL_VERSION;
  protocolText: string;
  backend: string;
}

/** One cell of an experiment. */
export interface RunSpec {
  strategy: RunStrategy;
  m: number;
  seed: number;
  /** Where the base ends (probe; or compareStrategies' cutAt). */
  cutAt?: string | number;
  /** Copy the source only up to here (AnB / AnB+). */
  copyUpTo?: string | number;
  /** The row's `cutAt` label (default: the transfer model's cut). */
  label?: string;
}

/** Everything the runs of one experiment share. */
export interface Context {
  source: { name: string; model: tf.LayersModel; owned: boolean };
  target: TargetData;
  test: ImageArrays;
  sourceTest: ImageArrays | null;
  budget: Required<Budget>;
  valPerClass: number;
  grid: (spec: RunSpec) => readonly number[];
  opts: ExperimentOptions;
  /** Frozen features per cut, for the target's pool and test images. */
  caches: Map<string, { pool: FeatureCache; test: FeatureCache }>;
  bar: ProgressBar | null;
  /** The rows measured so far (an interrupt's partial result). */
  rowsSoFar: ResultRow[];
  /** With lrSearch 'first-seed': the rate each (strategy, m, cut) chose on the first seed. */
  firstChoice: Map<string, number>;
  firstSeed: number | null;
  tick: (label: string) => void;
}

async function resolveSource(source: ExperimentOptions['source']): Promise<Context['source']> {
  if (source === undefined || typeof source === 'string') {
    const name = source ?? DEFAULT_SOURCE;
    // A path to a model folder (…/<name>/ with meta.json) or a shipped name under data/models.
    const isPath = name.includes('/') || name.includes(path.sep);
    const s = isPath ? await loadSourceModel(path.basename(path.resolve(name)), path.dirname(path.resolve(name))) : await loadSourceModel(name);
    return { name: s.name, model: s.model, owned: true };
  }
  if (source instanceof tf.LayersModel) return { name: source.name, model: source, owned: false };
  return { name: source.name, model: source.model, owned: false };
}

/** A count K (seeds 1..K) or a list, checked. */
export function seedList(seeds: number | number[]): number[] {
  if (Array.isArray(seeds)) {
    if (seeds.length === 0 || seeds.some((s) => !Number.isInteger(s))) throw new Error(`seeds: expected a non-empty list of whole numbers, got [${seeds}]`);
    return seeds;
  }
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`seeds: expected a positive count or a list of seeds, got ${seeds}`);
  return Array.from({ length: seeds }, (_, i) => i + 1);
}

/** Loads source, target and test images and fixes the budget; `maxM` is the largest m the runs draw. */
export async function makeContext(opts: ExperimentOptions, maxM: number): Promise<Context> {
  const source = await resolveSource(opts.source);
  const inputShape = source.model.inputs[0].shape.slice(1) as [number, number, number];
  const valPerClass = opts.valPerClass ?? quickOr(20, 5);
  const target = await loadTarget(opts.target, inputShape, maxM + valPerClass, opts.read);
  if (target.train.classes.length < 2) {
    throw new Error(`target ${target.name}: its train split has ${target.train.classes.length} class (${target.train.classes.join(', ')}); a classifier needs at least two`);
  }
  if (target.train.height !== inputShape[0] || target.train.channels !== inputShape[2]) {
    throw new Error(
      `target ${target.name}: images ${target.train.height}×${target.train.width}×${target.train.channels} but source ${source.name} expects [${inputShape}]`,
    );
  }
  const grid = (spec: RunSpec): readonly number[] => {
    if (opts.lrFrom) {
      const chosen = opts.lrFrom.find((r) => r.strategy === spec.strategy && r.seed === spec.seed);
      if (!chosen) throw new Error(`lrFrom: no row for ${spec.strategy} with seed ${spec.seed} to take a learning rate from`);
      return [chosen.lr];
    }
    if (opts.lrSearch === 'first-seed' && ctxRef.firstSeed !== null && spec.seed !== ctxRef.firstSeed) {
      const first = ctxRef.firstChoice.get(cellKey(spec));
      if (first !== undefined) return [first];
      return [NaN]; // planned before the first seed ran: one run, its rate known by then
    }
    const g = opts.lrGrid;
    if (Array.isArray(g)) return g as readonly number[];
    const own = g ? (g as Partial<Record<RunStrategy, readonly number[]>>)[spec.strategy] : undefined;
    if (own) return own;
    return defaultLrGrid(isFrozenWhole(spec) ? 'head' : spec.strategy === 'finetune' ? 'finetune' : 'network');
  };
  const sourceTest = typeof opts.sourceTest === 'string' ? await loadView(opts.sourceTest, { split: 'val', imgSize: inputShape[0], channels: inputShape[2] as 1 | 3 }) : opts.sourceTest ?? null;
  const ctxRef: Context = {
    source,
    target,
    test: subsetPerClass(target.test, opts.testPerClass ?? (isQuick() ? 20 : undefined), 0),
    sourceTest: sourceTest ? subsetPerClass(sourceTest, opts.testPerClass ?? (isQuick() ? 20 : undefined), 0) : null,
    budget: {
      steps: opts.budget?.steps ?? quickOr(150, 12),
      minEpochs: opts.budget?.minEpochs ?? quickOr(10, 0),
      batchSize: opts.budget?.batchSize ?? 32,
      rounds: opts.budget?.rounds ?? quickOr(10, 3),
    },
    valPerClass,
    grid,
    opts,
    caches: new Map(),
    bar: null,
    rowsSoFar: [],
    firstChoice: new Map(),
    firstSeed: null,
    tick: () => undefined,
  };
  return ctxRef;
}

/** Starts the outer progress bar once the number of runs is known. */
export function startProgress(ctx: Context, total: number, label: string): void {
  if (ctx.opts.progress === false) return;
  const bar = progressBar(total, label, 'run');
  let done = 0;
  ctx.bar = bar;
  ctx.tick = (what: string) => bar.update(++done, { run: what });
}

/** Frees what the context loaded (a caller's source model is left alone). */
export function closeContext(ctx: Context): void {
  ctx.bar?.close();
  if (ctx.source.owned) ctx.source.model.dispose();
}

/** The key of a cell across seeds: strategy, m and cut. */
export function cellKey(spec: RunSpec): string {
  return `${spec.strategy}|${spec.m}|${spec.label ?? String(spec.cutAt ?? '')}|${String(spec.copyUpTo ?? '')}`;
}

/** Whether a run's base is wholly frozen, so its head trains on cached features (and gets the head grid). */
export function isFrozenWhole(spec: RunSpec): boolean {
  return spec.strategy === 'probe' || spec.strategy === 'additional-layers' || (spec.strategy === 'freeze' && spec.copyUpTo === undefined);
}

/** The transfer model of a run spec (probe = a frozen base cut at `cutAt` with a linear head, on cached features). */
export function transferOptionsOf(ctx: Context, spec: RunSpec, numClasses: number): TransferOptions {
  return {
    strategy: spec.strategy === 'probe' ? 'freeze' : spec.strategy,
    numClasses,
    seed: spec.seed,
    cacheFeatures: isFrozenWhole(spec),
    ...(spec.cutAt !== undefined ? { cutAt: spec.cutAt } : {}),
    ...(spec.copyUpTo !== undefined ? { copyUpTo: spec.copyUpTo } : {}),
    ...(ctx.opts.baseLrScale !== undefined ? { baseLrScale: ctx.opts.baseLrScale } : {}),
    ...(ctx.opts.batchNorm !== undefined ? { batchNorm: ctx.opts.batchNorm } : {}),
  };
}

