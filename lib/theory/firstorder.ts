/**
 * First-order predictions of the representation error ‖(I − P̂)β₀‖² (the source term; m = ∞) for the three
 * stage-1 estimators, from the perturbation of the estimated subspace (to first order in 1/t, exact in n).
 * With C = AᵀA/t, p = C⁻¹w₀, coverage = w₀ᵀC⁻¹w₀, coverage₂ = pᵀp, s_j² = ‖a_j‖² + σ² (task j's E y²):
 *  - least squares (ERM), n samples per task, (n − r) left after each task's own head:
 *      σ²(d−r)/(t(n−r)) · [coverage + σ²·coverage₂/(n−r−1)]      → σ²(d−r)·coverage/(n·t) for large n;
 *  - pairwise moments (1/(t·n(n−1)))Σ_{i≠i'} x_i y_i y_i' x_i'ᵀ, eigen-gap ν:
 *      (d−r)/(t(n−1)) · avg_j s_j²[(a_jᵀp)² + s_j²·coverage₂/n]    → (1+σ²)/σ² × ERM when n·ν ≫ 1+σ²;
 *  - TJJ moments (1/N)Σ y²xxᵀ = (avg s²)I + 2B*CB*ᵀ + noise, eigen-gap 2ν, noise that does not vanish off the signal:
 *      (d−r)/(n·t) · avg_j[¾·s_j⁴·coverage₂ + 3·s_j²(a_jᵀp)²]        → ∝ 1/ν² for the least-covered target.
 * For the worst-case target (w₀ along C's smallest eigenvector) coverage = 1/ν and coverage₂ = 1/ν².
 */
import { choleskySolve } from './linalg';
import { RiskMethod, RiskProblem } from './tasks';

/** Sizes the predictions need. */
export interface SourceSizes {
  d: number;
  n: number;
  sigma: number;
}

/** The per-problem quantities of the predictions: coverage, coverage₂ and the per-task (a_jᵀp, ‖a_j‖²). */
function coverageTerms(problem: RiskProblem): { coverage: number; coverage2: number; proj: number[]; norm2: number[] } {
  const a = problem.heads.to2DArray();
  const t = a.length;
  const r = problem.w0.rows;
  const c = problem.heads.transpose().mmul(problem.heads).div(t);
  const cFlat = Float64Array.from(c.to1DArray());
  const w0 = problem.w0.to1DArray();
  const p = choleskySolve(cFlat, w0, r);
  if (p === null) throw new Error(`firstOrderRisk: AᵀA/t (${r}×${r}) is singular: the ${t} source heads do not span r = ${r} directions`);
  return {
    coverage: w0.reduce((s, v, i) => s + v * p[i], 0),
    coverage2: p.reduce((s, v) => s + v * v, 0),
    proj: a.map((row) => row.reduce((s, v, i) => s + v * p[i], 0)),
    norm2: a.map((row) => row.reduce((s, v) => s + v * v, 0)),
  };
}

/** First-order representation error of a stage-1 `method` ('erm', 'pairwise', 'moments'); `null` where undefined (ERM with n ≤ r + 1). */
export function firstOrderRisk(method: RiskMethod, problem: RiskProblem, sizes: SourceSizes): number | null {
  const { d, n, sigma } = sizes;
  const t = problem.heads.rows;
  const r = problem.w0.rows;
  const s2 = sigma * sigma;
  const { coverage, coverage2, proj, norm2 } = coverageTerms(problem);
  const avg = (f: (j: number) => number) => proj.reduce((acc, _, j) => acc + f(j), 0) / t;
  if (method === 'erm') {
    return n > r + 1 ? ((s2 * (d - r)) / (t * (n - r))) * (coverage + (s2 * coverage2) / (n - r - 1)) : null;
  }
  if (method === 'pairwise') {
    return ((d - r) / (t * (n - 1))) * avg((j) => (norm2[j] + s2) * (proj[j] ** 2 + ((norm2[j] + s2) * coverage2) / n));
  }
  if (method === 'moments') {
    return ((d - r) / (n * t)) * avg((j) => 0.75 * (norm2[j] + s2) ** 2 * coverage2 + 3 * (norm2[j] + s2) * proj[j] ** 2);
  }
  throw new Error(`firstOrderRisk: '${method}' is not a stage-1 estimator (use 'erm', 'pairwise' or 'moments')`);
}

/** The large-n ERM prediction for the worst-case target, σ²(d−r)/(ν·n·t): the shape the bounds' source term has. */
export function worstCaseErmRisk(a: { sigma: number; d: number; r: number; n: number; t: number; nu: number }): number {
  return (a.sigma * a.sigma * (a.d - a.r)) / (a.nu * a.n * a.t);
}

