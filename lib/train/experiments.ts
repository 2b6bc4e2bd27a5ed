/**
 * Experiments in one call, under the fair protocol of ./protocol.ts:
 *   compareStrategies — scratch / freeze / fine-tune / … against the number of target images per class;
 *   cutSweep          — Yosinski et al. 2014's experiment: for each cut, AnB (the layers up to the cut copied and
 *                       frozen, the layers above re-initialised and trained) and AnB+ (the same, all layers
 *                       trained), with the target trained from scratch as the baseline and a linear probe of the
 *                       cut's pooled features as a third curve.
 */
import * as tf from '@tensorflow/tfjs';
import type { DataFrame } from 'danfojs-node';
import { danfo } from '../data/frame';
import { splitRows } from '../data/target';
import { blockOf } from '../models/transfer';
import { FEATURE_LAYER, OUTPUT_LAYER } from '../models/zoo';
import { claimClose, claimGreater, mean, MIN_SEEDS, std, type Claim } from '../stats';
import { accuracyByMFigure, cutSweepFigure, lrSearchFigure } from '../display/figures/accuracy';
import { showPlot } from '../display/plot';
import { interruptible } from '../interrupt';
import { reusableRow, runCell } from './lr-search';
import { closeContext, makeContext, seedList, startProgress, type Context, type ExperimentOptions, type ResultRow, type RunSpec, type RunStrategy } from './protocol';

/** What compareStrategies and cutSweep return. */
export interface CompareResult {
  rows: ResultRow[];
  /** strategy, m, seed, (cutAt,) lr, accuracy, macroF1, seconds, steps, trainableParams. */
  frame: DataFrame;
  /** Mean and standard deviation over seeds per strategy and m (and cut). */
  summary: SummaryRow[];
  /** The experiment's figure (accuracy against m, or against the cut), shown via showPlot. */
  plot(): void;
}

/** Mean ± standard deviation over seeds of one (strategy, m, cut) cell, with the per-seed values (in seed order). */
export interface SummaryRow {
  strategy: RunStrategy;
  m: number;
  cutAt: string;
  runs: number;
  accuracy: number;
  accuracyStd: number;
  /** Test accuracy of each seed, in seed order (what lib/stats' claims take). */
  values: number[];
  seeds: number[];
  macroF1: number;
  seconds: number;
  lrs: number[];
  trainableParams: number;
  /** Mean source-task accuracy (null unless measured). */
  sourceAccuracy: number | null;
}

/** Mean ± std over seeds, per strategy and m (and cut). */
export function summarizeRows(rows: ResultRow[]): SummaryRow[] {
  const groups = new Map<string, ResultRow[]>();
  for (const r of rows) {
    const key = `${r.strategy}|${r.m}|${r.cutAt}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const sorted = [...g].sort((a, b) => a.seed - b.seed);
    const values = sorted.map((r) => r.accuracy);
    const src = sorted.map((r) => r.sourceAccuracy).filter((v): v is number => v !== null);
    return {
      strategy: g[0].strategy,
      m: g[0].m,
      cutAt: g[0].cutAt,
      runs: g.length,
      accuracy: mean(values),
      accuracyStd: std(values),
      values,
      seeds: sorted.map((r) => r.seed),
      macroF1: mean(sorted.map((r) => r.macroF1)),
      seconds: mean(sorted.map((r) => r.seconds)),
      lrs: sorted.map((r) => r.lr),
      trainableParams: g[0].trainableParams,
      sourceAccuracy: src.length ? mean(src) : null,
    };
  });
}

/** Rows of an experiment with their summary, a lazily built DataFrame and the figure. */
function experimentResult(rows: ResultRow[], extra: Array<keyof ResultRow>, figure: (s: SummaryRow[]) => { data: unknown[]; layout: unknown }): CompareResult {
  const summary = summarizeRows(rows);
  let frameCache: DataFrame | undefined;
  const cols: Array<keyof ResultRow> = ['strategy', 'm', 'seed', ...extra, 'lr', 'accuracy', 'macroF1', 'seconds', 'steps', 'trainableParams'];
  return {
    rows,
    summary,
    get frame(): DataFrame {
      frameCache ??= new (danfo().DataFrame)(rows.map((r) => Object.fromEntries(cols.map((c) => [c, r[c]]))));
      return frameCache;
    },
    plot: () => {
      const fig = figure(summary);
      showPlot(fig.data as Parameters<typeof showPlot>[0], fig.layout as Parameters<typeof showPlot>[1]);
    },
  };
}

/**
 * Runs `specs(seed)` for every seed (one split per seed), with a progress bar whose total is known before it starts;
 * interruptible (Stop in a notebook): the rows measured so far are the partial result.
 */
async function runAll(ctx: Context, seeds: number[], m: number | number[], specs: (seed: number) => RunSpec[], label: string, what: string): Promise<ResultRow[]> {
  const ms = Array.isArray(m) ? m : [m];
  ctx.firstSeed = seeds[0];
  const plan = seeds.map((seed) => {
    const splits = new Map(ms.map((mm) => [mm, splitRows(ctx.target.train, mm, ctx.valPerClass, seed)]));
    return { splits, specs: specs(seed).map((spec) => ({ spec, reused: reusableRow(ctx, spec, splits.get(spec.m)!) })) };
  });
  const total = plan.reduce((s, p) => s + p.specs.reduce((t, { spec, reused }) => t + (reused ? 0 : ctx.grid(spec).length), 0), 0);
  const cells = plan.reduce((s, p) => s + p.specs.length, 0);
  startProgress(ctx, total, label);
  const rows = ctx.rowsSoFar;
  try {
    await interruptible(what, () => `after ${rows.length} of ${cells} cells`, async () => {
      for (const { splits, specs: list } of plan) {
        for (const { spec, reused } of list) {
          const row = reused ?? (await runCell(ctx, spec, splits.get(spec.m)!));
          rows.push(row);
          if (!reused) ctx.opts.onRow?.(row);
        }
      }
    });
  } finally {
    closeContext(ctx);
  }
  return [...rows];
}

/** Options of compareStrategies. */
export interface CompareOptions extends ExperimentOptions {
  /** Default ['scratch', 'freeze', 'finetune']. */
  strategies?: RunStrategy[];
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
  if (strategies.length === 0) throw new Error('compareStrategies: strategies is empty; name at least one (scratch, freeze, finetune, …)');
  const ms = Array.isArray(opts.mPerClass) ? opts.mPerClass : [opts.mPerClass];
  for (const m of ms) if (!Number.isInteger(m) || m < 1) throw new Error(`compareStrategies: mPerClass must be positive integers, got ${m}`);
  const seeds = seedList(opts.seeds);
  const ctx = await makeContext(opts, Math.max(...ms));
  const name = `${ctx.source.name} → ${ctx.target.name}`;
  const rows = await runAll(ctx, seeds, ms, (seed) => ms.flatMap((m) => strategies.map((strategy) => ({ strategy, m, seed, cutAt: opts.cutAt }))), 'compare', 'kit.compareStrategies');
  rows.sort((a, b) => strategies.indexOf(a.strategy) - strategies.indexOf(b.strategy) || a.m - b.m || a.seed - b.seed);
  return experimentResult(rows, [], (s) => accuracyByMFigure(s, `${name}: accuracy against m`));
}

/**
 * Candidate cut points of a source: the last layer of each block before the output layer (for the plain
 * CNN: block1_pool, block2_pool, block3_pool, features). A block followed by global average pooling is left
 * out: a 4-D cut is pooled the same way, so it would repeat the next cut.
 */
export function defaultCuts(model: tf.LayersModel): string[] {
  const layers = model.layers.filter((l) => l.getClassName() !== 'InputLayer' && l.name !== OUTPUT_LAYER && l.getClassName() !== 'Dropout');
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
  /** Of 'freeze' (AnB), 'finetune' (AnB+), 'probe', 'scratch' (the baseline, once per seed); default ['scratch', 'freeze', 'finetune']. */
  strategies?: RunStrategy[];
}

/** The runs of one seed of a cut sweep. */
function cutSpecs(strategies: RunStrategy[], cuts: string[], m: number, seed: number): RunSpec[] {
  const specs: RunSpec[] = [];
  if (strategies.includes('scratch')) specs.push({ strategy: 'scratch', m, seed, label: 'none' });
  for (const cut of cuts) {
    for (const s of strategies) {
      // At the feature layer everything is copied: AnB is plain freezing (its head on cached features), AnB+ plain fine-tuning.
      const copy = cut === FEATURE_LAYER ? {} : { copyUpTo: cut };
      if (s === 'freeze' || s === 'finetune') specs.push({ strategy: s, m, seed, ...copy, label: cut });
      else if (s === 'probe') specs.push({ strategy: 'probe', m, seed, cutAt: cut, label: cut });
      else if (s !== 'scratch') throw new Error(`cutSweep: strategy '${s}' has no meaning at a cut; use freeze (AnB), finetune (AnB+), probe or scratch`);
    }
  }
  return specs;
}

/**
 * Yosinski et al. 2014 ("How transferable are features in deep neural networks?") on the kit's CNN, under the fair
 * protocol: for each cut, AnB ('freeze': copied up to the cut and frozen, the layers above re-initialised and trained),
 * AnB+ ('finetune': the same, the copied layers fine-tuned too), optionally a linear 'probe' of the cut's pooled
 * features, and the target trained from scratch as the baseline (cutAt 'none').
 */
export async function cutSweep(opts: CutSweepOptions): Promise<CompareResult> {
  const strategies = opts.strategies ?? ['scratch', 'freeze', 'finetune'];
  if (strategies.length === 0) throw new Error('cutSweep: strategies is empty; name some of freeze, finetune, probe, scratch');
  const seeds = seedList(opts.seeds);
  const ctx = await makeContext(opts, opts.m);
  const cuts = (opts.cuts ?? defaultCuts(ctx.source.model)).map((c) => (typeof c === 'number' ? ctx.source.model.layers[c]?.name ?? String(c) : c));
  for (const c of cuts) {
    if (!ctx.source.model.layers.some((l) => l.name === c)) {
      closeContext(ctx);
      throw new Error(`cutSweep: source '${ctx.source.name}' has no layer '${c}'; cuts it offers: ${defaultCuts(ctx.source.model).join(', ')}`);
    }
  }
  const name = `${ctx.source.name} → ${ctx.target.name}, m = ${opts.m}`;
  const rows = await runAll(ctx, seeds, opts.m, (seed) => cutSpecs(strategies, cuts, opts.m, seed), 'cut sweep', 'kit.cutSweep');
  const order = ['none', ...cuts];
  rows.sort((a, b) => strategies.indexOf(a.strategy) - strategies.indexOf(b.strategy) || order.indexOf(a.cutAt) - order.indexOf(b.cutAt) || a.seed - b.seed);
  return experimentResult(rows, ['cutAt'], (s) => cutSweepFigure(s, cuts, `${name}: accuracy against the cut (Yosinski et al. 2014)`));
}

/** A cell's label in a claim: strategy, m and (when not the feature layer) the cut. */
function cellLabel(s: SummaryRow): string {
  return `${s.strategy} (m = ${s.m}${s.cutAt !== FEATURE_LAYER ? `, ${s.cutAt}` : ''})`;
}

function checkPaired(what: string, a: SummaryRow, b: SummaryRow): void {
  if (a.seeds.join(',') !== b.seeds.join(',')) throw new Error(`${what}: pairs by seed, but the cells have seeds ${a.seeds.join(',')} and ${b.seeds.join(',')}`);
}

/**
 * The claim "cell a beats cell b" judged by lib/stats' rule, paired by seed (the two cells share each seed's split):
 * holds only when the mean per-seed difference exceeds two standard errors, with ≥ 3 seeds.
 */
export function claimBetter(claim: string, a: SummaryRow, b: SummaryRow, labels: [string, string] = [cellLabel(a), cellLabel(b)]): Claim {
  checkPaired(`claimBetter('${claim}')`, a, b);
  return claimGreater({ claim, a: { label: labels[0], values: a.values }, b: { label: labels[1], values: b.values }, paired: true });
}

/** The claim "cells a and b lie within ±tolerance of each other", paired by seed (lib/stats' claimClose). */
export function claimSimilar(claim: string, a: SummaryRow, b: SummaryRow, tolerance: number, labels: [string, string] = [cellLabel(a), cellLabel(b)]): Claim {
  checkPaired(`claimSimilar('${claim}')`, a, b);
  return claimClose({ claim, a: { label: labels[0], values: a.values }, b: { label: labels[1], values: b.values }, tolerance, paired: true });
}

/** The learning-rate search of one strategy over seeds: validation accuracy per lr (mean ± std) and where the best lies. */
export interface LrSearchSummary {
  strategy: RunStrategy;
  grid: number[];
  /** Per lr of the grid: best validation accuracy of each seed (seed order), mean and std. */
  points: Array<{ lr: number; values: number[]; mean: number; std: number }>;
  /** The lr each seed chose. */
  chosen: number[];
  /** The lr with the highest mean validation accuracy, and whether it is the grid's smallest or largest value. */
  bestLr: number;
  bestAtEdge: boolean;
  /** "the best lr beats its neighbour in the grid" by lib/stats' rule (paired by seed): at an edge, holds = widen the grid. */
  contrast: Claim;
}

/** Summarises the learning-rate searches of `rows` (one m), strategy by strategy. */
export function lrSearchSummary(rows: ResultRow[]): LrSearchSummary[] {
  const strategies = [...new Set(rows.map((r) => r.strategy))];
  return strategies.map((strategy) => {
    const runs = rows.filter((r) => r.strategy === strategy).sort((a, b) => a.seed - b.seed);
    const grid = [...new Set(runs.flatMap((r) => r.lrSearch.map((l) => l.lr)))].sort((a, b) => a - b);
    const points = grid.map((lr) => {
      const values = runs.map((r) => r.lrSearch.find((l) => l.lr === lr)?.valAccuracy ?? NaN);
      return { lr, values, mean: mean(values), std: std(values) };
    });
    const at = points.reduce((best, p, i) => (p.mean > points[best].mean ? i : best), 0);
    const neighbour = points[at === 0 ? Math.min(1, points.length - 1) : at - 1];
    const contrast = claimGreater({
      claim: `${strategy}: lr ${points[at].lr} beats lr ${neighbour.lr} on validation`,
      a: { label: `lr ${points[at].lr}`, values: points[at].values },
      b: { label: `lr ${neighbour.lr}`, values: neighbour.values },
      paired: true,
    });
    return { strategy, grid, points, chosen: runs.map((r) => r.lr), bestLr: points[at].lr, bestAtEdge: grid.length < 3 || at === 0 || at === grid.length - 1, contrast };
  });
}

/** Plots validation accuracy against the learning rate (mean ± std over seeds), one line per strategy. */
export function showLrSearch(rows: ResultRow[], title = 'Validation accuracy against the learning rate'): LrSearchSummary[] {
  const summary = lrSearchSummary(rows);
  const fig = lrSearchFigure(
    summary.flatMap((s) => s.points.map((p) => ({ strategy: s.strategy, lr: p.lr, mean: p.mean, std: p.std }))),
    title,
  );
  showPlot(fig.data as Parameters<typeof showPlot>[0], fig.layout as Parameters<typeof showPlot>[1]);
  return summary;
}

/**
 * A sentence for a claim, chosen by its verdict, with its evidence: e.g.
 * `claimSentence(c, { holds: 'freezing beats scratch', doesNotHold: 'scratch beats freezing', inconclusive: 'freezing and scratch cannot be told apart' })`.
 * With fewer than MIN_SEEDS seeds no verdict is drawn: the sentence reports the measurement as indicative only.
 */
export function claimSentence(c: Claim, say: { holds: string; doesNotHold: string; inconclusive: string }): string {
  if (c.seeds < MIN_SEEDS) return `Whether ${c.claim} needs ${MIN_SEEDS} seeds to say; this run measured ${c.evidence} (${c.note ?? 'indicative only'})`;
  const text = c.verdict === 'holds' ? say.holds : c.verdict === 'does not hold' ? say.doesNotHold : say.inconclusive;
  return `${text} (${c.evidence}; ${c.seeds} seeds; ${c.note ?? ''})`;
}
