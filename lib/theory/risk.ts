/**
 * Stage 2 and the yardsticks: fit the target head on m samples, measure the excess risk ‖β̂ − β₀‖²
 * (x ~ N(0, I), so that is exactly the excess squared-loss risk), and the closed forms to compare with:
 * scratch σ²d/(m−d−1), oracle σ²r/(m−r−1), transfer σ²(d−r)·w₀ᵀ(AᵀA/t)⁻¹w₀/(n·t) + σ²r/(m−r−1),
 * plus the published bounds (up to constants and logs) for side-by-side reading.
 */
import { Matrix } from 'ml-matrix';
import { Rng } from '../random';
import { leastSquares, randomNormalMatrix, squaredNorm } from './linalg';

/** A measured or predicted excess risk, or `null` with the reason it does not exist. */
export interface RiskValue {
  excess: number | null;
  reason?: string;
}

/** m target samples (x ~ N(0, I_d), y = xᵀβ₀ + σε). */
export interface TargetSample {
  x: Matrix;
  y: Matrix;
}

/** Draw the target sample. */
export function sampleTarget(beta0: Matrix, m: number, sigma: number, rng: Rng): TargetSample {
  if (!Number.isInteger(m) || m < 1) throw new Error(`sampleTarget: m must be a positive integer, got ${m}`);
  const x = randomNormalMatrix(m, beta0.rows, rng);
  const y = x.mmul(beta0);
  for (let i = 0; i < m; i++) y.set(i, 0, y.get(i, 0) + sigma * rng.normal());
  return { x, y };
}

/**
 * Excess risk of the least-squares head on features x·basis (basis d×k with orthonormal columns).
 * `sample` = null means m = ∞: the population head basisᵀβ₀, whose excess is ‖(I − P)β₀‖² (pure
 * representation error). With k features the expected risk is infinite for m ≤ k + 1, so that is `null`.
 */
export function headExcessRisk(basis: Matrix, beta0: Matrix, sample: TargetSample | null): RiskValue {
  const k = basis.columns;
  if (sample === null) {
    const w = basis.transpose().mmul(beta0);
    return { excess: squaredNorm(basis.mmul(w).sub(beta0)) };
  }
  const m = sample.x.rows;
  if (m <= k + 1) {
    return {
      excess: null,
      reason: `m = ${m} ≤ ${k} + 1: least squares with ${k} unknowns has infinite expected risk (${m <= k ? 'not even identifiable' : 'σ²k/(m−k−1) diverges'})`,
    };
  }
  const w = leastSquares(sample.x.mmul(basis), sample.y);
  return { excess: squaredNorm(basis.mmul(w).sub(beta0)) };
}

/** Excess risk of OLS on the raw d features (from scratch); `null` with a reason for m ≤ d + 1. */
export function scratchExcessRisk(beta0: Matrix, sample: TargetSample | null): RiskValue {
  return headExcessRisk(Matrix.eye(beta0.rows), beta0, sample);
}

/** Expected excess risk of OLS with k Gaussian features and m samples: σ²k/(m−k−1); `null` for m ≤ k + 1. */
export function olsRisk(sigma: number, k: number, m: number): number | null {
  if (m === Infinity) return 0;
  return m > k + 1 ? (sigma * sigma * k) / (m - k - 1) : null;
}

/** From scratch (OLS on d raw features): σ²d/(m−d−1), `null` for m ≤ d + 1. */
export function scratchRisk(sigma: number, d: number, m: number): number | null {
  return olsRisk(sigma, d, m);
}

/** Oracle (head on the true B*): σ²r/(m−r−1), `null` for m ≤ r + 1. */
export function oracleRisk(sigma: number, r: number, m: number): number | null {
  return olsRisk(sigma, r, m);
}

/** Parameters of the asymptotic transfer prediction. */
export interface TransferRiskArgs {
  sigma: number;
  d: number;
  r: number;
  n: number;
  t: number;
  m: number;
  /** w₀ᵀ(AᵀA/t)⁻¹w₀ (= 1/ν in the worst case; r on average for a random target at κ = 1). */
  coverage: number;
}

/** Source term of the transfer prediction, σ²(d−r)·w₀ᵀ(AᵀA/t)⁻¹w₀/(n·t): the representation error. */
export function representationRisk(a: Omit<TransferRiskArgs, 'm'>): number {
  return (a.sigma * a.sigma * (a.d - a.r) * a.coverage) / (a.n * a.t);
}

/** Transfer prediction σ²(d−r)·w₀ᵀ(AᵀA/t)⁻¹w₀/(n·t) + σ²r/(m−r−1) (asymptotic: ν·n·t ≫ d); `null` for m ≤ r + 1. */
export function transferRisk(a: TransferRiskArgs): number | null {
  const head = oracleRisk(a.sigma, a.r, a.m);
  return head === null ? null : representationRisk(a) + head;
}

/** Worst-case target (w₀ along the least-covered direction): σ²(d−r)/(ν·n·t) + σ²r/(m−r−1). */
export function worstCaseTransferRisk(a: Omit<TransferRiskArgs, 'coverage'> & { nu: number }): number | null {
  return transferRisk({ ...a, coverage: 1 / a.nu });
}

/** Arguments of the published bounds: complexities C(𝒞) (representation) and C(𝒱) (head), sizes and ν. */
export interface BoundArgs {
  complexityRep: number;
  complexityHead: number;
  n: number;
  t: number;
  m: number;
  nu: number;
}

/** The bound as the lecture writes it: (1/ν)·sqrt((C(𝒞) + t·C(𝒱))/(n·t)) + C(𝒱)/m (constants and logs dropped). */
export function lectureBound(a: BoundArgs): number {
  return Math.sqrt((a.complexityRep + a.t * a.complexityHead) / (a.n * a.t)) / a.nu + a.complexityHead / a.m;
}

/** Tripuraneni–Jordan–Jin 2020 (bounded Lipschitz loss): (1/ν)·sqrt((C(𝒞) + t·C(𝒱))/(n·t)) + sqrt(C(𝒱)/m). */
export function tjjBound(a: BoundArgs): number {
  return Math.sqrt((a.complexityRep + a.t * a.complexityHead) / (a.n * a.t)) / a.nu + Math.sqrt(a.complexityHead / a.m);
}

/** Du et al. 2021 fast rate (squared loss, realizable, diverse sources): C(𝒞)/(n·t) + C(𝒱)/m. */
export function duBound(a: Omit<BoundArgs, 'nu'>): number {
  return a.complexityRep / (a.n * a.t) + a.complexityHead / a.m;
}
