/**
 * Thin helpers over `ml-matrix` for the risk-bound simulation: Gaussian matrices from the kit's seeded
 * `Rng`, orthonormal bases (QR), top eigenvectors of a symmetric matrix, least squares, principal angles.
 * The decompositions themselves are ml-matrix's; nothing here re-implements one.
 */
import { Matrix, QrDecomposition, EigenvalueDecomposition, SingularValueDecomposition } from 'ml-matrix';
import { Rng } from '../random';

export { Matrix };

/** A rows×cols matrix of independent N(0, std²) draws from `rng` (row by row, so seeds reproduce). */
export function randomNormalMatrix(rows: number, cols: number, rng: Rng, std = 1): Matrix {
  return new Matrix(Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal(0, std))));
}

/** An orthonormal basis of the column span of `m` (thin QR; requires rows ≥ columns). */
export function orthonormalColumns(m: Matrix): Matrix {
  if (m.rows < m.columns) {
    throw new Error(`orthonormalColumns: need rows ≥ columns, got a ${m.rows}×${m.columns} matrix`);
  }
  return new QrDecomposition(m).orthogonalMatrix;
}

/** A d×r matrix with orthonormal columns drawn uniformly (QR of a Gaussian matrix). */
export function randomOrthonormal(d: number, r: number, rng: Rng): Matrix {
  return orthonormalColumns(randomNormalMatrix(d, r, rng));
}

/** Eigenvalues of a symmetric matrix, ascending. */
export function symmetricEigenvalues(sym: Matrix): number[] {
  return new EigenvalueDecomposition(sym, { assumeSymmetric: true }).realEigenvalues.slice().sort((a, b) => a - b);
}

/** The k eigenvectors of a symmetric matrix with the largest eigenvalues, as the columns of a (rows×k) matrix. */
export function topEigenvectors(sym: Matrix, k: number): Matrix {
  if (!sym.isSquare()) throw new Error(`topEigenvectors: expected a square matrix, got ${sym.rows}×${sym.columns}`);
  if (k < 1 || k > sym.rows) throw new Error(`topEigenvectors: k must be in 1..${sym.rows}, got ${k}`);
  const evd = new EigenvalueDecomposition(sym, { assumeSymmetric: true });
  const order = evd.realEigenvalues.map((v, i) => [v, i] as const).sort((a, b) => b[0] - a[0]);
  const cols = order.slice(0, k).map(([, i]) => i);
  return evd.eigenvectorMatrix.subMatrixColumn(cols);
}

/** Least-squares solution of `x · w ≈ y` (x: m×k with m ≥ k and full column rank, y: m×1), by QR. */
export function leastSquares(x: Matrix, y: Matrix): Matrix {
  if (x.rows !== y.rows) throw new Error(`leastSquares: x has ${x.rows} rows but y has ${y.rows}`);
  if (x.rows < x.columns) {
    throw new Error(`leastSquares: ${x.rows} equations for ${x.columns} unknowns (need rows ≥ columns)`);
  }
  const qr = new QrDecomposition(x);
  if (!qr.isFullRank()) throw new Error(`leastSquares: the ${x.rows}×${x.columns} design is rank-deficient`);
  return qr.solve(y);
}

/**
 * Distance between the column spans of two matrices with orthonormal columns: the sine of the largest
 * principal angle, sqrt(1 − σ_min(Uᵀ V)²). 0 when the spans agree, 1 when some direction is orthogonal.
 */
export function subspaceDistance(u: Matrix, v: Matrix): number {
  if (u.rows !== v.rows || u.columns !== v.columns) {
    throw new Error(`subspaceDistance: shapes differ, ${u.rows}×${u.columns} vs ${v.rows}×${v.columns}`);
  }
  const sv = new SingularValueDecomposition(u.transpose().mmul(v), { computeLeftSingularVectors: false, computeRightSingularVectors: false }).diagonal;
  const smin = Math.min(...sv);
  return Math.sqrt(Math.max(0, 1 - smin * smin));
}

/** Squared Euclidean norm of a column vector (or of all entries of a matrix). */
export function squaredNorm(m: Matrix): number {
  let s = 0;
  for (const row of m.to2DArray()) for (const v of row) s += v * v;
  return s;
}

/** Solve the symmetric positive-definite system A·x = b (A size×size, row-major) by Cholesky; null if A is not PD. */
export function choleskySolve(a: Float64Array, b: number[], size: number): number[] | null {
  const l = new Float64Array(size * size);
  for (let i = 0; i < size; i++) {
    for (let j = 0; j <= i; j++) {
      let s = a[i * size + j];
      for (let k = 0; k < j; k++) s -= l[i * size + k] * l[j * size + k];
      if (i === j) {
        if (!(s > 1e-12 * Math.abs(a[i * size + i]))) return null;
        l[i * size + i] = Math.sqrt(s);
      } else l[i * size + j] = s / l[j * size + j];
    }
  }
  const z = b.slice();
  for (let i = 0; i < size; i++) {
    for (let k = 0; k < i; k++) z[i] -= l[i * size + k] * z[k];
    z[i] /= l[i * size + i];
  }
  for (let i = size - 1; i >= 0; i--) {
    for (let k = i + 1; k < size; k++) z[i] -= l[k * size + i] * z[k];
    z[i] /= l[i * size + i];
  }
  return z;
}
