/**
 * The published bounds without their constants and log factors, for reading side by side (not predictions:
 * only how they scale is meaningful). C(𝒞) is the complexity of the shared representation, C(𝒱) that of a head;
 * for linear features x ↦ Bᵀx (B d×r) Tripuraneni, Jordan & Jin (2020) use C(𝒞) = d·r² and C(𝒱) = r.
 */

/** Arguments of the published bounds: complexities C(𝒞) (representation) and C(𝒱) (head), sizes and ν. */
export interface BoundArgs {
  complexityRep: number;
  complexityHead: number;
  n: number;
  t: number;
  m: number;
  nu: number;
}

/** The bound as the lecture writes it: (1/ν)·sqrt((C(𝒞) + t·C(𝒱))/(n·t)) + C(𝒱)/m. */
export function lectureBound(a: BoundArgs): number {
  return Math.sqrt((a.complexityRep + a.t * a.complexityHead) / (a.n * a.t)) / a.nu + a.complexityHead / a.m;
}

/** Tripuraneni–Jordan–Jin 2020 (bounded Lipschitz loss): (1/ν)·sqrt((C(𝒞) + t·C(𝒱))/(n·t)) + sqrt(C(𝒱)/m). */
export function tjjBound(a: BoundArgs): number {
  return Math.sqrt((a.complexityRep + a.t * a.complexityHead) / (a.n * a.t)) / a.nu + Math.sqrt(a.complexityHead / a.m);
}

/**
 * Du, Hu, Kakade, Lee, Lei 2021, linear representation (squared loss, well-specified, diverse sources), as their
 * abstract states it: d·k/(n₁·T) + k/n₂, with k = r, T = t tasks of n₁ = n samples and n₂ = m target samples.
 */
export function duBound(a: { d: number; r: number; n: number; t: number; m: number }): number {
  return (a.d * a.r) / (a.n * a.t) + a.r / a.m;
}
