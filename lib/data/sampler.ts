/**
 * Samplers choose the dataset indices of each epoch: PyTorch's WeightedRandomSampler (and the class-balanced
 * weights the lecture's practical uses with it).
 */
import { DEFAULT_CONFIG } from '../config';
import { Rng } from '../random';

/** Something that chooses the indices of one epoch (in order). */
export interface Sampler {
  readonly length: number;
  indices(epoch: number): number[];
}

/** Weights 1 / (count of the sample's class): every class is drawn equally often by a WeightedRandomSampler. */
export function classBalancedWeights(labels: ArrayLike<number | string>): Float64Array {
  const counts = new Map<number | string, number>();
  for (let i = 0; i < labels.length; i++) counts.set(labels[i], (counts.get(labels[i]) ?? 0) + 1);
  return Float64Array.from({ length: labels.length }, (_, i) => 1 / counts.get(labels[i])!);
}

/**
 * PyTorch's WeightedRandomSampler: draws `numSamples` indices with probability proportional to
 * `weights` (with replacement by default), a fresh seeded draw each epoch.
 */
export class WeightedRandomSampler implements Sampler {
  private readonly cumulative: Float64Array;
  private readonly weights: Float64Array;
  private readonly replacement: boolean;
  private readonly seed: number;

  constructor(
    weights: ArrayLike<number>,
    readonly numSamples: number,
    opts: { replacement?: boolean; seed?: number } = {},
  ) {
    this.weights = Float64Array.from(weights);
    if (this.weights.length === 0) throw new Error('WeightedRandomSampler: no weights');
    this.weights.forEach((w, i) => {
      if (!(w >= 0 && Number.isFinite(w))) throw new Error(`WeightedRandomSampler: weight ${i} is ${w}, expected a finite number ≥ 0`);
    });
    if (!Number.isInteger(numSamples) || numSamples < 1) throw new Error(`WeightedRandomSampler: numSamples must be a positive integer, got ${numSamples}`);
    this.replacement = opts.replacement ?? true;
    this.seed = opts.seed ?? DEFAULT_CONFIG.seed;
    const positive = this.weights.filter((w) => w > 0).length;
    if (positive === 0) throw new Error('WeightedRandomSampler: all weights are zero');
    if (!this.replacement && numSamples > positive) {
      throw new Error(`WeightedRandomSampler: ${numSamples} samples without replacement but only ${positive} weights are > 0`);
    }
    this.cumulative = new Float64Array(this.weights.length);
    let acc = 0;
    this.weights.forEach((w, i) => (this.cumulative[i] = acc += w));
  }

  get length(): number {
    return this.numSamples;
  }

  /** The indices of one epoch. */
  indices(epoch: number): number[] {
    const rng = new Rng(`${this.seed}/sampler/${epoch}`);
    if (this.replacement) {
      const total = this.cumulative[this.cumulative.length - 1];
      return Array.from({ length: this.numSamples }, () => {
        const u = rng.next() * total;
        let lo = 0;
        let hi = this.cumulative.length - 1;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (this.cumulative[mid] > u) hi = mid;
          else lo = mid + 1;
        }
        return lo;
      });
    }
    // Without replacement: Efraimidis–Spirakis keys u^(1/w), the largest numSamples win.
    const keys = Array.from(this.weights, (w, i) => ({ i, k: w > 0 ? Math.log(rng.next() || Number.MIN_VALUE) / w : -Infinity }));
    keys.sort((a, b) => b.k - a.k);
    return keys.slice(0, this.numSamples).map((x) => x.i);
  }
}
