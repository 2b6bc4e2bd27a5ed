/**
 * Newton's method for the least-squares representation (the ERM of the source stage): minimise the profiled
 * objective F(B) = Σ_j min_a ‖y_j − X_j B a‖² = Σ yᵀy − Σ_j s_jᵀB(BᵀG_jB)⁻¹Bᵀs_j over d×r orthonormal B.
 * ALS converges slowly when each task has few samples (n close to r); a handful of Newton steps from the ALS
 * point reach the minimiser. Everything comes from the sufficient statistics (G_j = X_jᵀX_j, s_j = X_jᵀy_j).
 *
 * For one task, with H = BᵀGB, a = H⁻¹Bᵀs, g = s − GBa (the residual's correlation with x, ⊥ span B) and
 * U = GBH⁻¹, the exact second-order expansion of F in a perturbation Δ of B is
 *   F(B + Δ) ≈ F(B) − 2Σ_k a_k gᵀΔ_k + Σ_{k,l} Δ_kᵀ [a_k a_l (G − U(GB)ᵀ) + a_k U_l gᵀ + a_l g U_kᵀ − (H⁻¹)_kl ggᵀ] Δ_l
 * (Δ_k the k-th column). The step is taken in the tangent directions Δ = B_⊥W (moves inside span B change nothing).
 */
import { Matrix } from 'ml-matrix';
import { choleskySolve, orthonormalColumns, topEigenvectors } from './linalg';
import { alternatingLeastSquares, fitSourceHeads } from './representation';
import { SourceStats } from './tasks';

/** The Newton system in the coordinates of Δ (column k of Δ at k·d … k·d + d − 1): F ≈ F₀ − 2bᵀδ + δᵀHδ. */
interface NewtonSystem {
  hess: Float64Array;
  grad: Float64Array;
}

/** Expand the upper triangle of task j's Gram matrix into a full d×d row-major buffer. */
function expandGram(grams: Float64Array, j: number, d: number, out: Float64Array): void {
  let p = (j * d * (d + 1)) / 2;
  for (let i = 0; i < d; i++) {
    for (let c = i; c < d; c++, p++) {
      out[i * d + c] = grams[p];
      out[c * d + i] = grams[p];
    }
  }
}

/** Work buffers of `taskTerms` (allocated once per Newton system). */
interface TaskBuffers {
  gb: Float64Array;
  h: Float64Array;
  hinv: Float64Array;
  a: Float64Array;
  res: Float64Array;
  uu: Float64Array;
}

function taskBuffers(d: number, r: number): TaskBuffers {
  return { gb: new Float64Array(d * r), h: new Float64Array(r * r), hinv: new Float64Array(r * r), a: new Float64Array(r), res: new Float64Array(d), uu: new Float64Array(d * r) };
}

/**
 * One task's terms into `buf`: GB, H = BᵀGB, H⁻¹, a = H⁻¹Bᵀs, g = s − GBa (`res`), U = GBH⁻¹ (`uu`), and
 * M = G − U(GB)ᵀ written over `g` (the expanded Gram matrix). `bt` is Bᵀ (r×d, row-major).
 */
function taskTerms(g: Float64Array, s: number[], bt: Float64Array, d: number, r: number, buf: TaskBuffers): void {
  const { gb, h, hinv, a, res, uu } = buf;
  for (let i = 0; i < d; i++) for (let k = 0; k < r; k++) gb[i * r + k] = dotAt(g, i * d, bt, k * d, d);
  const u = new Array<number>(r);
  for (let k = 0; k < r; k++) {
    let v = 0;
    for (let i = 0; i < d; i++) v += bt[k * d + i] * s[i];
    u[k] = v;
    for (let l = 0; l < r; l++) {
      let w = 0;
      for (let i = 0; i < d; i++) w += bt[k * d + i] * gb[i * r + l];
      h[k * r + l] = w;
    }
  }
  for (let l = 0; l < r; l++) {
    const col = choleskySolve(h, Array.from({ length: r }, (_, k) => (k === l ? 1 : 0)), r);
    if (col === null) throw new Error(`refineRepresentation: a task's ${r}×${r} matrix BᵀG_jB is singular`);
    for (let k = 0; k < r; k++) hinv[k * r + l] = col[k];
  }
  for (let k = 0; k < r; k++) {
    let v = 0;
    for (let l = 0; l < r; l++) v += hinv[k * r + l] * u[l];
    a[k] = v;
  }
  for (let i = 0; i < d; i++) {
    let v = s[i];
    for (let k = 0; k < r; k++) v -= gb[i * r + k] * a[k];
    res[i] = v;
    for (let l = 0; l < r; l++) {
      let w = 0;
      for (let m = 0; m < r; m++) w += gb[i * r + m] * hinv[m * r + l];
      uu[i * r + l] = w;
    }
  }
  for (let i = 0; i < d; i++) for (let c = 0; c < d; c++) {
    let v = 0;
    for (let m = 0; m < r; m++) v += uu[i * r + m] * gb[c * r + m];
    g[i * d + c] -= v;
  }
}

/** Σ_p u[uAt + p]·v[vAt + p] over p < len. */
function dotAt(u: Float64Array, uAt: number, v: Float64Array, vAt: number, len: number): number {
  let acc = 0;
  for (let p = 0; p < len; p++) acc += u[uAt + p] * v[vAt + p];
  return acc;
}

/** Assemble the Newton system of F at B (full d·r coordinates; blocks k ≤ l summed, the others mirrored). */
function newtonSystem(stats: SourceStats, b: Matrix): NewtonSystem {
  const { d, t } = stats;
  const r = b.columns;
  const size = d * r;
  const bt = Float64Array.from(b.transpose().to1DArray());
  const xy = stats.xy.to2DArray();
  const hess = new Float64Array(size * size);
  const grad = new Float64Array(size);
  const m = new Float64Array(d * d);
  const buf = taskBuffers(d, r);
  const { a, res, hinv, uu } = buf;
  for (let j = 0; j < t; j++) {
    expandGram(stats.grams, j, d, m);
    taskTerms(m, xy[j], bt, d, r, buf);
    for (let k = 0; k < r; k++) {
      for (let i = 0; i < d; i++) grad[k * d + i] += a[k] * res[i];
      for (let l = k; l < r; l++) {
        const w = a[k] * a[l];
        const hkl = hinv[k * r + l];
        for (let i = 0; i < d; i++) {
          const row = (k * d + i) * size + l * d;
          const ui = a[k] * uu[i * r + l] - hkl * res[i];
          const gi = a[l] * res[i];
          for (let c = 0; c < d; c++) hess[row + c] += w * m[i * d + c] + ui * res[c] + gi * uu[c * r + k];
        }
      }
    }
  }
  for (let k = 0; k < r; k++) for (let l = k + 1; l < r; l++) {
    for (let i = 0; i < d; i++) for (let c = 0; c < d; c++) hess[(l * d + c) * size + k * d + i] = hess[(k * d + i) * size + l * d + c];
  }
  return { hess, grad };
}

/** The system restricted to Δ = B_⊥W (B_⊥ d×(d−r)): the (q·r)×(q·r) Hessian and right-hand side, q = d − r. */
function tangentSystem(sys: NewtonSystem, perp: number[][], d: number, r: number): { red: Float64Array; rhs: number[] } {
  const q = perp[0].length;
  const size = d * r;
  const red = new Float64Array(q * r * q * r);
  const rhs = new Array<number>(q * r).fill(0);
  for (let k = 0; k < r; k++) for (let e = 0; e < q; e++) for (let i = 0; i < d; i++) rhs[k * q + e] += perp[i][e] * sys.grad[k * d + i];
  const tmp = new Float64Array(d * q);
  for (let k = 0; k < r; k++) for (let l = 0; l < r; l++) {
    tmp.fill(0); // H_kl · B_⊥
    for (let i = 0; i < d; i++) for (let c = 0; c < d; c++) {
      const h = sys.hess[(k * d + i) * size + l * d + c];
      if (h !== 0) for (let f = 0; f < q; f++) tmp[i * q + f] += h * perp[c][f];
    }
    for (let e = 0; e < q; e++) for (let f = 0; f < q; f++) {
      let v = 0;
      for (let i = 0; i < d; i++) v += perp[i][e] * tmp[i * q + f];
      red[(k * q + e) * q * r + l * q + f] = v;
    }
  }
  return { red, rhs };
}

/** Solve (H + λ·I)w = b by Cholesky; null when H + λI is not positive definite. */
function dampedSolve(red: Float64Array, rhs: number[], lambda: number): number[] | null {
  const size = rhs.length;
  const a = lambda === 0 ? red : red.map((v, idx) => (idx % (size + 1) === 0 ? v + lambda : v));
  return choleskySolve(a, rhs, size);
}

/** Δ = B_⊥W as a d×r array, from the stacked columns w_k of W. */
function tangentDelta(perp: number[][], w: number[], r: number): number[][] {
  const q = perp[0].length;
  return perp.map((row) => Array.from({ length: r }, (_, k) => row.reduce((acc, p, e) => acc + p * w[k * q + e], 0)));
}

/** F at B, or Infinity where a task's BᵀG_jB is singular (a trial step the line search must reject). */
function objectiveOrInfinity(stats: SourceStats, b: Matrix): number {
  try {
    return fitSourceHeads(stats, b).objective;
  } catch {
    return Infinity;
  }
}

/** Result of `refineRepresentation`. */
export interface NewtonResult {
  b: Matrix;
  objective: number;
  /** Newton steps taken (a step that does not lower F ends the search). */
  steps: number;
}

/**
 * Polish a representation to the least-squares minimiser: Newton steps in the tangent space, damped
 * (Levenberg–Marquardt: H + λI, λ raised until the step lowers F, lowered after a success); stops when a step
 * changes F by less than `tol`·F, or after `maxSteps`.
 */
export function refineRepresentation(stats: SourceStats, b0: Matrix, opts: { maxSteps?: number; tol?: number } = {}): NewtonResult {
  const maxSteps = opts.maxSteps ?? 50;
  const tol = opts.tol ?? 1e-12;
  const { d } = stats;
  const r = b0.columns;
  let b = b0;
  let objective = fitSourceHeads(stats, b).objective;
  let lambda = 0;
  let steps = 0;
  while (steps < maxSteps) {
    const perp = topEigenvectors(Matrix.eye(d).sub(b.mmul(b.transpose())), d - r).to2DArray();
    const { red, rhs } = tangentSystem(newtonSystem(stats, b), perp, d, r);
    const scale = red.reduce((acc, v, idx) => (idx % (rhs.length + 1) === 0 ? acc + Math.abs(v) : acc), 0) / rhs.length;
    let accepted = false;
    for (let tries = 0; tries < 30 && !accepted; tries++) {
      const w = dampedSolve(red, rhs, lambda);
      const cand = w === null ? null : orthonormalColumns(b.clone().add(new Matrix(tangentDelta(perp, w, r))));
      const f = cand === null ? Infinity : objectiveOrInfinity(stats, cand);
      if (cand !== null && f < objective) {
        const settled = objective - f <= tol * Math.max(1, objective);
        b = cand;
        objective = f;
        accepted = true;
        lambda = lambda / 4 < 1e-9 * scale ? 0 : lambda / 4;
        if (settled) return { b, objective, steps: steps + 1 };
      } else lambda = Math.max(4 * lambda, 1e-4 * scale);
    }
    if (!accepted) break;
    steps++;
  }
  return { b, objective, steps };
}

/** The least-squares representation: ALS from `init` (default: the pairwise moments), then Newton to a stationary point. */
export interface LeastSquaresResult extends NewtonResult {
  alsIterations: number;
}

/**
 * min over B (d×r orthonormal) and heads a_1..a_t of Σ_j ‖y_j − X_j B a_j‖²: `alsIters` alternating steps from the
 * pairwise-moment start, then damped Newton steps (`refineRepresentation`) until F stops changing. With few samples
 * per task the objective can have several local minima; this finds the one the moment start leads to.
 */
export function leastSquaresRepresentation(stats: SourceStats, r: number, opts: { init?: Matrix; alsIters?: number; newtonSteps?: number } = {}): LeastSquaresResult {
  const als = alternatingLeastSquares(stats, r, { init: opts.init, maxIters: opts.alsIters ?? 25 });
  const refined = refineRepresentation(stats, als.b, { maxSteps: opts.newtonSteps ?? 20 });
  return { ...refined, alsIterations: als.iterations };
}
