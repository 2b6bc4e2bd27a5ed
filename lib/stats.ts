/**
 * Numbers over seeds, and the one rule every comparative sentence of the course follows: a difference is claimed
 * only when it exceeds the spread measured — two standard errors of the difference (of the per-seed differences
 * when the runs are paired, i.e. share a seed's split) — and only from at least MIN_SEEDS seeds per side.
 */

/** Seeds a comparison needs before it may give a verdict other than 'inconclusive'. */
export const MIN_SEEDS = 3;

/** What a run says about a claim. */
export type Verdict = 'holds' | 'does not hold' | 'inconclusive';

/** One row of a notebook's "What this run showed" table. */
export interface Claim {
  /** The sentence claimed (by the lecture, a paper, or the text), with its source. */
  claim: string;
  /** The numbers behind the verdict, e.g. "freeze 0.72 ± 0.01 vs scratch 0.27 ± 0.02 (3 seeds)". */
  evidence: string;
  /** Seeds (or repetitions) per side. */
  seeds: number;
  verdict: Verdict;
  /** Why the verdict is what it is (the rule applied, or "one seed — indicative only"). */
  note?: string;
}

function finite(values: readonly number[], what: string): number[] {
  if (!Array.isArray(values) && !ArrayBuffer.isView(values)) throw new Error(`${what}: expected an array of numbers`);
  const out = Array.from(values);
  out.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${what}: value ${i} is ${v}, expected a finite number`);
  });
  return out;
}

/** Arithmetic mean (NaN for no values). */
export function mean(values: readonly number[]): number {
  return values.length === 0 ? NaN : values.reduce((s, v) => s + v, 0) / values.length;
}

/** Sample standard deviation (n − 1 in the denominator); 0 for fewer than two values. */
export function std(values: readonly number[]): number {
  if (values.length < 2) return 0;
  const m = mean(values);
  return Math.sqrt(values.reduce((s, v) => s + (v - m) ** 2, 0) / (values.length - 1));
}

/** Standard error of the mean: std / √n (0 for fewer than two values). */
export function standardError(values: readonly number[]): number {
  return values.length < 2 ? 0 : std(values) / Math.sqrt(values.length);
}

/** "0.72 ± 0.01" (mean ± sample std); a single value is printed alone. */
export function formatMeanStd(values: readonly number[], digits = 3): string {
  if (values.length === 0) return '—';
  const m = mean(values).toFixed(digits);
  return values.length === 1 ? m : `${m} ± ${std(values).toFixed(digits)}`;
}

/** A difference of means and the spread it must exceed (two standard errors of that difference). */
export interface Difference {
  /** mean(a) − mean(b). */
  diff: number;
  /** 2 × standard error of the difference. */
  spread: number;
  /** Values per side (the smaller side when unpaired). */
  n: number;
  paired: boolean;
}

/**
 * mean(a) − mean(b) and twice its standard error: paired → 2·SE of the per-seed differences a[i] − b[i] (a and b
 * must align by seed); unpaired → 2·√(SE(a)² + SE(b)²).
 */
export function differenceOfMeans(a: readonly number[], b: readonly number[], opts: { paired?: boolean } = {}): Difference {
  const x = finite(a, 'differenceOfMeans a');
  const y = finite(b, 'differenceOfMeans b');
  if (opts.paired) {
    if (x.length !== y.length) throw new Error(`differenceOfMeans: paired samples need equal lengths, got ${x.length} and ${y.length}`);
    const d = x.map((v, i) => v - y[i]);
    return { diff: mean(d), spread: 2 * standardError(d), n: d.length, paired: true };
  }
  return { diff: mean(x) - mean(y), spread: 2 * Math.hypot(standardError(x), standardError(y)), n: Math.min(x.length, y.length), paired: false };
}

function tooFew(n: number): string {
  return n <= 1 ? 'one seed — indicative only' : `${n} seeds — indicative only (a verdict needs ${MIN_SEEDS})`;
}

/** Verdict on "a exceeds b": holds when the difference exceeds its spread, does not hold when b exceeds a by more. */
export function verdictGreater(d: Difference): { verdict: Verdict; note: string } {
  const rule = `difference ${signed(d.diff)} vs 2·SE ${d.spread.toFixed(3)}${d.paired ? ' (paired by seed)' : ''}`;
  if (d.n < MIN_SEEDS) return { verdict: 'inconclusive', note: tooFew(d.n) };
  if (d.diff > d.spread) return { verdict: 'holds', note: rule };
  if (d.diff < -d.spread) return { verdict: 'does not hold', note: `${rule}: the opposite holds` };
  return { verdict: 'inconclusive', note: `${rule}: within the spread` };
}

/** Verdict on "x lies within ±tolerance of the expected value", given x's spread (2·SE): the whole interval decides. */
export function verdictWithin(x: number, spread: number, n: number, expected: number, tolerance: number): { verdict: Verdict; note: string } {
  const lo = x - spread - expected;
  const hi = x + spread - expected;
  const rule = `${x.toPrecision(3)} ± ${spread.toPrecision(2)} (2·SE) against ${expected} ± ${tolerance}`;
  if (n < MIN_SEEDS) return { verdict: 'inconclusive', note: tooFew(n) };
  if (lo >= -tolerance && hi <= tolerance) return { verdict: 'holds', note: rule };
  if (hi < -tolerance || lo > tolerance) return { verdict: 'does not hold', note: rule };
  return { verdict: 'inconclusive', note: `${rule}: the interval straddles the tolerance` };
}

function signed(v: number): string {
  return `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;
}

/** "freeze 0.720 ± 0.010 vs scratch 0.270 ± 0.020". */
function pairEvidence(a: LabelledValues, b: LabelledValues, digits = 3): string {
  return `${a.label} ${formatMeanStd(a.values, digits)} vs ${b.label} ${formatMeanStd(b.values, digits)}`;
}

/** A labelled sample (one value per seed). */
export interface LabelledValues {
  label: string;
  values: readonly number[];
}

/**
 * The claim "a exceeds b" judged by the rule: e.g.
 * `claimGreater({ claim: 'freezing beats scratch at m = 10', a: { label: 'freeze', values: f }, b: { label: 'scratch', values: s }, paired: true })`.
 */
export function claimGreater(opts: { claim: string; a: LabelledValues; b: LabelledValues; paired?: boolean; digits?: number }): Claim {
  const d = differenceOfMeans(opts.a.values, opts.b.values, { paired: opts.paired });
  return { claim: opts.claim, evidence: pairEvidence(opts.a, opts.b, opts.digits), seeds: d.n, ...verdictGreater(d) };
}

/** The claim "the values lie within ±tolerance of `expected`" (e.g. a fitted slope near the theory's −1). */
export function claimWithin(opts: { claim: string; label: string; values: readonly number[]; expected: number; tolerance: number; digits?: number }): Claim {
  const x = finite(opts.values, 'claimWithin values');
  const { verdict, note } = verdictWithin(mean(x), 2 * standardError(x), x.length, opts.expected, opts.tolerance);
  return {
    claim: opts.claim,
    evidence: `${opts.label} ${formatMeanStd(x, opts.digits ?? 3)} (expected ${opts.expected} ± ${opts.tolerance})`,
    seeds: x.length,
    verdict,
    note,
  };
}

/** The claim "a and b differ by at most ±tolerance" (e.g. two strategies that train the same head land together). */
export function claimClose(opts: { claim: string; a: LabelledValues; b: LabelledValues; tolerance: number; paired?: boolean; digits?: number }): Claim {
  const d = differenceOfMeans(opts.a.values, opts.b.values, { paired: opts.paired });
  return { claim: opts.claim, evidence: pairEvidence(opts.a, opts.b, opts.digits), seeds: d.n, ...verdictWithin(d.diff, d.spread, d.n, 0, opts.tolerance) };
}

/**
 * A claim checked by a computation with no randomness in it (an identity, a file format, arithmetic): one run
 * decides it, so it needs no seeds. Use claimGreater / claimWithin for anything a seed can change.
 */
export function claimObserved(opts: { claim: string; evidence: string; holds: boolean; why?: string }): Claim {
  if (typeof opts.holds !== 'boolean') throw new Error(`claimObserved '${opts.claim}': holds must be true or false, got ${String(opts.holds)}`);
  return { claim: opts.claim, evidence: opts.evidence, seeds: 1, verdict: opts.holds ? 'holds' : 'does not hold', note: opts.why ?? 'deterministic: one run decides' };
}
