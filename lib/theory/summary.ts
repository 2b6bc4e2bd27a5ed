/**
 * Reading a sweep: per-value summaries (median, mean ± std over the repetitions, the prediction), log-log
 * slopes of the medians, and one slope per repetition — the values the claims tables judge by their spread.
 */
import { Claim, mean, std, verdictWithin } from '../stats';
import { RiskMethod } from './tasks';
import { SweepParam, SweepRow } from './sweep';

/** Per (method, value) summary of a sweep. */
export interface SweepSummary {
  param: SweepParam;
  value: number;
  method: RiskMethod;
  /** Median, mean and sample std over the repetitions with a defined excess (null if none). */
  median: number | null;
  mean: number | null;
  std: number | null;
  /** The defined excesses, repetition by repetition. */
  values: number[];
  /** Median prediction over the repetitions (null where undefined). */
  predicted: number | null;
  /** Median ν, and the sizes of the runs. */
  nu: number;
  n: number;
  t: number;
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

function groupBy<T>(items: T[], key: (item: T) => string): T[][] {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const g = groups.get(k);
    if (g) g.push(item);
    else groups.set(k, [item]);
  }
  return [...groups.values()];
}

/** Summaries of a sweep, one per (method, value, n, t, m) — sweeps over different n can be summarised together. */
export function summarizeSweep(rows: SweepRow[]): SweepSummary[] {
  return groupBy(rows, (r) => `${r.method}|${r.value}|${r.n}|${r.t}|${r.m}`).map((g) => {
    const ok = g.map((r) => r.excess).filter((e): e is number => e !== null);
    const preds = g.map((r) => r.predicted).filter((p): p is number => p !== null);
    return {
      param: g[0].param,
      value: g[0].value,
      method: g[0].method,
      median: median(ok),
      mean: ok.length ? mean(ok) : null,
      std: ok.length ? std(ok) : null,
      values: ok,
      predicted: median(preds),
      nu: median(g.map((r) => r.nu)) ?? NaN,
      n: g[0].n,
      t: g[0].t,
      nt: g[0].nt,
      m: g[0].m,
      count: ok.length,
      ...(ok.length === 0 && g[0].reason ? { reason: g[0].reason } : {}),
    };
  });
}

/** The summary of `method` at a swept value (and, when given, of runs with n samples per task). */
export function summaryAt(summaries: SweepSummary[], method: RiskMethod, value: number, n?: number): SweepSummary {
  const s = summaries.find((x) => x.method === method && x.value === value && (n === undefined || x.n === n));
  if (!s) throw new Error(`summaryAt: no '${method}' summary at ${summaries[0]?.param ?? 'value'} = ${value}${n === undefined ? '' : ` with n = ${n}`}`);
  return s;
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

/** Which points a slope is fitted on, and against what x (default: the swept value). */
export interface SlopeSpec {
  x?: (s: Pick<SweepRow, 'value' | 'nu' | 'n' | 't' | 'nt' | 'm'>) => number;
  /** Keep only the points where this holds (e.g. the asymptotic regime). */
  where?: (s: Pick<SweepRow, 'value' | 'nu' | 'n' | 't' | 'nt' | 'm'>) => boolean;
}

/** The fitted slope of one method's medians (see `SlopeSpec`). */
export function sweepSlope(summaries: SweepSummary[], method: RiskMethod, spec: SlopeSpec = {}): LogLogFit {
  const x = spec.x ?? ((s) => s.value);
  const sel = summaries.filter((s) => s.method === method && s.median !== null && (spec.where?.(s) ?? true));
  return fitLogLogSlope(sel.map(x), sel.map((s) => s.median));
}

/** One fitted slope per repetition (its own curve over the swept values): the per-seed values a claim is judged on. */
export function repetitionSlopes(rows: SweepRow[], method: RiskMethod, spec: SlopeSpec = {}): number[] {
  const x = spec.x ?? ((s) => s.value);
  const mine = rows.filter((r) => r.method === method && r.excess !== null && (spec.where?.(r) ?? true));
  return groupBy(mine, (r) => String(r.rep)).map((g) => fitLogLogSlope(g.map(x), g.map((r) => r.excess)).slope);
}

/** The log-log slope of the predictions over the same points (the theory's own slope there). */
export function predictedSlope(summaries: SweepSummary[], method: RiskMethod, spec: SlopeSpec = {}): LogLogFit {
  const x = spec.x ?? ((s) => s.value);
  const sel = summaries.filter((s) => s.method === method && s.predicted !== null && (spec.where?.(s) ?? true));
  return fitLogLogSlope(sel.map(x), sel.map((s) => s.predicted));
}

/** A log-log slope of the means with its standard error, from the spread of each mean. */
export interface MeanSlope {
  slope: number;
  /** Standard error of the slope (weighted least squares, each log-mean weighted by 1/its variance). */
  se: number;
  /** Points fitted, and the repetitions behind each (the smallest count). */
  points: number;
  reps: number;
}

/**
 * Fit log(mean) = a + b·log x over one method's summaries, weighting each point by 1/Var(log mean) with
 * Var(log mean) ≈ (std/mean)²/count (the delta method), and return b with its standard error: the slope the
 * repetitions agree on, with an error bar that shrinks as repetitions are added.
 */
export function slopeOfMeans(summaries: SweepSummary[], method: RiskMethod, spec: SlopeSpec = {}): MeanSlope {
  const x = spec.x ?? ((s) => s.value);
  const sel = summaries.filter((s) => s.method === method && s.mean !== null && s.mean > 0 && s.count >= 2 && (spec.where?.(s) ?? true));
  if (sel.length < 2) throw new Error(`slopeOfMeans: need ≥ 2 points with ≥ 2 repetitions for '${method}', got ${sel.length}`);
  const pts = sel.map((s) => ({ lx: Math.log(x(s)), ly: Math.log(s.mean!), w: s.count / Math.max(1e-12, (s.std! / s.mean!) ** 2) }));
  const sw = pts.reduce((a, p) => a + p.w, 0);
  const mx = pts.reduce((a, p) => a + p.w * p.lx, 0) / sw;
  const my = pts.reduce((a, p) => a + p.w * p.ly, 0) / sw;
  const sxx = pts.reduce((a, p) => a + p.w * (p.lx - mx) ** 2, 0);
  if (sxx === 0) throw new Error(`slopeOfMeans: the points of '${method}' share one x`);
  const slope = pts.reduce((a, p) => a + p.w * (p.lx - mx) * (p.ly - my), 0) / sxx;
  return { slope, se: Math.sqrt(1 / sxx), points: sel.length, reps: Math.min(...sel.map((s) => s.count)) };
}

/** The claim "the slope is `expected` ± `tolerance`", judged on `slopeOfMeans` by the kit's rule (2·SE inside the band). */
export function claimSlope(opts: { claim: string; summaries: SweepSummary[]; method: RiskMethod; spec?: SlopeSpec; expected: number; tolerance: number }): Claim {
  const fit = slopeOfMeans(opts.summaries, opts.method, opts.spec);
  const { verdict, note } = verdictWithin(fit.slope, 2 * fit.se, fit.reps, opts.expected, opts.tolerance);
  return {
    claim: opts.claim,
    evidence: `slope of the means ${fit.slope.toFixed(2)} ± ${(2 * fit.se).toFixed(2)} (2·SE) over ${fit.points} points (expected ${opts.expected} ± ${opts.tolerance})`,
    seeds: fit.reps,
    verdict,
    note,
  };
}
