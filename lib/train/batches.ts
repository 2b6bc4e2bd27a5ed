/**
 * What the training loop can read: a DataLoader (or any re-iterable async source of batches), an array of
 * batches, or a whole image set in memory (ImageArrays, batched and shuffled here from the seed).
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, ImageArrays } from '../data/types';
import { Rng } from '../random';

/** Training or evaluation data: a DataLoader / async iterable of batches (one `for await` = one epoch) or images in memory. */
export type TrainData = AsyncIterable<Batch> | Iterable<Batch> | ImageArrays;

/** True when `data` is a whole image set in memory. */
export function isImageArrays(data: unknown): data is ImageArrays {
  const d = data as ImageArrays;
  return d != null && d.images instanceof Float32Array && d.labels instanceof Int32Array && typeof d.height === 'number';
}

/** Number of images of an ImageArrays, checking that pixels and labels agree. */
export function countImages(arrays: ImageArrays, where = 'ImageArrays'): number {
  const per = arrays.height * arrays.width * arrays.channels;
  const n = arrays.labels.length;
  if (arrays.images.length !== n * per) {
    throw new Error(
      `${where}: ${arrays.images.length} pixel values for ${n} labels of ${arrays.height}×${arrays.width}×${arrays.channels}; expected ${n * per}`,
    );
  }
  return n;
}

/** A subset of an ImageArrays (rows in the given order), copied. */
export function takeRows(arrays: ImageArrays, rows: ArrayLike<number>): ImageArrays {
  const per = arrays.height * arrays.width * arrays.channels;
  const images = new Float32Array(rows.length * per);
  const labels = new Int32Array(rows.length);
  for (let k = 0; k < rows.length; k++) {
    const r = rows[k];
    images.set(arrays.images.subarray(r * per, (r + 1) * per), k * per);
    labels[k] = arrays.labels[r];
  }
  return { ...arrays, images, labels };
}

/** One pass over an ImageArrays in batches; shuffled with `rng` when given. The consumer disposes each batch. */
export function* arrayBatches(arrays: ImageArrays, batchSize: number, rng?: Rng): Generator<Batch> {
  const n = countImages(arrays);
  const per = arrays.height * arrays.width * arrays.channels;
  const order = rng ? rng.permutation(n) : null;
  for (let start = 0; start < n; start += batchSize) {
    const size = Math.min(batchSize, n - start);
    if (order) {
      const rows = order.slice(start, start + size);
      const part = takeRows(arrays, rows);
      yield {
        xs: tf.tensor4d(part.images, [size, arrays.height, arrays.width, arrays.channels]),
        ys: tf.tensor1d(part.labels, 'int32'),
      };
    } else {
      yield {
        xs: tf.tensor4d(arrays.images.subarray(start * per, (start + size) * per), [size, arrays.height, arrays.width, arrays.channels]),
        ys: tf.tensor1d(arrays.labels.subarray(start, start + size), 'int32'),
      };
    }
  }
}

/** Batches per pass when the source can tell (ImageArrays, arrays, loaders with `length` or `numBatches`); else null. */
export function batchesPerPass(data: TrainData, batchSize: number): number | null {
  if (isImageArrays(data)) return Math.ceil(countImages(data) / batchSize);
  if (Array.isArray(data)) return data.length;
  const d = data as { numBatches?: unknown; length?: unknown; batchCount?: unknown };
  for (const v of [d.numBatches, d.batchCount, d.length]) {
    if (typeof v === 'number' && Number.isFinite(v)) return v;
    if (typeof v === 'function') {
      const r = (v as () => unknown).call(data);
      if (typeof r === 'number' && Number.isFinite(r)) return r;
    }
  }
  return null;
}

/**
 * One pass over any training data. ImageArrays are shuffled with a generator forked from `seed` and the
 * pass number (so each epoch has its own, reproducible order); other sources shuffle themselves.
 */
export async function* onePass(
  data: TrainData,
  opts: { batchSize: number; shuffle: boolean; seed: number; pass: number },
): AsyncGenerator<Batch, void, undefined> {
  if (isImageArrays(data)) {
    const rng = opts.shuffle ? new Rng(`${opts.seed}/shuffle/${opts.pass}`) : undefined;
    yield* arrayBatches(data, opts.batchSize, rng);
    return;
  }
  if (Symbol.asyncIterator in (data as object)) {
    yield* data as AsyncIterable<Batch>;
    return;
  }
  if (Array.isArray(data)) {
    // The caller owns an array's tensors and may read it again next epoch: hand out clones (shared buffers).
    for (const b of data as Batch[]) yield { xs: tf.clone(b.xs), ...(b.ys ? { ys: tf.clone(b.ys) } : {}) };
    return;
  }
  if (Symbol.iterator in (data as object)) {
    yield* data as Iterable<Batch>;
    return;
  }
  throw new Error('train data: expected a DataLoader / async iterable of {xs, ys} batches, an array of batches, or ImageArrays');
}

/**
 * An endless stream of batches: pass after pass. Throws if a pass yields nothing (a one-shot iterator
 * cannot be read twice: pass a DataLoader or ImageArrays instead).
 */
export async function* endlessBatches(
  data: TrainData,
  opts: { batchSize: number; shuffle: boolean; seed: number },
): AsyncGenerator<{ batch: Batch; pass: number }, void, undefined> {
  for (let pass = 0; ; pass++) {
    let any = false;
    for await (const batch of onePass(data, { ...opts, pass })) {
      any = true;
      yield { batch, pass };
    }
    if (!any) {
      throw new Error(
        `train data: pass ${pass + 1} yielded no batches; a one-shot iterator cannot be re-read — pass a DataLoader (re-iterable) or ImageArrays`,
      );
    }
  }
}
