/**
 * Experiments in one call: `compareStrategies` (scratch / freeze / fine-tune / … against the number of target
 * images per class) and `cutSweep` (accuracy against the layer where the source is cut, frozen and
 * fine-tuned — Yosinski et al. 2014), both under one fair protocol:
 *
 *   1. every strategy trains for the same number of optimisation steps on the same m images per class;
 *   2. each strategy's learning rate is chosen from a small grid on a validation split drawn from the
 *      target's *training* images (disjoint from the m training images; the same for every strategy), and
 *      the checkpoint with the best validation accuracy is kept;
 *   3. the chosen model is evaluated once on the test images (the target's `val` split), never seen before.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import type { DataFrame } from 'danfojs-node';
import { QUICK, quickOr } from '../config';
import { Rng } from '../random';
import type { ImageArrays } from '../data/types';
import { loadView, type ViewName } from '../data/embedded';
import { listImageFolder } from '../data/folder';
import { ImageDataset } from '../data/dataset';
import { resize } from '../data/transforms';
import { DEFAULT_SOURCE, loadSourceModel, type SourceModel } from '../models/source';
import { blockOf, buildTransferModel, type Strategy, type TransferModel } from '../models/transfer';
import { OUTPUT_LAYER } from '../models/zoo';
import { takeRows } from './batches';
import { predict } from './evaluate';
import { train } from './loop';
import { accuracy, f1Score } from './metrics';
import { progressBar as makeProgressBar } from '../display/progress';
import { showPlot } from '../display';

/** The protocol, as written in every result row. */
export const PROTOCOL =
  'equal optimisation steps for every strategy on the same m images per class; learning rate chosen per strategy ' +
  'from lrGrid on a validation split of the target TRAIN images (disjoint from the m, same for all strategies), ' +
  'best-validation checkpoint kept; accuracy and macro-F1 measured once on the target test images (its val split)';
export const PROTOCOL_VERSION = 'fair-v1';

/** Embedded view names a target may be. */
const VIEW_NAMES: readonly string[] = ['digits', 'digits-m', 'digits-0-4', 'digits-5-9', 'digits-m-0-4', 'digits-m-5-9'];

/** A target task: labelled training images to draw from and test images to measure on. */
export interface TargetData {
  name: string;
  /** The pool the m training images and the validation images are drawn from. */
  train: ImageArrays;
  /** Only for the final measurement. */
  test: ImageArrays;
}

/** The training budget every strategy gets. */
export interface Budget {
  /** Optimisation steps per run (default 150; quick mode 12). */
  steps?: number;
  /**
   * At least this many passes over the m·k training images (default 10; quick 0): at large m the budget grows to
   * ceil(minEpochs · images / batchSize) steps so scratch is not starved — still the same for every strategy.
   */
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
  /** Learning rates tried per strategy (default [3e-4, 1e-3, 3e-3]; quick [1e-3, 3e-3]); or one grid per strategy. */
  lrGrid?: number[] | Partial<Record<Strategy, number[]>>;
  /** Validation images per class drawn from the target's training images (default 20; quick 5). */
  valPerClass?: number;
  /** Test images per class (default: all of the target's test split). */
  testPerClass?: number;
  /** Fine-tuning's base learning-rate multiplier (default 0.1). */
  baseLrScale?: number;
  /** Called with each row as soon as it is measured (the CLI prints JSON lines from here). */
  onRow?: (row: ResultRow) => void;
  /** Outer progress bar over all runs (default true). */
  progress?: boolean;
}

/** One measured run (one strategy, m, seed, and cut), with the protocol that produced it. */
export interface ResultRow {
  strategy: Strategy;
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
  /** Where the source was cut. */
  cutAt: string;
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

/** What compareStrategies returns. */
export interface CompareResult {
  rows: ResultRow[];
  /** strategy, m, seed, lr, accuracy, macroF1, seconds, steps. */
  frame: DataFrame;
  /** Mean and standard deviation over seeds per strategy and m. */
  summary: SummaryRow[];
  /** Accuracy against m, one line per strategy (mean ± std over seeds), shown via showPlot. */
  plot(): void;
}

/** Mean ± standard deviation over seeds of one (strategy, m) or (strategy, cut) cell. */
export interface SummaryRow {
  strategy: Strategy;
  m: number;
  cutAt: string;
  runs: number;
  accuracy: number;
  accuracyStd: number;
  macroF1: number;
  seconds: number;
  lrs: number[];
}

function seedList(seeds: number | number[]): number[] {
  if (Array.isArray(seeds)) return seeds;
  if (!Number.isInteger(seeds) || seeds < 1) throw new Error(`seeds: expected a positive count or a list of seeds, got ${seeds}`);
  return Array.from({ length: seeds }, (_, i) => i + 1);
}

async function resolveSource(source: ExperimentOptions['source']): Promise<{ name: string; model: tf.LayersModel; owned: boolean }> {
  if (source === undefined || typeof source === 'string') {
    const name = source ?? DEFAULT_SOURCE;
    // A path to a model folder (…/<name>/ with meta.json) or a shipped name under data/models.
    const s = name.includes('/') || name.includes(path.sep) ? await loadSourceModel(path.basename(path.resolve(name)), path.dirname(path.resolve(name))) : await loadSourceModel(name);
    return { name: s.name, model: s.model, owned: true };
  }
  if (source instanceof tf.LayersModel) return { name: source.name, model: source, owned: false };
  return { name: source.name, model: source.model, owned: false };
}

/** Reads an image folder split (class folders below) into memory at the model's input size. */
async function loadFolderSplit(root: string, split: string, size: [number, number, number], classes?: string[]): Promise<ImageArrays> {
  const scan = await listImageFolder(root, { split });
  const names = classes ?? scan.classes;
  const labels = scan.labels.map((l) => {
    const i = names.indexOf(l);
    if (i < 0) throw new Error(`${path.join(root, split)}: class folder '${l}' is not among the train classes (${names.join(', ')})`);
    return i;
  });
  const [h, w, c] = size;
  const ds = new ImageDataset(scan.paths, labels, undefined, { channels: c === 1 ? 1 : 3, classes: names });
  const per = h * w * c;
  const images = new Float32Array(scan.paths.length * per);
  const fit = resize(h, w);
  for (let i = 0; i < scan.paths.length; i++) {
    const s = await ds.get(i);
    let img = { data: s.image, height: s.shape[0], width: s.shape[1], channels: s.shape[2] };
    if (img.height !== h || img.width !== w) img = (await fit(img, new Rng(0))) as typeof img;
    images.set(img.data instanceof Float32Array ? img.data : Float32Array.from(img.data, (v) => v / 255), i * per);
  }
  return { images, labels: Int32Array.from(labels), height: h, width: w, channels: c, classes: names };
}

/** Loads a target: an embedded view name, or a folder holding train/ and val/ (class folders below). */
export async function loadTarget(target: string | TargetData, inputShape: [number, number, number], needPerClass?: number): Promise<TargetData> {
  if (typeof target !== 'string') return target;
  const [h, , c] = inputShape;
  if (VIEW_NAMES.includes(target)) {
    const opts = { imgSize: h, channels: c as 1 | 3 };
    // Quick mode keeps only 100 images per class of a view unless asked for more: ask for what the runs need.
    const quickPool = QUICK && needPerClass !== undefined ? { mPerClass: needPerClass, seed: 0 } : {};
    return {
      name: target,
      train: await loadView(target as ViewName, { split: 'train', ...opts, ...quickPool }),
      test: await loadView(target as ViewName, { split: 'val', ...opts }),
    };
  }
  const root = path.resolve(target);
  const trainSet = await loadFolderSplit(root, 'train', inputShape);
  const testSet = await loadFolderSplit(root, 'val', inputShape, trainSet.classes);
  return { name: root, train: trainSet, test: testSet };
}

/** Row indices per class. */
function byClass(labels: Int32Array, numClasses: number): number[][] {
  const out: number[][] = Array.from({ length: numClasses }, () => []);
  labels.forEach((l, i) => out[l].push(i));
  return out;
}

/**
 * The seed's split of the target's training images: per class, a seeded permutation; the first valPerClass
 * images validate, the next m train. For one seed the training sets nest (m = 10 ⊂ m = 50) and the
 * validation set is the same for every m and strategy.
 */
export function drawSplit(pool: ImageArrays, m: number, valPerClass: number, seed: number): { train: ImageArrays; val: ImageArrays } {
  const classes = byClass(pool.labels, pool.classes.length);
  const trainRows: number[] = [];
  const valRows: number[] = [];
  classes.forEach((rows, k) => {
    if (rows.length < m + valPerClass) {
      throw new Error(
        `target class '${pool.classes[k]}' has ${rows.length} training images; m = ${m} plus ${valPerClass} for validation need ${m + valPerClass}`,
      );
    }
    const order = new Rng(`split/${seed}/${k}`).permutation(rows.length);
    order.slice(0, valPerClass).forEach((i) => valRows.push(rows[i]));
    order.slice(valPerClass, valPerClass + m).forEach((i) => trainRows.push(rows[i]));
  });
  return { train: takeRows(pool, trainRows), val: takeRows(pool, valRows) };
}

function limitPerClass(arrays: ImageArrays, perClass: number | undefined, seed: number): ImageArrays {
  if (perClass === undefined) return arrays;
  const rows = byClass(arrays.labels, arrays.classes.length).flatMap((r, k) => {
    const order = new Rng(`test/${seed}/${k}`).permutation(r.length).slice(0, perClass);
    return order.sort((a, b) => a - b).map((i) => r[i]);
  });
  return takeRows(arrays, rows);
}

function disposeTransfer(tm: TransferModel): void {
  for (const m of [tm.model, tm.base, tm.head]) {
    try {
      m.dispose();
    } catch {
      /* layers shared between the three models are disposed once */
    }
  }
}

interface RunSpec {
  strategy: Strategy;
  m: number;
  seed: number;
  cutAt?: string | number;
}

interface Context {
  source: { name: string; model: tf.LayersModel; owned: boolean };
  target: TargetData;
  test: ImageArrays;
  steps: number;
  minEpochs: number;
  batchSizeMax: number;
  rounds: number;
  valPerClass: number;
  grid: (s: Strategy) => number[];
  baseLrScale?: number;
  backend: string;
  tick: (label: string) => void;
}

/** One cell of an experiment: for each lr of the grid, train with the budget and keep the best; then test once. */
async function runCell(ctx: Context, spec: RunSpec, split: { train: ImageArrays; val: ImageArrays }): Promise<ResultRow> {
  const numClasses = ctx.target.train.classes.length;
  const batchSize = Math.min(ctx.batchSizeMax, split.train.labels.length);
  const steps = Math.max(ctx.steps, Math.ceil((ctx.minEpochs * split.train.labels.length) / batchSize));
  let best: { tm: TransferModel; lr: number; valAccuracy: number; valLoss: number; seconds: number } | null = null;
  const lrSearch: ResultRow['lrSearch'] = [];
  for (const lr of ctx.grid(spec.strategy)) {
    const tm = buildTransferModel(ctx.source.model, {
      strategy: spec.strategy,
      numClasses,
      seed: spec.seed,
      ...(spec.cutAt !== undefined ? { cutAt: spec.cutAt } : {}),
      ...(ctx.baseLrScale !== undefined ? { baseLrScale: ctx.baseLrScale } : {}),
    });
    const h = await train(tm, split.train, {
      steps,
      rounds: Math.min(ctx.rounds, steps),
      lr,
      batchSize,
      seed: spec.seed,
      valData: split.val,
      earlyStopping: { patience: Infinity, monitor: 'val_accuracy', restoreBest: true },
      progress: false,
    });
    const at = (h.bestEpoch ?? h.epochs.length) - 1;
    const valAccuracy = h.history.val_accuracy[at];
    const valLoss = h.history.val_loss[at];
    lrSearch.push({ lr, valAccuracy, valLoss });
    ctx.tick(`${spec.strategy} m=${spec.m} seed=${spec.seed} lr=${lr}${spec.cutAt !== undefined ? ` cut=${spec.cutAt}` : ''}`);
    const better = best === null || valAccuracy > best.valAccuracy || (valAccuracy === best.valAccuracy && valLoss < best.valLoss);
    if (better) {
      if (best) disposeTransfer(best.tm);
      best = { tm, lr, valAccuracy, valLoss, seconds: h.seconds };
    } else {
      disposeTransfer(tm);
    }
  }
  if (!best) throw new Error(`compareStrategies: empty learning-rate grid for ${spec.strategy}`);
  const predicted = await predict(best.tm, ctx.test, { batchSize: 128 });
  const row: ResultRow = {
    strategy: spec.strategy,
    m: spec.m,
    seed: spec.seed,
    lr: best.lr,
    accuracy: accuracy(ctx.test.labels, predicted),
    macroF1: f1Score(ctx.test.labels, predicted, { average: 'macro', numClasses, zeroDivision: 0 }),
    seconds: Math.round(best.seconds * 100) / 100,
    steps,
    valAccuracy: best.valAccuracy,
    lrSearch,
    cutAt: best.tm.cutAt,
    source: ctx.source.name,
    target: ctx.target.name,
    trainImages: split.train.labels.length,
    valImages: split.val.labels.length,
    testImages: ctx.test.labels.length,
    batchSize,
    protocol: PROTOCOL_VERSION,
    protocolText: PROTOCOL,
    backend: tf.getBackend(),
  };
  disposeTransfer(best.tm);
  return row;
}

async function makeContext(
  opts: ExperimentOptions,
  totalRuns: (gridSize: (s: Strategy) => number) => number,
  label: string,
  maxM: number,
): Promise<Context & { bar: ReturnType<typeof makeProgressBar> | null }> {
  const source = await resolveSource(opts.source);
  const inputShape = source.model.inputs[0].shape.slice(1) as [number, number, number];
  const valPerClass = opts.valPerClass ?? quickOr(20, 5);
  const target = await loadTarget(opts.target, inputShape, maxM + valPerClass);
  if (target.train.height !== inputShape[0] || target.train.channels !== inputShape[2]) {
    throw new Error(
      `target ${target.name}: images ${target.train.height}×${target.train.width}×${target.train.channels} but source ${source.name} expects [${inputShape}]`,
    );
  }
  const grid = (s: Strategy): number[] => {
    const g = opts.lrGrid;
    if (Array.isArray(g)) return g;
    return g?.[s] ?? quickOr([3e-4, 1e-3, 3e-3], [1e-3, 3e-3]);
  };
  const total = totalRuns((s) => grid(s).length);
  const bar = opts.progress === false ? null : makeProgressBar(total, label, 'run');
  let done = 0;
  return {
    source,
    target,
    test: limitPerClass(target.test, opts.testPerClass ?? (QUICK ? 20 : undefined), 0),
    steps: opts.budget?.steps ?? quickOr(150, 12),
    minEpochs: opts.budget?.minEpochs ?? quickOr(10, 0),
    batchSizeMax: opts.budget?.batchSize ?? 32,
    rounds: opts.budget?.rounds ?? quickOr(10, 3),
    valPerClass,
    grid,
    baseLrScale: opts.baseLrScale,
    backend: tf.getBackend(),
    bar,
    tick: (what: string) => bar?.update(++done, { run: what }),
  };
}

/** Mean ± std over seeds, per strategy and m (and cut). */
export function summarizeRows(rows: ResultRow[]): SummaryRow[] {
  const groups = new Map<string, ResultRow[]>();
  for (const r of rows) {
    const key = `${r.strategy}|${r.m}|${r.cutAt}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const mean = (f: (r: ResultRow) => number) => g.reduce((s, r) => s + f(r), 0) / g.length;
    const acc = mean((r) => r.accuracy);
    const std = g.length > 1 ? Math.sqrt(g.reduce((s, r) => s + (r.accuracy - acc) ** 2, 0) / (g.length - 1)) : 0;
    return {
      strategy: g[0].strategy,
      m: g[0].m,
      cutAt: g[0].cutAt,
      runs: g.length,
      accuracy: acc,
      accuracyStd: std,
      macroF1: mean((r) => r.macroF1),
      seconds: mean((r) => r.seconds),
      lrs: g.map((r) => r.lr),
    };
  });
}

function rowsFrame(rows: ResultRow[], extra: Array<keyof ResultRow> = []): DataFrame {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const dfd = require('danfojs-node') as typeof import('danfojs-node');
  const cols: Array<keyof ResultRow> = ['strategy', 'm', 'seed', ...extra, 'lr', 'accuracy', 'macroF1', 'seconds', 'steps'];
  return new dfd.DataFrame(rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c]]))));
}

/** A plotly figure of mean accuracy (± std over seeds) against x, one line per strategy. */
export function accuracyFigure(
  summary: SummaryRow[],
  x: 'm' | 'cutAt',
  title: string,
): { data: Array<Record<string, unknown>>; layout: Record<string, unknown> } {
  const strategies = [...new Set(summary.map((s) => s.strategy))];
  return {
    data: strategies.map((s) => {
      const pts = summary.filter((r) => r.strategy === s);
      return {
        type: 'scatter',
        mode: 'lines+markers',
        name: s,
        x: pts.map((p) => p[x]),
        y: pts.map((p) => p.accuracy),
        error_y: { type: 'data', array: pts.map((p) => p.accuracyStd), visible: true },
      };
    }),
    layout: {
      title: { text: title },
      xaxis: x === 'm' ? { title: { text: 'target images per class (m)' }, type: 'log' } : { title: { text: 'cut after layer' }, type: 'category' },
      yaxis: { title: { text: 'test accuracy' }, range: [0, 1] },
    },
  };
}

/** Options of compareStrategies. */
export interface CompareOptions extends ExperimentOptions {
  /** Default ['scratch', 'freeze', 'finetune']. */
  strategies?: Strategy[];
  /** Target images per class, one value or several. */
  mPerClass: number | number[];
  /** Cut the source at this layer (default its feature layer). */
  cutAt?: string | number;
}

/**
 * Trains every strategy at every m and seed under the fair protocol (see PROTOCOL) and returns the rows,
 * a DataFrame, a per-(strategy, m) summary and a plot of accuracy against m.
 * Example: `await compareStrategies({ target: 'digits-m-5-9', strategies: ['scratch', 'freeze', 'finetune'], mPerClass: [10, 50], seeds: 3 })`.
 */
export async function compareStrategies(opts: CompareOptions): Promise<CompareResult> {
  const strategies = opts.strategies ?? ['scratch', 'freeze', 'finetune'];
  const ms = Array.isArray(opts.mPerClass) ? opts.mPerClass : [opts.mPerClass];
  const seeds = seedList(opts.seeds);
  for (const m of ms) if (!Number.isInteger(m) || m < 1) throw new Error(`compareStrategies: mPerClass must be positive integers, got ${m}`);
  const ctx = await makeContext(opts, (g) => ms.length * seeds.length * strategies.reduce((s, st) => s + g(st), 0), 'compare', Math.max(...ms));
  const rows: ResultRow[] = [];
  try {
    for (const seed of seeds) {
      for (const m of ms) {
        const split = drawSplit(ctx.target.train, m, ctx.valPerClass, seed);
        for (const strategy of strategies) {
          const row = await runCell(ctx, { strategy, m, seed, cutAt: opts.cutAt }, split);
          rows.push(row);
          opts.onRow?.(row);
        }
      }
    }
  } finally {
    ctx.bar?.close();
    if (ctx.source.owned) ctx.source.model.dispose(); // loaded here: free it (a caller's model is left alone)
  }
  rows.sort((a, b) => strategies.indexOf(a.strategy) - strategies.indexOf(b.strategy) || a.m - b.m || a.seed - b.seed);
  return experimentResult(rows, [], 'm', `${ctx.source.name} → ${ctx.target.name}: accuracy against m`);
}

/**
 * Candidate cut points of a source: the last layer of each block before the output layer (for the plain
 * CNN: block1_pool, block2_pool, block3_pool, features). A block followed by global average pooling is left
 * out: a 4-D cut is pooled the same way, so it would repeat the next cut.
 */
export function defaultCuts(model: tf.LayersModel): string[] {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer' && l.name !== OUTPUT_LAYER);
  const cuts: string[] = [];
  layers.forEach((l, i) => {
    const next = layers[i + 1];
    if (next && next.getClassName() === 'GlobalAveragePooling2D') return;
    if (!next || blockOf(next.name) !== blockOf(l.name)) cuts.push(l.name);
  });
  return cuts;
}

/** Options of cutSweep. */
export interface CutSweepOptions extends ExperimentOptions {
  /** Target images per class. */
  m: number;
  /** Layers to cut at (default defaultCuts(source)). */
  cuts?: Array<string | number>;
  /** Default ['freeze', 'finetune']. */
  strategies?: Strategy[];
}

/**
 * Accuracy against the layer where the source is cut, frozen and fine-tuned (Yosinski et al. 2014, "How
 * transferable are features in deep neural networks?"), under the same fair protocol.
 */
export async function cutSweep(opts: CutSweepOptions): Promise<CompareResult> {
  const strategies = opts.strategies ?? ['freeze', 'finetune'];
  const seeds = seedList(opts.seeds);
  let cuts = opts.cuts;
  const ctx = await makeContext(
    opts,
    (g) => (cuts?.length ?? 5) * seeds.length * strategies.reduce((s, st) => s + g(st), 0),
    'cut sweep',
    opts.m,
  );
  cuts = cuts ?? defaultCuts(ctx.source.model);
  const rows: ResultRow[] = [];
  try {
    for (const seed of seeds) {
      const split = drawSplit(ctx.target.train, opts.m, ctx.valPerClass, seed);
      for (const cutAt of cuts) {
        for (const strategy of strategies) {
          const row = await runCell(ctx, { strategy, m: opts.m, seed, cutAt }, split);
          rows.push(row);
          opts.onRow?.(row);
        }
      }
    }
  } finally {
    ctx.bar?.close();
    if (ctx.source.owned) ctx.source.model.dispose(); // loaded here: free it (a caller's model is left alone)
  }
  const order = cuts.map((c) => (typeof c === 'number' ? ctx.source.model.layers[c].name : c));
  rows.sort((a, b) => strategies.indexOf(a.strategy) - strategies.indexOf(b.strategy) || order.indexOf(a.cutAt) - order.indexOf(b.cutAt) || a.seed - b.seed);
  return experimentResult(rows, ['cutAt'], 'cutAt', `${ctx.source.name} → ${ctx.target.name}, m = ${opts.m}: accuracy against the cut`);
}

/** Rows of an experiment with their summary, a lazily built DataFrame and an accuracy plot against `x`. */
function experimentResult(rows: ResultRow[], extraColumns: Array<keyof ResultRow>, x: 'm' | 'cutAt', title: string): CompareResult {
  const summary = summarizeRows(rows);
  let frameCache: DataFrame | undefined;
  return {
    rows,
    summary,
    get frame(): DataFrame {
      if (!frameCache) frameCache = rowsFrame(rows, extraColumns);
      return frameCache;
    },
    plot: () => {
      const fig = accuracyFigure(summary, x, title);
      showPlot(fig.data as Parameters<typeof showPlot>[0], fig.layout as Parameters<typeof showPlot>[1]);
    },
  };
}
