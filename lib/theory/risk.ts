/**
 * Stage 2 and the scratch yardsticks: fit the target head on m samples and measure the excess risk ‖β̂ − β₀‖²
 * (x ~ N(0, I), so that is exactly the excess squared-loss risk). From scratch, three learners on the d raw
 * features: OLS (needs m > d + 1), minimum-norm least squares (any m; the interpolating solution when m < d)
 * and ridge with λ = σ²d/‖β₀‖² (the best λ when β₀ is a random direction of that norm); their closed forms.
 */
import { Matrix, solve } from 'ml-matrix';
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

/** Minimum-norm least squares on the raw features: X⁺y (the interpolating solution of least norm when m < d). */
export function minNormExcessRisk(beta0: Matrix, sample: TargetSample | null): RiskValue {
  if (sample === null) return { excess: 0 };
  const { x, y } = sample;
  const beta = x.rows < x.columns ? x.transpose().mmul(solve(x.mmul(x.transpose()), y)) : solve(x, y, x.rows !== x.columns);
  return { excess: squaredNorm(beta.sub(beta0)) };
}

/** Ridge regression (XᵀX + λI)⁻¹Xᵀy on the raw features. */
export function ridgeExcessRisk(beta0: Matrix, sample: TargetSample | null, lambda: number): RiskValue {
  if (sample === null) return { excess: 0 };
  if (!(lambda > 0)) throw new Error(`ridgeExcessRisk: λ must be > 0, got ${lambda}`);
  const { x, y } = sample;
  const beta = solve(x.transpose().mmul(x).add(Matrix.eye(x.columns).mul(lambda)), x.transpose().mmul(y));
  return { excess: squaredNorm(beta.sub(beta0)) };
}

/** The ridge penalty the simulation uses: σ²d/‖β₀‖² (Bayes-optimal for a random direction, ‖β₀‖ = 1 here). */
export function ridgeLambda(sigma: number, d: number, normBeta2 = 1): number {
  return (sigma * sigma * d) / normBeta2;
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

/**
 * Expected excess risk of minimum-norm least squares with isotropic Gaussian x: below d, the part of β₀ the
 * m samples do not see plus the noise, ‖β₀‖²(1 − m/d) + σ²m/(d−m−1); above d it is OLS; `null` for |m − d| ≤ 1.
 */
export function minNormRisk(sigma: number, d: number, m: number, normBeta2 = 1): number | null {
  if (m < d - 1) return normBeta2 * (1 - m / d) + (sigma * sigma * m) / (d - m - 1);
  return olsRisk(sigma, d, m);
}
