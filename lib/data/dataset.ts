/**
 * The lecture's Dataset / DataLoader / WeightedRandomSampler, in TypeScript: datasets hand out one
 * transformed sample at a time; the loader batches them into tensors, shuffles per epoch with a seed,
 * samples by weight, decodes ahead of the consumer (prefetch) and feeds `model.fitDataset`.
 */
import * as tf from '@tensorflow/tfjs';
import { DEFAULT_CONFIG } from '../config';
import { Rng } from '../random';
import type { OnBadImage, SkippedFile } from './folder';
import { decodeImage, floatPixels, RawImage } from './image';
import { mapLimit } from './pool';
import type { Transform } from './transforms';
import type { Batch, Dataset, ImageArrays, Sample } from './types';
import { dropWorkerCache, runBatchInWorker, worthOffloading, type BatchTask } from './workers';

let nextDatasetId = 0;
/** A garbage-collected dataset's decode caches in the worker threads are freed. */
const workerCaches = new FinalizationRegistry<number>(dropWorkerCache);

/** Thrown by `ImageDataset.get` for a bad file when `onBadImage: 'skip'`; the DataLoader leaves the sample out. */
export class SkippedImageError extends Error {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(`skipped ${path}: ${reason}`);
    this.name = 'SkippedImageError';
  }
}

/** A transformed image as a float32 sample (uint8 becomes [0, 1]). */
function toSample(img: RawImage, label: number | undefined): Sample {
  const image = floatPixels(img.data);
  const s: Sample = { image, shape: [img.height, img.width, img.channels] };
  if (label !== undefined) s.label = label;
  return s;
}

function checkLabels(labels: ArrayLike<number>, n: number, what: string): Int32Array {
  if (labels.length !== n) throw new Error(`${what}: ${labels.length} labels for ${n} images; give one label per image`);
  const out = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const l = labels[i];
    if (typeof l !== 'number' || !Number.isInteger(l) || l < 0) {
      throw new Error(`${what}: label ${i} is ${JSON.stringify(l)}, expected a class index ≥ 0 (encode names with fitLabelEncoder(...).transform(labels))`);
    }
    out[i] = l;
  }
  return out;
}

/** A batch packed in memory: `n` samples of `shape` in `xs`, their labels in `ys`. */
export interface PackedBatch {
  xs: Float32Array;
  ys?: Int32Array;
  n: number;
  shape: [number, number, number];
}

/** A dataset that can load whole batches itself (ImageDataset with worker threads). */
interface BatchSource {
  readonly batchesInWorkers: boolean;
  loadBatch(idx: number[], seeds: string[]): Promise<PackedBatch>;
}

/** The error for a batch whose samples differ in shape. */
function shapeMismatch(index: number, shape: number[], firstIndex: number, firstShape: number[]): Error {
  return new Error(
    `DataLoader: sample ${index} has shape [${shape}] but sample ${firstIndex} has [${firstShape}]; ` + 'add resize(h, w) (or randomResizedCrop) to the transform so all images share one size',
  );
}

/**
 * One batch through the worker threads: the samples at positions `ks` of `idx` that `worker(idx[k], k)` assigns
 * to each worker go as one task; failed decodes go to `onDecodeFailure` (which throws or skips), transform
 * errors and samples of different shapes throw, and the replies are merged back into batch order.
 */
async function packInWorkers(
  idx: number[],
  workers: number,
  worker: (index: number, k: number) => number,
  task: (ks: number[]) => Omit<BatchTask, 'id' | 'kind'>,
  onDecodeFailure: (k: number, message: string) => void,
  labels: Int32Array | undefined,
): Promise<PackedBatch> {
  const parts = Array.from({ length: workers }, () => [] as number[]);
  idx.forEach((i, k) => parts[worker(i, k)].push(k));
  const replies = await Promise.all(parts.map((ks, w) => (ks.length === 0 ? null : runBatchInWorker(task(ks), w, workers))));
  // Back to batch order: [position in the batch, worker reply, position in that reply].
  const kept: [number, number, number][] = [];
  replies.forEach((r, w) => {
    if (!r) return;
    for (const f of r.failures) {
      if (f.stage === 'transform') throw new Error(f.message);
      onDecodeFailure(parts[w][f.k], f.message);
    }
    if (r.mismatch) throw shapeMismatch(idx[parts[w][r.mismatch.k]], r.mismatch.shape, idx[parts[w][r.kept[0]]], r.shape!);
    r.kept.forEach((k, j) => kept.push([parts[w][k], w, j]));
  });
  kept.sort((a, b) => a[0] - b[0]);
  if (kept.length === 0) return { xs: new Float32Array(0), n: 0, shape: [0, 0, 0] };
  const shape = replies[kept[0][1]]!.shape!;
  for (const [k, w] of kept) {
    const s = replies[w]!.shape!;
    if (s[0] !== shape[0] || s[1] !== shape[1] || s[2] !== shape[2]) throw shapeMismatch(idx[k], s, idx[kept[0][0]], shape);
  }
  const per = shape[0] * shape[1] * shape[2];
  let xs: Float32Array;
  if (replies.filter(Boolean).length === 1) {
    xs = replies[kept[0][1]]!.data; // one worker: already in order
  } else {
    xs = new Float32Array(kept.length * per);
    kept.forEach(([, w, j], q) => xs.set(replies[w]!.data.subarray(j * per, (j + 1) * per), q * per));
  }
  const ys = labels ? Int32Array.from(kept, ([k]) => labels[idx[k]]) : undefined;
  return { xs, ys, n: kept.length, shape };
}

/** Options of `ImageDataset`. */
export interface ImageDatasetOptions {
  /** Seed of the augmentation draws when `get` is called without an rng (default DEFAULT_CONFIG.seed). */
  seed?: number;
  /** 'error' (default): a bad file stops with an error naming it; 'skip': it is left out of batches and listed. */
  onBadImage?: OnBadImage;
  /** Channels to decode to: 3 (default; grey replicated) or 1. */
  channels?: 1 | 3;
  /** Class names (labels index into it). */
  classes?: string[];
  /**
   * Bytes of decoded pixels kept in memory, so that later epochs skip reading and decoding the files (default
   * 256 MiB per dataset, e.g. 80,000 images of 32×32 RGB or 450 photos of 500×375; 0 = decode on every `get`).
   * The transform still runs on every `get`, on a copy. A file changed on disk after its first read is not re-read.
   */
  cacheBytes?: number;
  /**
   * Worker threads that decode and transform samples off the main thread (default DEFAULT_IMAGE_WORKERS; 0 = all
   * on the main thread). Used by a DataLoader when the transform is built from the kit's factories (every step
   * has a `spec`) and holds at least one augmentation (a resize/normalize-only chain is cheaper on the main
   * thread); results are bit-identical either way. The loader hands each worker whole batches: it decodes
   * (keeping its own decode cache, within `cacheBytes`), transforms and packs them, so the main thread only sends
   * file names and receives one array per batch. `get` always runs on the main thread.
   */
  workers?: number;
}

/** Default of `ImageDatasetOptions.workers` (see docs/data.md, Throughput, for the measurement behind it). */
export const DEFAULT_IMAGE_WORKERS = 1;

/** The worker threads a dataset asks for (checked), and whether its transform goes to them. */
function workerPlan(what: string, workers: number | undefined, transform: Transform | undefined): [number, boolean] {
  const n = workers ?? DEFAULT_IMAGE_WORKERS;
  if (!(Number.isInteger(n) && n >= 0 && n <= 8)) throw new Error(`${what}: workers must be an integer in 0..8 (0 = main thread), got ${workers}`);
  return [n, n > 0 && !!transform?.spec && worthOffloading(transform.spec)];
}

/** Default of `ImageDatasetOptions.cacheBytes`. */
export const DEFAULT_DECODE_CACHE_BYTES = 256 * 1024 * 1024;

/**
 * Images read from files, like the lecture's CustomDataset: `get(i)` decodes `paths[i]`, applies the
 * transform and returns the image with its label (or the image alone when there are no labels).
 */
export class ImageDataset implements Dataset {
  readonly labels?: Int32Array;
  readonly classes?: string[];
  /** Files left out so far (with `onBadImage: 'skip'`). */
  readonly skipped: SkippedFile[] = [];
  private readonly seed: number;
  private readonly draws = new Map<number, number>();
  private readonly onBad: OnBadImage;
  private readonly channels: 1 | 3;
  private readonly cacheBytes: number;
  private cachedBytes = 0;
  private readonly decoded = new Map<number, RawImage>();
  private readonly workers: number;
  /** Decode and transform in worker threads: workers > 0 and a transform of the kit's factories with an augmentation. */
  private readonly offload: boolean;

  constructor(
    readonly paths: readonly string[],
    labels: ArrayLike<number> | undefined,
    readonly transform?: Transform,
    opts: ImageDatasetOptions = {},
  ) {
    if (!Array.isArray(paths)) throw new Error('ImageDataset: paths must be an array of file paths (e.g. df.column("img_path").values)');
    if (labels !== undefined) this.labels = checkLabels(labels, paths.length, 'ImageDataset');
    this.seed = opts.seed ?? DEFAULT_CONFIG.seed;
    this.onBad = opts.onBadImage ?? 'error';
    this.channels = opts.channels ?? 3;
    this.classes = opts.classes;
    this.cacheBytes = opts.cacheBytes ?? DEFAULT_DECODE_CACHE_BYTES;
    if (!(this.cacheBytes >= 0)) throw new Error(`ImageDataset: cacheBytes must be ≥ 0 (0 = no cache), got ${opts.cacheBytes}`);
    [this.workers, this.offload] = workerPlan('ImageDataset', opts.workers, transform);
    if (this.offload) workerCaches.register(this, this.id);
  }

  /** Identifies this dataset's decode caches in the worker threads. */
  private readonly id = nextDatasetId++;

  get length(): number {
    return this.paths.length;
  }

  /** Decode (or take from the cache), transform and return sample `index`; `rng` drives the augmentation (default: seeded per index and call). */
  async get(index: number, rng?: Rng): Promise<Sample> {
    if (!Number.isInteger(index) || index < 0 || index >= this.paths.length) throw new Error(`ImageDataset.get: index ${index} out of range 0..${this.paths.length - 1}`);
    if (!rng) {
      const k = this.draws.get(index) ?? 0;
      this.draws.set(index, k + 1);
      rng = new Rng(`${this.seed}/get/${index}/${k}`);
    }
    const hit = this.decoded.get(index);
    // a copy of a cached image: a transform that writes into its input must not alter the cache
    let img = hit ? { ...hit, data: hit.data.slice() } : await this.decode(index);
    if (this.transform) img = await this.transform(img, rng);
    return toSample(img, this.labels?.[index]);
  }

  /** Whether `loadBatch` runs (the transform goes to worker threads). */
  get batchesInWorkers(): boolean {
    return this.offload;
  }

  /**
   * Samples `idx` with the augmentation seeds `seeds`, decoded, transformed and packed by the worker threads:
   * sample i always goes to worker i mod workers (whose decode cache then holds it). Bad files are skipped or
   * reported as in `get`; samples of different shapes are an error naming both.
   */
  async loadBatch(idx: number[], seeds: string[]): Promise<PackedBatch> {
    const cacheBytes = Math.floor(this.cacheBytes / this.workers);
    return packInWorkers(idx, this.workers, (i) => i % this.workers, (ks) => ({
      dataset: this.id,
      files: ks.map((k) => this.paths[idx[k]]),
      seeds: ks.map((k) => seeds[k]),
      channels: this.channels,
      spec: this.transform!.spec!,
      cacheBytes,
    }), (k, message) => {
      try {
        this.badImage(this.paths[idx[k]], new Error(message));
      } catch (err) {
        if (!(err instanceof SkippedImageError)) throw err;
      }
    }, this.labels);
  }

  /** Read and decode file `index` (kept in the cache while it has room); a bad file is skipped or reported. */
  private async decode(index: number): Promise<RawImage> {
    const file = this.paths[index];
    try {
      const img = await decodeImage(file, { channels: this.channels });
      if (this.cachedBytes + img.data.byteLength <= this.cacheBytes && !this.decoded.has(index)) {
        this.decoded.set(index, { ...img, data: img.data.slice() }); // a private copy: the transform may write into img
        this.cachedBytes += img.data.byteLength;
      }
      return img;
    } catch (err) {
      this.badImage(file, err as Error);
    }
  }

  /** A file that cannot be read or decoded: rethrow its error, or record it and throw SkippedImageError. */
  private badImage(file: string, err: Error): never {
    if (this.onBad !== 'skip') throw err;
    if (!this.skipped.some((s) => s.path === file)) {
      const reason = err.message.replace(/^Cannot (decode|read) image [^:]*: /, '');
      this.skipped.push({ path: file, reason });
      console.warn(`ImageDataset: skipping ${file}: ${reason}`);
    }
    throw new SkippedImageError(file, this.skipped.find((s) => s.path === file)!.reason);
  }
}

/**
 * An in-memory view (`loadView`) as a dataset, optionally augmented on the fly (float pixels in [0, 1]). With a
 * transform of the kit's factories holding an augmentation, a DataLoader sends each batch's pixels to a worker
 * thread (`workers`, default DEFAULT_IMAGE_WORKERS; 0 = main thread), which augments and packs it: the same
 * values bit for bit, off the main thread that trains.
 */
export class ArrayDataset implements Dataset {
  readonly classes: string[];
  private readonly per: number;
  private readonly workers: number;
  private readonly offload: boolean;

  constructor(
    readonly arrays: ImageArrays,
    readonly transform?: Transform,
    private readonly seed: number = DEFAULT_CONFIG.seed,
    opts: { workers?: number } = {},
  ) {
    const { images, labels, height, width, channels } = arrays;
    this.per = height * width * channels;
    if (images.length !== labels.length * this.per) {
      throw new Error(`ArrayDataset: images hold ${images.length} values, expected ${labels.length} × ${height}×${width}×${channels} = ${labels.length * this.per}`);
    }
    this.classes = arrays.classes;
    [this.workers, this.offload] = workerPlan('ArrayDataset', opts.workers, transform);
  }

  get length(): number {
    return this.arrays.labels.length;
  }

  /** Sample `index` (a copy), transformed when a transform was given. */
  get(index: number, rng?: Rng): Sample | Promise<Sample> {
    if (!Number.isInteger(index) || index < 0 || index >= this.length) throw new Error(`ArrayDataset.get: index ${index} out of range 0..${this.length - 1}`);
    const { height, width, channels, images, labels } = this.arrays;
    const img: RawImage = { data: images.slice(index * this.per, (index + 1) * this.per), height, width, channels };
    if (!this.transform) return toSample(img, labels[index]);
    const out = this.transform(img, rng ?? new Rng(`${this.seed}/get/${index}`));
    return Promise.resolve(out).then((o) => toSample(o, labels[index]));
  }

  /** Whether `loadBatch` runs (the transform goes to worker threads). */
  get batchesInWorkers(): boolean {
    return this.offload;
  }

  /** Samples `idx` augmented with the seeds `seeds` in the worker threads (contiguous shares of the batch). */
  async loadBatch(idx: number[], seeds: string[]): Promise<PackedBatch> {
    const { height, width, channels, images, labels } = this.arrays;
    const share = Math.ceil(idx.length / this.workers);
    return packInWorkers(idx, this.workers, (_, k) => Math.floor(k / share), (ks) => {
      const data = new Float32Array(ks.length * this.per);
      ks.forEach((k, j) => data.set(images.subarray(idx[k] * this.per, (idx[k] + 1) * this.per), j * this.per));
      return { dataset: -1, seeds: ks.map((k) => seeds[k]), pixels: { data, height, width, channels }, channels: channels === 1 ? 1 : 3, spec: this.transform!.spec!, cacheBytes: 0 };
    }, () => undefined, labels);
  }
}

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
