/**
 * The in-memory views the notebooks train on (`loadView`): whole sets and the 0–4 / 5–9 source/target halves of the
 * embedded digits and digits-m, decoded from the cache folders (embedded-cache.ts) and kept decoded on disk
 * (`<cacheDir>/views/*.bin`, checksummed) and in memory.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { cacheDir, DEFAULT_CONFIG } from '../config';
import { ProgressBar } from '../display/progress';
import { Rng } from '../random';
import { isNotWritable, removeLeftovers, writeFileAtomic } from './cache-lock';
import { DIGITS_M_SIZE, EmbeddedDataset, MNIST_COUNTS, SOURCE_SIZE, VAL_PER_CLASS, ensureEmbedded, resetEnsured } from './embedded-cache';
import { decodeImage, floatPixels, lumaPixels, resizePixels } from './image';
import { mapLimit } from './pool';
import type { ImageArrays } from './types';

export { DIGITS_M_SIZE, MNIST_COUNTS, VAL_PER_CLASS, digitsMTexture, ensureEmbedded } from './embedded-cache';
export type { EmbeddedDataset, EnsureOptions } from './embedded-cache';

/** The in-memory views (whole sets and the 0–4 / 5–9 source/target halves). */
export type ViewName = 'digits' | 'digits-m' | 'digits-0-4' | 'digits-5-9' | 'digits-m-0-4' | 'digits-m-5-9';

/** Options of `loadView`. */
export interface LoadViewOptions {
  /** Which split of the folder: 200 images per class are held out as `val`. */
  split: 'train' | 'val';
  /** Draw a seeded subset of exactly this many images per class (subsets nest as m grows, for one seed). */
  mPerClass?: number;
  /** Keep at most this many images per class (a seeded subset when a class has more), e.g. to keep quick runs small. */
  maxPerClass?: number;
  /** Seed of the `mPerClass` draw (default DEFAULT_CONFIG.seed). */
  seed?: number;
  /** Side of the square output image (default 32). */
  imgSize?: number;
  /** 3 (default; grey digits replicated to RGB) or 1 (grey; digits-m converted to luma). */
  channels?: 1 | 3;
}

/** What `listViews` tells about one view. */
export interface ViewInfo {
  name: ViewName;
  dataset: EmbeddedDataset;
  classes: string[];
  /** Images per class in the train split, in class order (val has VAL_PER_CLASS of each). */
  trainPerClass: number[];
  valPerClass: number;
  description: string;
}

/** A split is decoded whole (and cached on disk) only up to this many bytes (8,000 images up to ~100 px RGB). */
const MAX_CACHED_SPLIT_BYTES = 256 * 2 ** 20;
/** A cap callers may pass as `maxPerClass` in quick mode (`loadView` itself never reads the mode). */
export const QUICK_PER_CLASS = 100;

const VIEWS: Record<ViewName, { dataset: EmbeddedDataset; digits: number[]; description: string }> = {
  digits: { dataset: 'digits', digits: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], description: 'real MNIST digits 0–9, grey' },
  'digits-0-4': { dataset: 'digits', digits: [0, 1, 2, 3, 4], description: 'MNIST digits 0–4 (a source task)' },
  'digits-5-9': { dataset: 'digits', digits: [5, 6, 7, 8, 9], description: 'MNIST digits 5–9 (a target task)' },
  'digits-m': { dataset: 'digits-m', digits: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], description: 'colour digits 0–9 over procedural textures (MNIST-M-like)' },
  'digits-m-0-4': { dataset: 'digits-m', digits: [0, 1, 2, 3, 4], description: 'colour digits 0–4 (a source task)' },
  'digits-m-5-9': { dataset: 'digits-m', digits: [5, 6, 7, 8, 9], description: 'colour digits 5–9 (a target task)' },
};

/** Describe the views `loadView` accepts. */
export function listViews(): ViewInfo[] {
  return (Object.keys(VIEWS) as ViewName[]).map((name) => {
    const v = VIEWS[name];
    return {
      name,
      dataset: v.dataset,
      classes: v.digits.map(String),
      trainPerClass: v.digits.map((d) => MNIST_COUNTS[d] - VAL_PER_CLASS),
      valPerClass: VAL_PER_CLASS,
      description: v.description,
    };
  });
}

// ---------------------------------------------------------------------------------------------
// Decoded arrays (binary cache on disk + memo in process)

/** A whole split decoded at one size: uint8 NHWC and the digit of each image. */
interface BaseSplit {
  images: Uint8Array;
  digits: Int32Array;
  size: number;
  channels: number;
}

const baseCache = new Map<string, Promise<BaseSplit>>();

/** Forget which folders were checked and which splits were decoded in this process (tests damage a cache and check again). */
export function resetEmbeddedChecks(): void {
  resetEnsured();
  baseCache.clear();
}

function sha256(buf: Buffer | Uint8Array): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/** Where the decoded split lives: keyed by the folder's manifest, so a rebuilt folder gets a new file. */
function binPathFor(root: string, dataset: EmbeddedDataset, split: string, size: number, channels: number, manifestText: string): string {
  const digest = sha256(Buffer.from(manifestText)).slice(0, 16);
  return path.join(path.dirname(root), 'views', `${dataset}-${split}-${size}px-${channels}ch-v2-${digest}.bin`);
}

/**
 * Read a decoded split from its binary file: [n int32 digits][n·per uint8 pixels][SHA-256 of both].
 * Returns undefined when absent, truncated or not matching its checksum (then it is rebuilt).
 */
function readBin(binPath: string, n: number, per: number, size: number, channels: number): BaseSplit | undefined {
  if (!fs.existsSync(binPath)) return undefined;
  const buf = fs.readFileSync(binPath);
  const body = n * (4 + per);
  if (buf.length !== body + 32) return undefined;
  if (!crypto.createHash('sha256').update(buf.subarray(0, body)).digest().equals(buf.subarray(body))) return undefined;
  const digits = new Int32Array(n);
  const view = new DataView(buf.buffer, buf.byteOffset, n * 4);
  for (let i = 0; i < n; i++) digits[i] = view.getInt32(i * 4, true);
  return { images: new Uint8Array(buf.buffer, buf.byteOffset + n * 4, n * per), digits, size, channels };
}

/** The manifest's text and the files of one split, or undefined when the folder is not there. */
function splitFiles(root: string, split: string): { manifestText: string; files: string[] } | undefined {
  try {
    const manifestText = fs.readFileSync(path.join(root, 'manifest.json'), 'utf8');
    const files = Object.keys((JSON.parse(manifestText) as { files: Record<string, string> }).files).filter((f) => f.startsWith(`${split}/`));
    return { manifestText, files };
  } catch {
    return undefined;
  }
}

const unsavable = new Set<string>();

/** Keep a decoded split on disk for next time; a read-only cache only costs decoding again (said once, with the fix). */
function saveBin(binPath: string, bytes: Buffer): void {
  try {
    fs.mkdirSync(path.dirname(binPath), { recursive: true });
    removeLeftovers(binPath);
    writeFileAtomic(binPath, bytes);
  } catch (e) {
    if (!isNotWritable(e)) throw e;
    const dir = path.dirname(binPath);
    if (!unsavable.has(dir)) {
      console.warn(`Cannot keep the decoded images in ${dir} (${e.code}): they will be decoded again next time. Set KIT_CACHE_DIR to a writable folder to keep them.`);
    }
    unsavable.add(dir);
  }
}

async function decodeSplit(root: string, dataset: EmbeddedDataset, split: 'train' | 'val', size: number, channels: 1 | 3): Promise<BaseSplit> {
  const { manifestText, files } = splitFiles(root, split)!;
  const binPath = binPathFor(root, dataset, split, size, channels, manifestText);
  const n = files.length;
  const per = size * size * channels;
  const cached = readBin(binPath, n, per, size, channels);
  if (cached) return cached;
  const images = new Uint8Array(n * per);
  const digits = new Int32Array(n);
  const bar = new ProgressBar({ total: n, label: `${dataset} ${split}: decoding at ${size} px (first use)`, unit: 'img' });
  let done = 0;
  try {
    await mapLimit(files, 16, async (f, i) => {
      const img = await decodeImage(path.join(root, f), { channels, size: [size, size] });
      images.set(img.data as Uint8Array, i * per);
      digits[i] = Number(f.split('/')[1]);
      bar.update(++done);
    });
  } finally {
    bar.close();
  }
  const body = Buffer.concat([Buffer.from(digits.buffer.slice(0)), Buffer.from(images.buffer, images.byteOffset, images.length)]);
  saveBin(binPath, Buffer.concat([body, crypto.createHash('sha256').update(body).digest()]));
  return { images, digits, size, channels };
}

/** The size and channels the files are stored at (decoded without resampling). */
const NATIVE: Record<EmbeddedDataset, { size: number; channels: 1 | 3 }> = {
  digits: { size: SOURCE_SIZE, channels: 1 },
  'digits-m': { size: DIGITS_M_SIZE, channels: 3 },
};

/**
 * One stored image at another size / channel count: grey → RGB replicates, RGB → grey is the luma of
 * PIL's convert('L') (0.299 R + 0.587 G + 0.114 B); resampling is `resizePixels` (bilinear, antialiased).
 */
export function convertPixels(px: Uint8Array, size: number, fromChannels: number, toSize: number, toChannels: 1 | 3): Uint8Array {
  let img = px;
  let c = fromChannels;
  if (toChannels === 1 && c === 3) {
    img = lumaPixels(img);
    c = 1;
  }
  if (toSize !== size) img = resizePixels(img, size, size, c, toSize, toSize);
  if (toChannels === 3 && c === 1) {
    const rgb = new Uint8Array(img.length * 3);
    for (let p = 0; p < img.length; p++) rgb[p * 3] = rgb[p * 3 + 1] = rgb[p * 3 + 2] = img[p];
    img = rgb;
  }
  return img === px ? px.slice() : img;
}

/**
 * A decoded split, memoized. The stored size is decoded once (fast path: a checksummed binary file
 * decoded earlier from the same manifest, without re-hashing the folder; otherwise the folder is checked,
 * repaired if need be, and decoded); other sizes and channel counts are converted from it in memory.
 */
function loadBase(dataset: EmbeddedDataset, split: 'train' | 'val', size: number, channels: 1 | 3): Promise<BaseSplit> {
  const key = `${cacheDir()}|${dataset}|${split}|${size}|${channels}`;
  let p = baseCache.get(key);
  if (!p) {
    p = (async () => {
      const nat = NATIVE[dataset];
      if (size !== nat.size || channels !== nat.channels) {
        const src = await loadBase(dataset, split, nat.size, nat.channels);
        const perIn = nat.size * nat.size * nat.channels;
        const per = size * size * channels;
        const n = src.digits.length;
        const images = new Uint8Array(n * per);
        for (let i = 0; i < n; i++) images.set(convertPixels(src.images.subarray(i * perIn, (i + 1) * perIn), nat.size, nat.channels, size, channels), i * per);
        return { images, digits: src.digits, size, channels };
      }
      const root = path.join(cacheDir(), dataset);
      const listed = splitFiles(root, split);
      if (listed) {
        const binPath = binPathFor(root, dataset, split, size, channels, listed.manifestText);
        const cached = readBin(binPath, listed.files.length, size * size * channels, size, channels);
        if (cached) return cached;
      }
      return decodeSplit(await ensureEmbedded(dataset), dataset, split, size, channels);
    })();
    baseCache.set(key, p);
    p.catch(() => baseCache.delete(key));
  }
  return p;
}

/**
 * Indices (into the class's images, ascending) of a seeded subset of m of n images. The subset for
 * m is a prefix of one seeded permutation, so the m = 10 subset lies inside the m = 50 one.
 */
export function nestedSubset(n: number, m: number, seed: number | string): number[] {
  return new Rng(seed)
    .permutation(n)
    .slice(0, m)
    .sort((a, b) => a - b);
}

/**
 * Rows of the split (indices into its files) chosen for each class: all of them, exactly `mPerClass`, or at most
 * `maxPerClass`; a subset is the seed's nested subset.
 */
function chooseRows(name: ViewName, fileDigits: number[], opts: LoadViewOptions, seed: number): number[][] {
  const spec = VIEWS[name];
  return spec.digits.map((d) => {
    const ofClass: number[] = [];
    for (let i = 0; i < fileDigits.length; i++) if (fileDigits[i] === d) ofClass.push(i);
    const m = opts.mPerClass ?? Math.min(opts.maxPerClass ?? Infinity, ofClass.length);
    if (m > ofClass.length) {
      throw new Error(`loadView('${name}', split '${opts.split}'): mPerClass ${m} but class '${d}' has only ${ofClass.length} images; use mPerClass ≤ ${ofClass.length}`);
    }
    return m === ofClass.length ? ofClass : nestedSubset(ofClass.length, m, `${seed}/${spec.dataset}/${opts.split}/${d}`).map((k) => ofClass[k]);
  });
}

/**
 * Load an embedded view into memory: NHWC float32 in [0, 1], labels 0..k−1 in class order.
 * Example: `await loadView('digits-5-9', { split: 'train', mPerClass: 10, seed: 1 })`. Every image of the split
 * unless `mPerClass` or `maxPerClass` says otherwise (quick runs pass `maxPerClass: QUICK_PER_CLASS`).
 */
export async function loadView(name: ViewName, opts: LoadViewOptions): Promise<ImageArrays> {
  const spec = VIEWS[name];
  if (!spec) throw new Error(`loadView: unknown view '${name}'; expected one of ${Object.keys(VIEWS).join(', ')}`);
  const { split, seed = DEFAULT_CONFIG.seed, imgSize = 32, channels = 3 } = opts ?? ({} as LoadViewOptions);
  if (split !== 'train' && split !== 'val') throw new Error(`loadView('${name}'): split must be 'train' or 'val', got ${JSON.stringify(split)}`);
  if (!Number.isInteger(imgSize) || imgSize < 1 || imgSize > 1024) throw new Error(`loadView('${name}'): imgSize must be an integer in 1..1024, got ${imgSize}`);
  if (channels !== 1 && channels !== 3) throw new Error(`loadView('${name}'): channels must be 1 or 3, got ${channels}`);
  for (const k of ['mPerClass', 'maxPerClass'] as const) {
    const v = opts[k];
    if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw new Error(`loadView('${name}'): ${k} must be a positive integer, got ${v}`);
  }
  // Which files: the manifest lists the split in a fixed order (the order of the decoded binary too).
  let listed = splitFiles(path.join(cacheDir(), spec.dataset), split);
  if (!listed) listed = splitFiles(await ensureEmbedded(spec.dataset), split)!;
  const fileDigits = listed.files.map((f) => Number(f.split('/')[1]));
  const chosen = chooseRows(name, fileDigits, opts, seed);
  const total = chosen.reduce((s, c) => s + c.length, 0);
  const per = imgSize * imgSize * channels;
  const images = new Float32Array(total * per);
  const labels = new Int32Array(total);
  const order = chosen.flatMap((idxs, label) => idxs.map((i) => ({ i, label })));
  if (fileDigits.length * per <= MAX_CACHED_SPLIT_BYTES) {
    // the whole split decoded once at this size (binary cache + memo), then gathered
    const base = await loadBase(spec.dataset, split, imgSize, channels);
    order.forEach(({ i, label }, row) => {
      const src = base.images.subarray(i * per, (i + 1) * per);
      const off = row * per;
      for (let k = 0; k < per; k++) images[off + k] = src[k] / 255;
      labels[row] = label;
    });
  } else {
    // large images: decode just the chosen files (a whole split would not fit a sensible cache)
    const root = await ensureEmbedded(spec.dataset);
    await mapLimit(order, 8, async ({ i, label }, row) => {
      const nat = NATIVE[spec.dataset];
      const img = await decodeImage(path.join(root, listed!.files[i]), { channels: nat.channels });
      if (img.height !== nat.size || img.width !== nat.size) throw new Error(`${listed!.files[i]}: ${img.height}×${img.width}, expected ${nat.size}×${nat.size}`);
      images.set(floatPixels(convertPixels(img.data as Uint8Array, nat.size, nat.channels, imgSize, channels)), row * per);
      labels[row] = label;
    });
  }
  return { images, labels, height: imgSize, width: imgSize, channels, classes: spec.digits.map(String) };
}
