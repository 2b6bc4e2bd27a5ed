/**
 * The lecture's CustomDataset, in TypeScript: `ImageDataset` (image files) and `ArrayDataset` (images in memory)
 * hand out one transformed sample at a time (`get(i)`), and can load whole batches in worker threads for the
 * DataLoader (lib/data/loader.ts). Samplers are in lib/data/sampler.ts.
 */
import { DEFAULT_CONFIG } from '../config';
import { Rng } from '../random';
import type { OnBadImage, SkippedFile } from './folder';
import { decodeImage, floatPixels, RawImage } from './image';
import type { Transform } from './transforms';
import type { Dataset, ImageArrays, Sample } from './types';
import { dropWorkerCache, packInWorkers, worthOffloading, type PackedBatch } from './workers';

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
