/**
 * Stage 1 of transfer in the linear model: learn the shared representation B̂ (d×r, orthonormal) from
 * the t source tasks. Three estimators, all from the sufficient statistics of `SourceStats`:
 * - `momentEstimator`: Tripuraneni, Jin, Jordan (ICML 2021) — top-r eigenvectors of (1/N)·Σ y²xxᵀ;
 * - `pairwiseMomentEstimator`: top-r eigenvectors of (1/(t·n·(n−1)))·Σ_j Σ_{i≠i'} (x_i y_i)(x_i' y_i')ᵀ,
 *   an unbiased estimate of B*(AᵀA/t)B*ᵀ;
 * - `alternatingLeastSquares`: the least-squares (ERM) fit of all tasks jointly, started from the pairwise one.
 */
import { Matrix, solve } from 'ml-matrix';
import { choleskySolve, orthonormalColumns, topEigenvectors } from './linalg';
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
  if (stats.grams.length === 0) throw new Error('alternatingLeastSquares: the source statistics have no Gram matrices (sampled with grams: false); sample them with grams: true');
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
 * The (d(d+1)/2)×(r(r+1)/2) matrix K (row-major) with vec_upper(BᵀGB) = vec_upper(G)ᵀ·K for any symmetric G:
 * K[(i,i'),(k,l)] = B_ik·B_il on the diagonal (i = i'), B_ik·B_i'l + B_i'k·B_il off it.
 */
function congruenceMatrix(b: Matrix): Float64Array {
  // stored transposed, column (k,l) after column: K[(k,l)] is a contiguous run of d(d+1)/2 numbers
  const gPairs = upperPairs(b.rows);
  const hPairs = upperPairs(b.columns);
  const bb = b.to2DArray();
  const k = new Float64Array(gPairs.length * hPairs.length);
  hPairs.forEach(([c, c2], col) => {
    gPairs.forEach(([i, i2], row) => {
      k[col * gPairs.length + row] = i === i2 ? bb[i][c] * bb[i][c2] : bb[i][c] * bb[i2][c2] + bb[i2][c] * bb[i][c2];
    });
  });
  return k;
}

/** Σ_p u[uAt + p]·v[vAt + p] over p < len. */
function dot(u: Float64Array, uAt: number, v: Float64Array, vAt: number, len: number): number {
  let s = 0;
  for (let p = 0; p < len; p++) s += u[uAt + p] * v[vAt + p];
  return s;
}

/**
 * Head step: a_j = (BᵀG_jB)⁻¹Bᵀs_j for every task (BᵀG_jB is the Gram triangle of task j times
 * `congruenceMatrix(B)`), and the objective Σ_j ‖y_j − X_j B a_j‖² = Σ yᵀy − Σ a_jᵀBᵀs_j at those heads.
 */
export function fitSourceHeads(stats: SourceStats, b: Matrix): { heads: Matrix; objective: number } {
  const r = b.columns;
  const hPairs = upperPairs(r);
  const hp = hPairs.length;
  const tri = (stats.d * (stats.d + 1)) / 2;
  const k = congruenceMatrix(b);
  const rhs = stats.xy.mmul(b).to2DArray(); // row j is (Bᵀs_j)ᵀ
  const heads = new Matrix(stats.t, r);
  const gram = new Float64Array(r * r);
  const grams = stats.grams;
  let objective = stats.yy;
  for (let j = 0; j < stats.t; j++) {
    for (let c = 0; c < hp; c++) {
      const [a, a2] = hPairs[c];
      gram[a * r + a2] = gram[a2 * r + a] = dot(grams, j * tri, k, c * tri, tri);
    }
    const head = choleskySolve(gram, rhs[j], r);
    if (head === null) throw new Error(`alternatingLeastSquares: task ${j}'s ${r}×${r} head Gram matrix BᵀXᵀXB is singular (needs n ≥ r samples in general position)`);
    heads.setRow(j, head);
    for (let a = 0; a < r; a++) objective -= head[a] * rhs[j][a];
  }
  return { heads, objective };
}

/**
 * Representation step: Σ_j G_j B a_j a_jᵀ = Σ_j s_j a_jᵀ, a (d·r)-dim linear system in vec(B) whose (k,l)
 * block is Σ_j a_jk a_jl G_j — the head weights times the stacked Gram triangles.
 */
function fitRepresentation(stats: SourceStats, heads: Matrix, r: number): Matrix {
  const { d, t } = stats;
  const hPairs = upperPairs(r);
  const gPairs = upperPairs(d);
  const tri = gPairs.length;
  const grams = stats.grams;
  const a = heads.to2DArray();
  const blocks = hPairs.map(([kk, l]) => {
    // vec_upper(Σ_j a_jk a_jl G_j)
    const block = new Float64Array(tri);
    for (let j = 0; j < t; j++) {
      const w = a[j][kk] * a[j][l];
      for (let p = 0, at = j * tri; p < tri; p++) block[p] += w * grams[at + p];
    }
    return block;
  });
  const size = d * r;
  const normal = new Float64Array(size * size);
  hPairs.forEach(([kk, l], c) => {
    gPairs.forEach(([i, i2], p) => {
      const v = blocks[c][p];
      // the block is symmetric and equal for (k,l) and (l,k): fill all four places
      normal[(kk * d + i) * size + l * d + i2] = v;
      normal[(kk * d + i2) * size + l * d + i] = v;
      normal[(l * d + i) * size + kk * d + i2] = v;
      normal[(l * d + i2) * size + kk * d + i] = v;
    });
  });
  const rhsMat = stats.xy.transpose().mmul(heads).to2DArray(); // d×r
  const rhs = Array.from({ length: size }, (_, q) => rhsMat[q % d][Math.floor(q / d)]);
  let vecB = choleskySolve(normal, rhs, size);
  if (vecB === null) {
    // rank-deficient (e.g. heads that do not span r directions yet): least-norm solution by SVD
    const full = new Matrix(Array.from({ length: size }, (_, q) => Array.from(normal.subarray(q * size, (q + 1) * size))));
    vecB = solve(full, Matrix.columnVector(rhs), true).to1DArray();
  }
  const out = new Matrix(d, r);
  for (let kk = 0; kk < r; kk++) for (let i = 0; i < d; i++) out.set(i, kk, vecB[kk * d + i]);
  return out;
}
