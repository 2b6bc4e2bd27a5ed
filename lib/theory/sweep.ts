/**
 * Experiments over the simulation: one run (`simulateRisk`), sweeps over one knob (`riskSweep` and the
 * `sweepM` / `sweepTasks` / `sweepSamples` / `sweepDiversity` shorthands), per-value summaries and the
 * log-log slope that the theory predicts (−1 in m, in n·t and in ν for the squared loss).
 */
import { Matrix } from 'ml-matrix';
import { Rng } from '../random';
import { alternatingLeastSquares, momentEstimator, pairwiseMomentEstimator } from './representation';
import {
  RiskValue,
  TargetSample,
  headExcessRisk,
  oracleRisk,
  sampleTarget,
  scratchExcessRisk,
  scratchRisk,
  transferRisk,
} from './risk';
import { RiskConfig, RiskMethod, RiskProblem, SourceStats, makeProblem, sampleSourceStats } from './tasks';

/** The knobs a sweep can vary. */
export type SweepParam = 'm' | 't' | 'n' | 'kappa';

/** One measurement: a method's excess risk at one value of the swept knob in one repetition. */
export interface SweepRow {
  param: SweepParam;
  value: number;
  rep: number;
  method: RiskMethod;
  /** Measured ‖β̂ − β₀‖², or null when the method cannot be fitted (see `reason`). */
  excess: number | null;
  /** The closed-form prediction for this method and run, or null where it is undefined. */
  predicted: number | null;
  reason?: string;
  /** ν = λ_min(AᵀA/t) of this run. */
  nu: number;
  /** n·t, the total number of source samples. */
  nt: number;
  m: number;
}

/** The learned (or given) representations of one run, by method. */
export type Representations = Partial<Record<RiskMethod, Matrix>>;

/** Stage 1 for every representation method in `methods` (ALS starts from the pairwise estimate). */
export function learnRepresentations(stats: SourceStats, r: number, methods: RiskMethod[], alsIters = 25): Representations {
  const reps: Representations = {};
  const needsPairwise = methods.includes('pairwise') || methods.includes('als');
  const pairwise = needsPairwise ? pairwiseMomentEstimator(stats, r) : undefined;
  if (methods.includes('pairwise')) reps.pairwise = pairwise;
  if (methods.includes('moments')) reps.moments = momentEstimator(stats, r);
  if (methods.includes('als')) reps.als = alternatingLeastSquares(stats, r, { init: pairwise, maxIters: alsIters }).b;
  return reps;
}

/** Stage 2 for every method on one target sample (null sample = m = ∞). */
export function measureMethods(
  cfg: RiskConfig,
  problem: RiskProblem,
  reps: Representations,
  sample: TargetSample | null,
): Array<{ method: RiskMethod; predicted: number | null } & RiskValue> {
  const { sigma, d, r, n, t, m } = cfg;
  const transferPred = transferRisk({ sigma, d, r, n, t, m, coverage: problem.coverage });
  return cfg.methods.map((method) => {
    if (method === 'scratch') return { method, predicted: scratchRisk(sigma, d, m), ...scratchExcessRisk(problem.beta0, sample) };
    if (method === 'oracle') return { method, predicted: oracleRisk(sigma, r, m), ...headExcessRisk(problem.bStar, problem.beta0, sample) };
    const basis = reps[method];
    if (!basis) throw new Error(`measureMethods: no representation learned for method '${method}'`);
    // the asymptotic prediction is the ERM's (ALS); moment estimators converge more slowly (∝ d/(ν²N))
    return { method, predicted: method === 'als' ? transferPred : null, ...headExcessRisk(basis, problem.beta0, sample) };
  });
}

/** True when `methods` needs a learned representation (and so the source stage). */
function needsSource(methods: RiskMethod[]): boolean {
  return methods.some((m) => m === 'als' || m === 'moments' || m === 'pairwise');
}

/** Draw the truth and run the source stage (skipped when only scratch/oracle are measured). */
function sourceStage(cfg: RiskConfig, rng: Rng): { problem: RiskProblem; reps: Representations } {
  const problem = makeProblem(cfg, rng.fork('problem'));
  if (!needsSource(cfg.methods)) return { problem, reps: {} };
  const stats = sampleSourceStats(problem, cfg.n, cfg.sigma, rng.fork('source'));
  return { problem, reps: learnRepresentations(stats, cfg.r, cfg.methods, cfg.alsIters) };
}

/** The first m rows of a target sample (nested samples make curves over m smoother). */
function firstRows(sample: TargetSample, m: number): TargetSample {
  const rows = Array.from({ length: m }, (_, i) => i);
  return { x: sample.x.selection(rows, Array.from({ length: sample.x.columns }, (_, j) => j)), y: sample.y.subMatrix(0, m - 1, 0, 0) };
}

/** One full run at `cfg`: draw the truth, the source data, learn B̂, draw m target samples, measure. */
export function simulateRisk(cfg: RiskConfig, rng: Rng): { problem: RiskProblem; rows: Omit<SweepRow, 'param' | 'value' | 'rep'>[] } {
  const { problem, reps } = sourceStage(cfg, rng);
  const sample = cfg.m === Infinity ? null : sampleTarget(problem.beta0, cfg.m, cfg.sigma, rng.fork('target'));
  const rows = measureMethods(cfg, problem, reps, sample).map((row) => ({ ...row, nu: problem.nu, nt: cfg.n * cfg.t, m: cfg.m }));
  return { problem, rows };
}

/**
 * Sweep one knob over `values`, `cfg.reps` repetitions each, every method of `cfg.methods`;
 * `configure` maps a value to the config changes (default `{ [param]: value }`).
 * Sweeping m reuses each repetition's source stage (one B̂ per repetition) and nests the target samples
 * (the first m of one draw), so each repetition's curve over m is one learner seeing more data.
 */
export function riskSweep(
  cfg: RiskConfig,
  param: SweepParam,
  values: number[],
  configure: (value: number) => Partial<RiskConfig> = (value) => ({ [param]: value }),
): SweepRow[] {
  const rows: SweepRow[] = [];
  for (let rep = 0; rep < cfg.reps; rep++) {
    const rng = new Rng(`${cfg.seed}/${param}/rep${rep}`);
    if (param === 'm') {
      const { problem, reps } = sourceStage(cfg, rng);
      const finite = values.filter((m) => m !== Infinity);
      const full = finite.length ? sampleTarget(problem.beta0, Math.max(...finite), cfg.sigma, rng.fork('target')) : null;
      for (const m of values) {
        const sample = m === Infinity || full === null ? null : firstRows(full, m);
        for (const row of measureMethods({ ...cfg, m }, problem, reps, sample)) {
          rows.push({ param, value: m, rep, ...row, nu: problem.nu, nt: cfg.n * cfg.t, m });
        }
      }
    } else {
      for (const value of values) {
        const run = simulateRisk({ ...cfg, ...configure(value) }, rng.fork(`${param}=${value}`));
        for (const row of run.rows) rows.push({ param, value, rep, ...row });
      }
    }
  }
  return rows;
}

/** Excess risk against the number of target samples m (source fixed per repetition). */
export function sweepM(cfg: RiskConfig, ms: number[]): SweepRow[] {
  return riskSweep(cfg, 'm', ms);
}

/** Excess risk against the number of source tasks t (n fixed, so n·t grows with t). */
export function sweepTasks(cfg: RiskConfig, ts: number[]): SweepRow[] {
  return riskSweep(cfg, 't', ts);
}

/** Excess risk against the samples per source task n (t fixed). */
export function sweepSamples(cfg: RiskConfig, ns: number[]): SweepRow[] {
  return riskSweep(cfg, 'n', ns);
}

/**
 * The same source budget n·t = `total` split differently: n samples per task and t = total/n tasks.
 * First-order theory depends on n·t only; small n pays extra (each task's head must be fitted too).
 */
export function sweepSplit(cfg: RiskConfig, total: number, ns: number[]): SweepRow[] {
  return riskSweep(cfg, 'n', ns, (n) => ({ n, t: Math.round(total / n) }));
}

/** Excess risk against the condition number κ of the source heads (each row carries its ν). */
export function sweepDiversity(cfg: RiskConfig, kappas: number[]): SweepRow[] {
  return riskSweep(cfg, 'kappa', kappas);
}

/** Per (method, value) summary of a sweep. */
export interface SweepSummary {
  param: SweepParam;
  value: number;
  method: RiskMethod;
  /** Median and mean over the repetitions with a defined excess (null if none). */
  median: number | null;
  mean: number | null;
  /** Median prediction over the repetitions (null where undefined). */
  predicted: number | null;
  /** Median ν and n·t over the repetitions. */
  nu: number;
  nt: number;
  m: number;
  /** Repetitions with a defined excess, and the reason when there were none. */
  count: number;
  reason?: string;
}

/** Median of finite numbers (null for none). */
export function median(values: number[]): number | null {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const h = Math.floor(v.length / 2);
  return v.length % 2 ? v[h] : (v[h - 1] + v[h]) / 2;
}

/** Summaries of a sweep, one per (method, value), in the order they first appear. */
export function summarizeSweep(rows: SweepRow[]): SweepSummary[] {
  const groups = new Map<string, SweepRow[]>();
  for (const row of rows) {
    const key = `${row.method}|${row.value}`;
    const g = groups.get(key);
    if (g) g.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()].map((g) => {
    const ok = g.map((r) => r.excess).filter((e): e is number => e !== null);
    const preds = g.map((r) => r.predicted).filter((p): p is number => p !== null);
    return {
      param: g[0].param,
      value: g[0].value,
      method: g[0].method,
      median: median(ok),
      mean: ok.length ? ok.reduce((a, b) => a + b, 0) / ok.length : null,
      predicted: median(preds),
      nu: median(g.map((r) => r.nu)) ?? NaN,
      nt: median(g.map((r) => r.nt)) ?? NaN,
      m: g[0].m,
      count: ok.length,
      ...(ok.length === 0 && g[0].reason ? { reason: g[0].reason } : {}),
    };
  });
}

/** A least-squares line in log-log coordinates: log y ≈ intercept + slope·log x. */
export interface LogLogFit {
  slope: number;
  intercept: number;
  /** Coefficient of determination of the fit in log-log space. */
  r2: number;
  /** Points used (pairs with x > 0 and y > 0). */
  count: number;
}

/** Fit log y = a + b·log x by least squares over the pairs with x, y > 0 (natural logs); needs ≥ 2 distinct x. */
export function fitLogLogSlope(xs: number[], ys: Array<number | null>): LogLogFit {
  if (xs.length !== ys.length) throw new Error(`fitLogLogSlope: ${xs.length} xs but ${ys.length} ys`);
  const pts: Array<[number, number]> = [];
  xs.forEach((x, i) => {
    const y = ys[i];
    if (y !== null && x > 0 && y > 0 && Number.isFinite(x) && Number.isFinite(y)) pts.push([Math.log(x), Math.log(y)]);
  });
  const count = pts.length;
  const mx = pts.reduce((a, p) => a + p[0], 0) / count;
  const my = pts.reduce((a, p) => a + p[1], 0) / count;
  let sxx = 0;
  let sxy = 0;
  let syy = 0;
  for (const [lx, ly] of pts) {
    sxx += (lx - mx) ** 2;
    sxy += (lx - mx) * (ly - my);
    syy += (ly - my) ** 2;
  }
  if (count < 2 || sxx === 0) throw new Error(`fitLogLogSlope: need ≥ 2 positive points with distinct x, got ${count}`);
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx, r2: syy === 0 ? 1 : (sxy * sxy) / (sxx * syy), count };
}

/** The fitted slope of one method's medians against `x(summary)` (default: the swept value). */
export function sweepSlope(
  summaries: SweepSummary[],
  method: RiskMethod,
  x: (s: SweepSummary) => number = (s) => s.value,
): LogLogFit {
  const sel = summaries.filter((s) => s.method === method && s.median !== null);
  return fitLogLogSlope(sel.map(x), sel.map((s) => s.median));
}

/**
 * Check an exercise answer without giving the reference away: a message saying whether `guess` is within
 * `tolerance` (absolute, or relative when `relative`) of `reference`, or asking for a guess when it is NaN.
 */
export function checkGuess(guess: number, reference: number, tolerance: number, relative = false): string {
  if (!Number.isFinite(guess)) return 'No answer yet: replace NaN with your prediction and run this cell again.';
  const err = Math.abs(guess - reference);
  const ok = err <= (relative ? tolerance * Math.abs(reference) : tolerance);
  if (ok) return `✓ ${guess} is within ${relative ? `${tolerance * 100}%` : `±${tolerance}`} of the measured value.`;
  return `✗ Not yet: ${guess} is ${guess > reference ? 'too high' : 'too low'}. Re-read the bound and try again.`;
}
