/**
 * The linear-representation model of the risk bound (Tripuraneni–Jordan–Jin 2020; Du et al. 2021):
 * x ~ N(0, I_d), a shared representation x ↦ B*ᵀx with B* ∈ ℝ^{d×r} orthonormal, source task j has the
 * head a_j (a row of A ∈ ℝ^{t×r}) and labels y = xᵀB*a_j + σε; the target has β₀ = B*w₀ with ‖w₀‖ = 1.
 * Task diversity ν = λ_min(AᵀA/t): how well the t source heads cover every direction of the representation.
 */
import { CholeskyDecomposition, Matrix } from 'ml-matrix';
import { quickOr } from '../config';
import { Rng } from '../random';
import { orthonormalColumns, randomNormalMatrix, randomOrthonormal, symmetricEigenvalues, topEigenvectors } from './linalg';

/** Which target the simulation asks for: a random unit w₀, or the direction the source heads cover least. */
export type TargetKind = 'random' | 'worst';

/**
 * Ways to get the target predictor: a representation learned from the sources (least squares 'erm', the
 * pairwise moments, TJJ's moments), a learner on the raw features from scratch (OLS, minimum-norm least
 * squares, ridge), or the true B* ('oracle').
 */
export type RiskMethod = 'erm' | 'pairwise' | 'moments' | 'scratch' | 'minnorm' | 'ridge' | 'oracle';

/** The methods that learn a representation from the source tasks (stage 1). */
export const SOURCE_METHODS: readonly RiskMethod[] = ['erm', 'pairwise', 'moments'];

/** Every knob of the simulation; override by spreading `{ ...DEFAULT_RISK_CONFIG, t: 40 }`. */
export interface RiskConfig {
  /** Input dimension d (the raw features; C(𝒞) = d·r² in Tripuraneni–Jordan–Jin's corollary). */
  d: number;
  /** Representation dimension r (the head has r parameters: C(𝒱) ∝ r). */
  r: number;
  /** Number of source tasks t. */
  t: number;
  /** Labelled samples per source task n. */
  n: number;
  /** Labelled target samples m; `Infinity` fits the head on the population (isolates the source term). */
  m: number;
  /** Label noise standard deviation σ. */
  sigma: number;
  /** Condition number κ of the source heads A (1 = most diverse, ν = 1/r; large κ = poorly covered direction). */
  kappa: number;
  /** The target head w₀: random on the unit sphere, or aligned with the least-covered direction. */
  target: TargetKind;
  /** Alternating-least-squares iterations before Newton polishes the least-squares fit (stops earlier once settled). */
  alsIters: number;
  /** At most this many damped Newton steps finish the least-squares fit (stops earlier once the objective settles). */
  newtonSteps: number;
  /** Methods a sweep measures. */
  methods: RiskMethod[];
  /** Repetitions per swept value (fresh B*, A, w₀ and data each time). */
  reps: number;
  /** Seed of the whole experiment. */
  seed: number;
}

/** Defaults (d = 20, r = 3, σ = 0.5, t = 20 tasks of n = 40); quick mode only cuts reps. */
export const DEFAULT_RISK_CONFIG: RiskConfig = {
  d: 20, // raw dimension: OLS from scratch needs m > d + 1 = 21 target samples
  r: 3, // shared representation: a transferred head needs only m > r + 1 = 4
  t: 20, // source tasks
  n: 40, // samples per source task: ν·n·t = 267 ≈ 13·d at κ = 1, past the 10·d the first-order forms need
  m: 16, // target samples: below d, where OLS from scratch cannot be fitted
  sigma: 0.5, // noise: signal ‖β‖² = 1 on average, so SNR = 4
  kappa: 1, // perfectly diverse sources: ν = 1/r
  target: 'random',
  alsIters: 25, // then Newton steps finish the least-squares fit
  newtonSteps: 20, // enough to converge from the ALS point except at n ≈ r + 2 with few tasks
  methods: ['erm', 'moments', 'scratch', 'oracle'],
  get reps() {
    return quickOr(12, 3); // read when the config is spread, so KIT_QUICK set later still counts
  },
  seed: 0,
};

/** The hidden truth of one experiment: representation, source heads, target head and their diversity. */
export interface RiskProblem {
  /** d×r orthonormal true representation B*. */
  bStar: Matrix;
  /** t×r source heads, ‖A‖²_F / t = 1. */
  heads: Matrix;
  /** r×1 target head w₀ (unit norm). */
  w0: Matrix;
  /** d×1 target parameter β₀ = B*w₀. */
  beta0: Matrix;
  /** Task diversity ν = λ_min(AᵀA/t). */
  nu: number;
  /** w₀ᵀ(AᵀA/t)⁻¹w₀: how badly the sources cover this target (= 1/ν for the worst case, r on average at κ = 1). */
  coverage: number;
}

/**
 * Source heads A = U·diag(s)·Vᵀ (t×r) with singular values geometric from 1 to 1/κ, scaled so that
 * ‖A‖²_F / t = 1 (each task has unit signal on average). Needs t ≥ r: fewer tasks cannot span r directions.
 */
export function sourceHeads(t: number, r: number, kappa: number, rng: Rng): Matrix {
  if (t < r) throw new Error(`sourceHeads: t = ${t} tasks cannot span r = ${r} directions (need t ≥ r)`);
  if (!(kappa >= 1)) throw new Error(`sourceHeads: condition number κ must be ≥ 1, got ${kappa}`);
  const u = orthonormalColumns(randomNormalMatrix(t, r, rng));
  const v = orthonormalColumns(randomNormalMatrix(r, r, rng));
  const raw = Array.from({ length: r }, (_, i) => (r === 1 ? 1 : Math.pow(kappa, -i / (r - 1))));
  const scale = Math.sqrt(t / raw.reduce((acc, s) => acc + s * s, 0));
  return u.mmul(Matrix.diag(raw.map((s) => s * scale))).mmul(v.transpose());
}

/** Task diversity ν = λ_min(AᵀA/t) of a t×r head matrix (= 1/r for perfectly spread unit-signal heads). */
export function taskDiversity(heads: Matrix): number {
  return symmetricEigenvalues(headCovariance(heads))[0];
}

/** AᵀA/t, the r×r second moment of the source heads. */
export function headCovariance(heads: Matrix): Matrix {
  return heads.transpose().mmul(heads).div(heads.rows);
}

/** Draw one experiment's truth from `cfg` (B*, A, w₀) with its diversity and the target's coverage. */
export function makeProblem(cfg: RiskConfig, rng: Rng): RiskProblem {
  const { d, r, t, kappa } = cfg;
  if (r > d) throw new Error(`makeProblem: representation dimension r = ${r} exceeds input dimension d = ${d}`);
  const bStar = randomOrthonormal(d, r, rng);
  const heads = sourceHeads(t, r, kappa, rng);
  const cov = headCovariance(heads);
  let w0: Matrix;
  if (cfg.target === 'worst') {
    // the eigenvector of AᵀA/t with the smallest eigenvalue: the direction the sources saw least
    w0 = topEigenvectors(cov.clone().mul(-1), 1);
  } else {
    w0 = randomNormalMatrix(r, 1, rng);
    w0 = w0.div(w0.norm());
  }
  const coverage = w0.transpose().mmul(solveSymmetric(cov, w0)).get(0, 0);
  return { bStar, heads, w0, beta0: bStar.mmul(w0), nu: taskDiversity(heads), coverage };
}

function solveSymmetric(a: Matrix, b: Matrix): Matrix {
  // a is r×r and positive definite (AᵀA/t with t ≥ r); ml-matrix's Cholesky solves it
  const chol = new CholeskyDecomposition(a);
  if (!chol.isPositiveDefinite()) throw new Error(`makeProblem: AᵀA/t (${a.rows}×${a.columns}) is not positive definite`);
  return chol.solve(b);
}

/**
 * What the representation learners need from the source data, reduced to sufficient statistics:
 * per-task Gram matrices G_j = X_jᵀX_j (upper triangles, task after task, in `grams`: t·d(d+1)/2 numbers in
 * the order of `upperPairs(d)`; empty when sampled with `grams: false`), cross moments s_j = X_jᵀy_j (rows of `xy`, t×d), Σ_j X_jᵀdiag(y_j²)X_j (d×d), Σ_j y_jᵀy_j.
 */
export interface SourceStats {
  t: number;
  n: number;
  d: number;
  grams: Float64Array;
  xy: Matrix;
  y2xx: Matrix;
  yy: number;
}

/**
 * Draw n samples for each of the t source tasks (x ~ N(0, I), y = xᵀB*a_j + σε) and reduce them. The draws are
 * those of `randomNormalMatrix(n, d)` then n noise values, task by task; the sums run over typed arrays (the
 * sums of one task are O(n·d²), and this is the simulation's inner loop). `grams: false` skips the per-task
 * Gram matrices (only ALS needs them; the moment estimators use Xᵀy and Σ y²xxᵀ).
 */
export function sampleSourceStats(problem: RiskProblem, n: number, sigma: number, rng: Rng, opts: { grams?: boolean } = {}): SourceStats {
  const d = problem.bStar.rows;
  const t = problem.heads.rows;
  if (!Number.isInteger(n) || n < 2) throw new Error(`sampleSourceStats: need an integer n ≥ 2 samples per task, got ${n}`);
  const withGrams = opts.grams ?? true;
  const tri = (d * (d + 1)) / 2;
  const betas = problem.bStar.mmul(problem.heads.transpose()).transpose().to2DArray(); // row j is β_j = B*a_j
  const grams = new Float64Array(withGrams ? t * tri : 0);
  const xy = new Float64Array(t * d);
  const y2xx = new Float64Array(tri);
  const x = new Float64Array(n * d);
  const y = new Float64Array(n);
  let yy = 0;
  for (let j = 0; j < t; j++) {
    for (let k = 0; k < n * d; k++) x[k] = rng.normal();
    const beta = betas[j];
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let c = 0; c < d; c++) v += x[i * d + c] * beta[c];
      y[i] = v;
    }
    for (let i = 0; i < n; i++) y[i] += sigma * rng.normal();
    for (let i = 0; i < n; i++) yy += y[i] * y[i];
    accumulateTask(x, y, d, xy.subarray(j * d, (j + 1) * d), y2xx, withGrams ? grams.subarray(j * tri, (j + 1) * tri) : null);
  }
  return { t, n, d, grams, xy: rowsMatrix(xy, t, d), y2xx: fromUpper(y2xx, d), yy };
}

/** Add one task's Xᵀy to `xy`, Σ y²·xxᵀ to `y2xx` and XᵀX to `gram` (upper triangles, in `upperPairs` order). */
function accumulateTask(x: Float64Array, y: Float64Array, d: number, xy: Float64Array, y2xx: Float64Array, gram: Float64Array | null): void {
  for (let i = 0, at = 0; i < y.length; i++, at += d) {
    const yi = y[i];
    const y2 = yi * yi;
    for (let a = 0, k = 0; a < d; a++) {
      const xa = x[at + a];
      xy[a] += xa * yi;
      const w = y2 * xa;
      for (let b = a; b < d; b++, k++) y2xx[k] += w * x[at + b];
    }
    if (gram === null) continue;
    for (let a = 0, k = 0; a < d; a++) {
      const xa = x[at + a];
      for (let b = a; b < d; b++, k++) gram[k] += xa * x[at + b];
    }
  }
}

function rowsMatrix(values: Float64Array, rows: number, cols: number): Matrix {
  return new Matrix(Array.from({ length: rows }, (_, i) => Array.from(values.subarray(i * cols, (i + 1) * cols))));
}

/** The symmetric d×d matrix whose upper triangle (row by row) is `upper`. */
function fromUpper(upper: Float64Array, d: number): Matrix {
  const m = new Matrix(d, d);
  let k = 0;
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++, k++) {
      m.set(a, b, upper[k]);
      m.set(b, a, upper[k]);
    }
  }
  return m;
}

/** The index pairs (i, i') with i ≤ i' < size, row by row: the layout of a symmetric matrix's upper triangle. */
export function upperPairs(size: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (let i = 0; i < size; i++) for (let i2 = i; i2 < size; i2++) out.push([i, i2]);
  return out;
}

/**
 * The spectrum of a trained classifier's head seen as t source heads: `kernel` is features × classes (a dense
 * layer's weights); the columns are centred first (softmax ignores a shift common to every logit), then the
 * singular values, their rank, and ν = λ_min(AᵀA/t) over the span the heads reach (0 over any wider span).
 */
export function headSpectrum(kernel: number[][]): { singularValues: number[]; rank: number; width: number; heads: number } {
  if (kernel.length === 0 || kernel[0].length === 0) throw new Error('headSpectrum: empty kernel; pass the features × classes weights of a dense layer');
  const centred = kernel.map((row) => {
    const mu = row.reduce((a, b) => a + b, 0) / row.length;
    return row.map((v) => v - mu);
  });
  const m = new Matrix(centred);
  const sv = symmetricEigenvalues(m.transpose().mmul(m)).reverse().map((v) => Math.sqrt(Math.max(0, v)));
  return { singularValues: sv, rank: sv.filter((v) => v > 1e-6 * sv[0]).length, width: kernel.length, heads: kernel[0].length };
}
