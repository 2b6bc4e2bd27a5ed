/**
 * Experiments over the simulation: one run (`simulateRisk`) and one sweep function (`riskSweep`) that varies
 * one knob — m, t, n or κ — or several together through `configure` (e.g. n·t held fixed while n changes).
 * Every row carries the measured excess risk and the closed-form / first-order prediction for the same run.
 */
import { Matrix } from 'ml-matrix';
import { Rng } from '../random';
import { leastSquaresRepresentation } from './erm';
import { firstOrderRisk } from './firstorder';
import { momentEstimator, pairwiseMomentEstimator } from './representation';
import {
  RiskValue,
  TargetSample,
  headExcessRisk,
  minNormExcessRisk,
  minNormRisk,
  oracleRisk,
  ridgeExcessRisk,
  ridgeLambda,
  sampleTarget,
  scratchExcessRisk,
  scratchRisk,
} from './risk';
import { RiskConfig, RiskMethod, RiskProblem, SOURCE_METHODS, SourceStats, makeProblem, sampleSourceStats } from './tasks';

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
  /** The closed-form (scratch, oracle) or first-order (learned representations) prediction, null where undefined. */
  predicted: number | null;
  reason?: string;
  /** ν = λ_min(AᵀA/t) of this run. */
  nu: number;
  /** Sizes of this run: samples per task, tasks, their product, target samples. */
  n: number;
  t: number;
  nt: number;
  m: number;
}

/** The learned (or given) representations of one run, by method. */
export type Representations = Partial<Record<RiskMethod, Matrix>>;

/** Stage 1 for every representation method in `methods` (least squares starts from the pairwise estimate). */
export function learnRepresentations(stats: SourceStats, r: number, methods: RiskMethod[], opts: { alsIters?: number; newtonSteps?: number } = {}): Representations {
  const reps: Representations = {};
  const pairwise = methods.includes('pairwise') || methods.includes('erm') ? pairwiseMomentEstimator(stats, r) : undefined;
  if (methods.includes('pairwise')) reps.pairwise = pairwise;
  if (methods.includes('moments')) reps.moments = momentEstimator(stats, r);
  if (methods.includes('erm')) reps.erm = leastSquaresRepresentation(stats, r, { init: pairwise, ...opts }).b;
  return reps;
}

/** The prediction for one method at `cfg` (head term σ²r/(m−r−1) plus the first-order source term for learned ones). */
function predictionFor(method: RiskMethod, cfg: RiskConfig, problem: RiskProblem): number | null {
  const { sigma, d, r, n, m } = cfg;
  if (method === 'scratch') return scratchRisk(sigma, d, m);
  if (method === 'minnorm') return minNormRisk(sigma, d, m);
  if (method === 'ridge') return null;
  const head = oracleRisk(sigma, r, m);
  if (method === 'oracle' || head === null) return head;
  const source = firstOrderRisk(method, problem, { d, n, sigma });
  return source === null ? null : source + head;
}

/** Stage 2 for every method on one target sample (null sample = m = ∞). */
export function measureMethods(
  cfg: RiskConfig,
  problem: RiskProblem,
  reps: Representations,
  sample: TargetSample | null,
): Array<{ method: RiskMethod; predicted: number | null } & RiskValue> {
  return cfg.methods.map((method) => {
    const predicted = predictionFor(method, cfg, problem);
    if (method === 'scratch') return { method, predicted, ...scratchExcessRisk(problem.beta0, sample) };
    if (method === 'minnorm') return { method, predicted, ...minNormExcessRisk(problem.beta0, sample) };
    if (method === 'ridge') return { method, predicted, ...ridgeExcessRisk(problem.beta0, sample, ridgeLambda(cfg.sigma, cfg.d)) };
    if (method === 'oracle') return { method, predicted, ...headExcessRisk(problem.bStar, problem.beta0, sample) };
    const basis = reps[method];
    if (!basis) throw new Error(`measureMethods: no representation learned for method '${method}'`);
    return { method, predicted, ...headExcessRisk(basis, problem.beta0, sample) };
  });
}

/** Draw the truth and run the source stage (skipped when no method learns a representation). */
function sourceStage(cfg: RiskConfig, rng: Rng): { problem: RiskProblem; reps: Representations } {
  const problem = makeProblem(cfg, rng.fork('problem'));
  if (!cfg.methods.some((m) => SOURCE_METHODS.includes(m))) return { problem, reps: {} };
  const stats = sampleSourceStats(problem, cfg.n, cfg.sigma, rng.fork('source'), { grams: cfg.methods.includes('erm') });
  return { problem, reps: learnRepresentations(stats, cfg.r, cfg.methods, { alsIters: cfg.alsIters, newtonSteps: cfg.newtonSteps }) };
}

/** The first m rows of a target sample (nested samples make curves over m smoother). */
function firstRows(sample: TargetSample, m: number): TargetSample {
  const rows = Array.from({ length: m }, (_, i) => i);
  return { x: sample.x.selection(rows, Array.from({ length: sample.x.columns }, (_, j) => j)), y: sample.y.subMatrix(0, m - 1, 0, 0) };
}

type RunRow = Omit<SweepRow, 'param' | 'value' | 'rep'>;

function runRows(cfg: RiskConfig, problem: RiskProblem, reps: Representations, sample: TargetSample | null): RunRow[] {
  return measureMethods(cfg, problem, reps, sample).map((row) => ({ ...row, nu: problem.nu, n: cfg.n, t: cfg.t, nt: cfg.n * cfg.t, m: cfg.m }));
}

/** One full run at `cfg`: draw the truth, the source data, learn B̂, draw m target samples, measure every method. */
export function simulateRisk(cfg: RiskConfig, rng: Rng): { problem: RiskProblem; rows: RunRow[] } {
  const { problem, reps } = sourceStage(cfg, rng);
  const sample = cfg.m === Infinity ? null : sampleTarget(problem.beta0, cfg.m, cfg.sigma, rng.fork('target'));
  return { problem, rows: runRows(cfg, problem, reps, sample) };
}

/** Options of `riskSweep`. */
export interface SweepOptions {
  /** Config changes for one value (default `{ [param]: value }`; e.g. `(n) => ({ n, t: 800 / n })` keeps n·t fixed). */
  configure?: (value: number) => Partial<RiskConfig>;
  /**
   * Draw every value of a repetition from the same random stream (common random numbers): the same B*, the same
   * first draws of the heads and of the inputs, so a repetition's curve over the values is smooth and its
   * fitted slope precise. Off by default: then each value gets its own stream.
   */
  paired?: boolean;
}

/**
 * Sweep one knob over `values`, `cfg.reps` repetitions each, every method of `cfg.methods` (see `SweepOptions`).
 * Sweeping m reuses each repetition's source stage (one B̂ per repetition) and nests the target samples (the
 * first m of one draw), so each repetition's curve over m is one learner seeing more data.
 * Repetition `rep` draws from `new Rng(\`${seed}/${param}/rep${rep}\`)`: the same config gives the same rows.
 */
export function riskSweep(cfg: RiskConfig, param: SweepParam, values: number[], opts: SweepOptions = {}): SweepRow[] {
  if (values.length === 0) throw new Error(`riskSweep: no values given for '${param}'`);
  const configure = opts.configure ?? ((value: number) => ({ [param]: value }));
  const rows: SweepRow[] = [];
  for (let rep = 0; rep < cfg.reps; rep++) {
    const rng = new Rng(`${cfg.seed}/${param}/rep${rep}`);
    if (param === 'm') {
      const { problem, reps } = sourceStage(cfg, rng);
      const finite = values.filter((m) => m !== Infinity);
      const full = finite.length ? sampleTarget(problem.beta0, Math.max(...finite), cfg.sigma, rng.fork('target')) : null;
      for (const m of values) {
        const sample = m === Infinity || full === null ? null : firstRows(full, m);
        for (const row of runRows({ ...cfg, m }, problem, reps, sample)) rows.push({ param, value: m, rep, ...row });
      }
      continue;
    }
    for (const value of values) {
      const run = simulateRisk({ ...cfg, ...configure(value) }, rng.fork(opts.paired ? 'paired' : `${param}=${value}`));
      for (const row of run.rows) rows.push({ param, value, rep, ...row });
    }
  }
  return rows;
}
