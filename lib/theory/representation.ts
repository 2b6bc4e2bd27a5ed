/**
 * Stage 1 of transfer in the linear model: learn the shared representation B̂ (d×r, orthonormal) from
 * the t source tasks. Three estimators, all from the sufficient statistics of `SourceStats`:
 * - `momentEstimator`: Tripuraneni, Jin, Jordan (ICML 2021) — top-r eigenvectors of (1/N)·Σ y²xxᵀ;
 * - `pairwiseMomentEstimator`: top-r eigenvectors of (1/(t·n·(n−1)))·Σ_j Σ_{i≠i'} (x_i y_i)(x_i' y_i')ᵀ,
 *   an unbiased estimate of B*(AᵀA/t)B*ᵀ;
 * - `alternatingLeastSquares`: the least-squares (ERM) fit of all tasks jointly, started from the pairwise one.
 */
import { CholeskyDecomposition, Matrix, solve } from 'ml-matrix';
import { orthonormalColumns, topEigenvectors } from './linalg';
import { SourceStats, upperPairs } from './tasks';

/** TJJ's method of moments: top-r eigenvectors of (1/(n·t))·Σ_i y_i² x_i x_iᵀ = (‖β‖²+σ²)I + 2·avg ββᵀ + noise. */
export function momentEstimator(stats: SourceStats, r: number): Matrix {
  return topEigenvectors(stats.y2xx.clone().div(stats.n * stats.t), r);
}

/** Pairwise moment estimator: top-r eigenvectors of (Σ_j s_j s_jᵀ − Σ y²xxᵀ)/(t·n·(n−1)), s_j = X_jᵀy_j. */
export function pairwiseMomentEstimator(stats: SourceStats, r: number): Matrix {
  const { n, t } = stats;
  const m = stats.xy.transpose().mmul(stats.xy).sub(stats.y2xx).div(t * n * (n - 1));
  return topEigenvectors(m, r);
}

/** Result of the joint least-squares fit over the source tasks. */
export interface AlsResult {
  /** d×r orthonormal learned representation. */
  b: Matrix;
  /** t×r learned source heads (in the basis of `b`). */
  heads: Matrix;
  /** Iterations run. */
  iterations: number;
  /** Final objective Σ_j ‖y_j − X_j B a_j‖². */
  objective: number;
}

/**
 * Alternating least squares for min over B, a_1..a_t of Σ_j ‖y_j − X_j B a_j‖²: per-task r-dim least squares
 * for the heads, then one (d·r)-dim least squares for B, then QR. Starts at `init` (default: the pairwise
 * moment estimate) and stops after `maxIters` or when the objective's relative change is below `tol`.
 */
export function alternatingLeastSquares(
  stats: SourceStats,
  r: number,
  opts: { init?: Matrix; maxIters?: number; tol?: number } = {},
): AlsResult {
  const { d, t } = stats;
  if (stats.n < r) throw new Error(`alternatingLeastSquares: n = ${stats.n} samples per task cannot fit an r = ${r} head`);
  const maxIters = opts.maxIters ?? 25;
  const tol = opts.tol ?? 1e-6;
  let b = opts.init ?? pairwiseMomentEstimator(stats, r);
  let step = fitSourceHeads(stats, b);
  let iterations = 0;
  while (iterations < maxIters) {
    iterations++;
    b = orthonormalColumns(fitRepresentation(stats, step.heads, r));
    const next = fitSourceHeads(stats, b);
    const settled = Math.abs(step.objective - next.objective) <= tol * Math.max(1, step.objective);
    step = next;
    if (settled) break;
  }
  if (b.rows !== d) throw new Error(`alternatingLeastSquares: representation has ${b.rows} rows, expected d = ${d}`);
  return { b, heads: step.heads, iterations, objective: step.objective };
}

/**
 * The (d(d+1)/2)×(r(r+1)/2) matrix K with vec_upper(BᵀGB) = vec_upper(G)ᵀ·K for any symmetric G:
 * K[(i,i'),(k,l)] = B_ik·B_il on the diagonal (i = i'), B_ik·B_i'l + B_i'k·B_il off it.
 */
function congruenceMatrix(b: Matrix): Matrix {
  const gPairs = upperPairs(b.rows);
  const hPairs = upperPairs(b.columns);
  const k = new Matrix(gPairs.length, hPairs.length);
  gPairs.forEach(([i, i2], row) => {
    hPairs.forEach(([c, c2], col) => {
      const v = i === i2 ? b.get(i, c) * b.get(i, c2) : b.get(i, c) * b.get(i2, c2) + b.get(i2, c) * b.get(i, c2);
      k.set(row, col, v);
    });
  });
  return k;
}

/**
 * Head step: a_j = (BᵀG_jB)⁻¹Bᵀs_j for every task at once (BᵀG_jB for all j is one product of the stacked
 * Gram triangles with `congruenceMatrix(B)`), and the objective Σ_j ‖y_j − X_j B a_j‖² = Σ yᵀy − Σ a_jᵀBᵀs_j
 * at those optimal heads.
 */
function fitSourceHeads(stats: SourceStats, b: Matrix): { heads: Matrix; objective: number } {
  const r = b.columns;
  const hPairs = upperPairs(r);
  const projected = stats.grams.mmul(congruenceMatrix(b)); // t×r(r+1)/2: row j is vec_upper(BᵀG_jB)
  const rhs = stats.xy.mmul(b); // t×r: row j is (Bᵀs_j)ᵀ
  const heads = new Matrix(stats.t, r);
  const gram = new Matrix(r, r);
  let objective = stats.yy;
  for (let j = 0; j < stats.t; j++) {
    hPairs.forEach(([k, l], col) => {
      gram.set(k, l, projected.get(j, col));
      gram.set(l, k, projected.get(j, col));
    });
    const a = solve(gram, rhs.getRowVector(j).transpose()).to1DArray();
    heads.setRow(j, a);
    for (let k = 0; k < r; k++) objective -= a[k] * rhs.get(j, k);
  }
  return { heads, objective };
}

/**
 * Representation step: Σ_j G_j B a_j a_jᵀ = Σ_j s_j a_jᵀ, a (d·r)-dim linear system in vec(B) whose (k,l)
 * block is Σ_j a_jk a_jl G_j — one product of the head weights with the stacked Gram triangles.
 */
function fitRepresentation(stats: SourceStats, heads: Matrix, r: number): Matrix {
  const { d, t } = stats;
  const hPairs = upperPairs(r);
  const gPairs = upperPairs(d);
  const weights = new Matrix(t, hPairs.length);
  for (let j = 0; j < t; j++) hPairs.forEach(([k, l], col) => weights.set(j, col, heads.get(j, k) * heads.get(j, l)));
  const blocks = weights.transpose().mmul(stats.grams); // row (k,l) is vec_upper(Σ_j a_jk a_jl G_j)
  const normal = new Matrix(d * r, d * r);
  hPairs.forEach(([k, l], row) => {
    gPairs.forEach(([i, i2], col) => {
      const v = blocks.get(row, col);
      // the block Σ_j a_jk a_jl G_j is symmetric and equal for (k,l) and (l,k): fill all four places
      normal.set(k * d + i, l * d + i2, v);
      normal.set(k * d + i2, l * d + i, v);
      normal.set(l * d + i, k * d + i2, v);
      normal.set(l * d + i2, k * d + i, v);
    });
  });
  const rhsMat = stats.xy.transpose().mmul(heads); // d×r
  const rhs = new Matrix(d * r, 1);
  for (let k = 0; k < r; k++) for (let i = 0; i < d; i++) rhs.set(k * d + i, 0, rhsMat.get(i, k));
  const chol = new CholeskyDecomposition(normal);
  const vecB = chol.isPositiveDefinite() ? chol.solve(rhs) : solve(normal, rhs, true);
  const out = new Matrix(d, r);
  for (let k = 0; k < r; k++) for (let i = 0; i < d; i++) out.set(i, k, vecB.get(k * d + i, 0));
  return out;
}
