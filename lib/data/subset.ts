/**
 * The kit's one seeded per-class draw. Every subset of the course — the m training images per class, the
 * validation images, a smaller test set, a stratified split — is a seeded permutation of a class's rows cut into
 * consecutive slices, so draws nest as they grow (for one seed, m = 10 ⊂ m = 50) and the same seed label gives the
 * same rows run after run.
 */
import { Rng } from '../random';

/**
 * A seeded permutation of 0..n−1 (generator `new Rng(seed)`) cut into consecutive slices of the given sizes;
 * `sorted` sorts each slice ascending (keeps the files' order), otherwise the permutation's order is kept.
 */
export function seededSlices(n: number, seed: string | number, sizes: readonly number[], opts: { sorted?: boolean } = {}): number[][] {
  const total = sizes.reduce((s, k) => s + k, 0);
  if (!Number.isInteger(n) || n < 0) throw new Error(`seededSlices: n must be a whole number ≥ 0, got ${n}`);
  if (sizes.some((k) => !Number.isInteger(k) || k < 0)) throw new Error(`seededSlices: slice sizes must be whole numbers ≥ 0, got [${sizes}]`);
  if (total > n) throw new Error(`seededSlices: slices of [${sizes}] need ${total} items, only ${n} available`);
  const order = new Rng(seed).permutation(n);
  let at = 0;
  return sizes.map((k) => {
    const slice = order.slice(at, (at += k));
    return opts.sorted ? slice.sort((a, b) => a - b) : slice;
  });
}

/** Row indices of each class, ascending: `rowsByClass(labels, k)[c]` lists the rows whose label is c (0 ≤ c < k). */
export function rowsByClass(labels: ArrayLike<number>, numClasses: number): number[][] {
  const out: number[][] = Array.from({ length: numClasses }, () => []);
  for (let i = 0; i < labels.length; i++) {
    const l = labels[i];
    if (!Number.isInteger(l) || l < 0 || l >= numClasses) throw new Error(`rowsByClass: label ${i} is ${l}, expected a class index in 0..${numClasses - 1}`);
    out[l].push(i);
  }
  return out;
}

/**
 * Per class, `seededSlices` of that class's rows, mapped back to row indices: `perClassSlices(rows, (c) => \`split/7/${c}\`, [20, 10])`
 * gives, for every class c, [its 20 validation rows, its 10 training rows]. A class too small for the slices is an
 * error naming it (with `names[c]` when given).
 */
export function perClassSlices(
  rows: number[][],
  seedOf: (c: number) => string,
  sizes: readonly number[],
  opts: { sorted?: boolean; names?: readonly string[] } = {},
): number[][][] {
  return rows.map((classRows, c) => {
    const need = sizes.reduce((s, k) => s + k, 0);
    if (classRows.length < need) {
      throw new Error(`class '${opts.names?.[c] ?? c}' has ${classRows.length} images; the draw needs ${need} (${sizes.join(' + ')})`);
    }
    return seededSlices(classRows.length, seedOf(c), sizes, opts).map((slice) => slice.map((i) => classRows[i]));
  });
}
