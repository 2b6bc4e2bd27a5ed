/**
 * The lecture's DataLoader: batches of a dataset as tensors, shuffled per epoch with a seed (or drawn by a
 * sampler), loaded ahead of the consumer (prefetch) — in worker threads when the dataset can — and a
 * `tf.data.Dataset` view for `model.fitDataset`.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG } from '../config';
import { Rng } from '../random';
import { SkippedImageError } from './dataset';
import { mapLimit } from './pool';
import type { Sampler } from './sampler';
import type { Batch, Dataset, Sample } from './types';
import { shapeMismatch, type BatchSource, type PackedBatch } from './workers';

/** Options of `DataLoader`. */
export interface DataLoaderOptions {
  batchSize: number;
  /** Reshuffle every epoch (seeded by seed and epoch number). Ignored when a sampler is given. */
  shuffle?: boolean;
  /** Chooses each epoch's indices instead (e.g. WeightedRandomSampler). */
  sampler?: Sampler;
  /** Seed of shuffling and of the per-sample augmentation draws (default DEFAULT_CONFIG.seed). */
  seed?: number;
  /** Batches decoded ahead of the consumer (default 2; 0 = load on demand). */
  prefetch?: number;
  /** Samples decoded at once within a batch (default: the whole batch, at most 32). */
  concurrency?: number;
  /** Drop the last, smaller batch (default false). */
  dropLast?: boolean;
}


/**
 * Batches of a dataset as tensors: `for await (const { xs, ys } of loader)` is one epoch (re-iterate
 * for the next; each epoch reshuffles with a seed derived from seed and epoch). The consumer disposes
 * `xs` and `ys`. Samples are decoded `prefetch` batches ahead, `concurrency` at a time per batch.
 */
export class DataLoader implements AsyncIterable<Batch> {
  readonly batchSize: number;
  private readonly opts: Required<Omit<DataLoaderOptions, 'sampler'>> & { sampler?: Sampler };
  private epochCounter = 0;

  constructor(
    readonly dataset: Dataset,
    opts: DataLoaderOptions,
  ) {
    if (!dataset || typeof dataset.get !== 'function') throw new Error('DataLoader: the first argument must be a Dataset (ImageDataset, ArrayDataset, or any { length, get(i) })');
    if (!Number.isInteger(opts?.batchSize) || opts.batchSize < 1) throw new Error(`DataLoader: batchSize must be a positive integer, got ${opts?.batchSize}`);
    this.batchSize = opts.batchSize;
    this.opts = {
      shuffle: false,
      seed: DEFAULT_CONFIG.seed,
      prefetch: 2,
      concurrency: Math.min(opts.batchSize, 32),
      dropLast: false,
      ...opts,
    };
    if (dataset.length === 0) throw new Error('DataLoader: the dataset is empty');
  }

  /** Samples per epoch (the sampler's count, or the dataset's). */
  get numSamples(): number {
    return this.opts.sampler ? this.opts.sampler.length : this.dataset.length;
  }

  /** Batches per epoch. */
  get length(): number {
    const n = this.numSamples;
    return this.opts.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  /** The epoch the next `for await` will run (0-based). */
  get epoch(): number {
    return this.epochCounter;
  }

  /** The dataset indices of one epoch, in order. */
  indices(epoch: number): number[] {
    if (this.opts.sampler) return this.opts.sampler.indices(epoch);
    const n = this.dataset.length;
    if (this.opts.shuffle) return new Rng(`${this.opts.seed}/shuffle/${epoch}`).permutation(n);
    return Array.from({ length: n }, (_, i) => i);
  }

  [Symbol.asyncIterator](): AsyncIterator<Batch> {
    return this.iterate(this.epochCounter++);
  }

  private async load(idx: number[], epoch: number, start: number): Promise<PackedBatch> {
    const source = this.dataset as Partial<BatchSource>;
    if (source.batchesInWorkers && typeof source.loadBatch === 'function') {
      return source.loadBatch(idx, idx.map((_, k) => `${this.opts.seed}/aug/${epoch}/${start + k}`));
    }
    const samples = await mapLimit(idx, this.opts.concurrency, async (i, k) => {
      try {
        return await this.dataset.get(i, new Rng(`${this.opts.seed}/aug/${epoch}/${start + k}`));
      } catch (err) {
        if (err instanceof SkippedImageError) return undefined;
        throw err;
      }
    });
    const kept = samples.filter((s): s is Sample => s !== undefined);
    if (kept.length === 0) return { xs: new Float32Array(0), n: 0, shape: [0, 0, 0] };
    const shape = kept[0].shape;
    const per = shape[0] * shape[1] * shape[2];
    const xs = new Float32Array(kept.length * per);
    const labelled = kept[0].label !== undefined;
    const ys = labelled ? new Int32Array(kept.length) : undefined;
    kept.forEach((s, k) => {
      if (s.shape[0] !== shape[0] || s.shape[1] !== shape[1] || s.shape[2] !== shape[2]) throw shapeMismatch(idx[k], s.shape, idx[0], shape);
      if (s.image.length !== per) throw new Error(`DataLoader: sample ${idx[k]} has ${s.image.length} values, its shape [${s.shape}] says ${per}`);
      xs.set(s.image, k * per);
      if (ys) {
        if (s.label === undefined) throw new Error(`DataLoader: sample ${idx[k]} has no label while others do`);
        ys[k] = s.label;
      }
    });
    return { xs, ys, n: kept.length, shape };
  }

  /** One epoch's batches (the async iterator behind `for await`). */
  async *iterate(epoch: number): AsyncGenerator<Batch> {
    const order = this.indices(epoch);
    const nBatches = this.opts.dropLast ? Math.floor(order.length / this.batchSize) : Math.ceil(order.length / this.batchSize);
    const pending: Promise<PackedBatch>[] = [];
    let unsettled = 0;
    let next = 0;
    const launch = (): void => {
      while (pending.length <= this.opts.prefetch && next < nBatches) {
        const start = next * this.batchSize;
        const p = this.load(order.slice(start, start + this.batchSize), epoch, start);
        unsettled++;
        p.then(
          () => unsettled--,
          () => unsettled--, // the error itself is surfaced when awaited; this also avoids an unhandled rejection meanwhile
        );
        pending.push(p);
        next++;
      }
    };
    launch();
    while (pending.length > 0) {
      // A consumer that trains on the main thread (wasm, cpu) awaits only settled promises, so the decodes that
      // finished in sharp's threads during its step would wait for their callbacks (and the next decodes would
      // not start) until the loader ran dry: loading and training would take turns instead of overlapping.
      // One event-loop turn per batch while files are still loading hands them over (in-memory data skips it).
      if (unsettled > 0) await new Promise<void>((resolve) => setImmediate(resolve));
      const b = await pending.shift()!;
      launch();
      if (b.n === 0) continue;
      // Tensors are made only here, when handed out: an abandoned epoch leaves none behind.
      const batch: Batch = { xs: tf.tensor4d(b.xs, [b.n, ...b.shape]) };
      if (b.ys) batch.ys = tf.tensor1d(b.ys, 'int32');
      yield batch;
    }
  }

  /**
   * A `tf.data.Dataset` of `{xs, ys}` for `model.fitDataset` (one epoch per iteration). ys are one-hot
   * float32 [batch, numClasses] by default (for categoricalCrossentropy); `oneHot: false` gives int32 indices.
   */
  toTfDataset(opts: { oneHot?: boolean; numClasses?: number } = {}): tf.data.Dataset<tf.TensorContainer> {
    const oneHot = opts.oneHot ?? true;
    const k = opts.numClasses ?? this.dataset.classes?.length;
    if (oneHot && !k) throw new Error('DataLoader.toTfDataset: one-hot labels need numClasses (the dataset has no classes list); pass { numClasses }');
    const iterator = (): AsyncIterator<tf.TensorContainer> => {
      const it = this[Symbol.asyncIterator]();
      return {
        next: async () => {
          const r = await it.next();
          if (r.done) return { done: true, value: undefined };
          const { xs, ys } = r.value;
          if (!ys) return { done: false, value: { xs } };
          if (!oneHot) return { done: false, value: { xs, ys } };
          const hot = tf.tidy(() => tf.oneHot(ys, k!).toFloat());
          ys.dispose();
          return { done: false, value: { xs, ys: hot } };
        },
      };
    };
    return tf.data.generator(iterator as unknown as () => Iterator<tf.TensorContainer>);
  }
}
