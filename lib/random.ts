/**
 * One seeded random generator for the whole kit: splits, shuffles, augmentation, initializers.
 * The same seed gives the same numbers, run after run (alea from the well-kept `seedrandom`).
 */
import seedrandom from 'seedrandom';

export class Rng {
  private readonly prng: seedrandom.PRNG;
  private spareNormal: number | null = null;

  constructor(readonly seed: number | string) {
    this.prng = seedrandom.alea(String(seed));
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.prng();
  }

  /** Uniform float in [lo, hi). */
  uniform(lo = 0, hi = 1): number {
    return lo + (hi - lo) * this.prng();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Rng.int: n must be a positive integer, got ${n}`);
    return Math.floor(this.prng() * n);
  }

  /** True with probability p. */
  bernoulli(p: number): boolean {
    return this.prng() < p;
  }

  /** Standard normal (Box–Muller, caching the second value). */
  normal(mean = 0, std = 1): number {
    if (this.spareNormal !== null) {
      const z = this.spareNormal;
      this.spareNormal = null;
      return mean + std * z;
    }
    let u = 0;
    while (u === 0) u = this.prng();
    const v = this.prng();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spareNormal = r * Math.sin(2 * Math.PI * v);
    return mean + std * r * Math.cos(2 * Math.PI * v);
  }

  /** Fisher–Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): number[] {
    return this.shuffle(Array.from({ length: n }, (_, i) => i));
  }

  /** An integer seed drawn from this generator, for tfjs initializers (`seed` options) and child generators. */
  nextSeed(): number {
    return Math.floor(this.prng() * 2 ** 31);
  }

  /** An independent child generator, derived deterministically from this one's seed and a label. */
  fork(label: string | number): Rng {
    return new Rng(`${this.seed}/${label}`);
  }
}
