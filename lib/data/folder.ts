/**
 * The lecture's data flow: an image folder `root/<class>/<image>` → a DataFrame of `img_path` and
 * `label`, a label encoder fitted on train and applied to val, and a stratified, seeded split.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as dfdTypes from 'danfojs-node';
import { Rng } from '../random';
import { decodeImage } from './image';
import { mapLimit } from './pool';

/** danfojs is loaded on first use (it takes a second or two to import). */
function dfd(): typeof dfdTypes {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('danfojs-node') as typeof dfdTypes;
}

/** File endings sharp decodes (case-insensitive). */
export const IMAGE_EXTENSIONS: readonly string[] = ['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif'];

/** What to do with a file that is not a usable image: stop with an error (default) or skip it with a warning. */
export type OnBadImage = 'error' | 'skip';

/** A file left out, and why. */
export interface SkippedFile {
  path: string;
  reason: string;
}

/** Options of `scanImageFolder` / `listImageFolder`. */
export interface ScanOptions {
  /** 'error' (default): any non-image file or empty class folder is an error; 'skip': left out and listed. */
  onBadImage?: OnBadImage;
  /** Decode every image once to find corrupt or truncated files now rather than mid-training (slower). */
  verify?: boolean;
  /** When root holds split folders (train/, val/): which one to read; default all, with a `split` column. */
  split?: string;
  /** Allow a folder with a single class (default false: a classifier needs two). */
  allowSingleClass?: boolean;
}

/** The plain result of scanning: parallel arrays plus what was skipped. */
export interface ImageFolderScan {
  paths: string[];
  labels: string[];
  /** Split of each file when root holds split folders, else undefined. */
  splits?: string[];
  /** Class folder names, sorted. */
  classes: string[];
  skipped: SkippedFile[];
}

const SPLIT_NAMES = ['train', 'val', 'valid', 'validation', 'test'];

function isImageFile(name: string): boolean {
  return IMAGE_EXTENSIONS.includes(path.extname(name).toLowerCase());
}

function readDirOrThrow(dir: string, what: string): fs.Dirent[] {
  try {
    return fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new Error(`${what} ${dir} does not exist; expected a folder laid out as <root>/<class>/<image>`);
    if (e.code === 'ENOTDIR') throw new Error(`${what} ${dir} is a file, not a folder; expected <root>/<class>/<image>`);
    if (e.code === 'EACCES') throw new Error(`${what} ${dir} is not readable (permission denied); fix its permissions (chmod a+rx)`);
    throw new Error(`${what} ${dir} cannot be read: ${e.message}`);
  }
}

/** Scan one `<root>/<class>/<image>` folder. */
function scanClasses(root: string, onBad: OnBadImage, skipped: SkippedFile[], allowSingle: boolean): { paths: string[]; labels: string[]; classes: string[] } {
  const entries = readDirOrThrow(root, 'Image folder');
  const bad = (p: string, reason: string, fix: string): void => {
    if (onBad === 'skip') skipped.push({ path: p, reason });
    else throw new Error(`${p}: ${reason}. ${fix}, or pass { onBadImage: 'skip' } to leave it out with a warning.`);
  };
  // Hidden entries (.DS_Store, .ipynb_checkpoints) are never data: always left out, but listed.
  for (const e of entries) if (e.name.startsWith('.')) skipped.push({ path: path.join(root, e.name), reason: 'hidden entry' });
  const visible = entries.filter((e) => !e.name.startsWith('.'));
  const classDirs = visible.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  for (const e of visible) {
    if (!e.isDirectory()) bad(path.join(root, e.name), 'a file directly in the image folder, outside any class folder', 'Move it into a class folder or remove it');
  }
  const paths: string[] = [];
  const labels: string[] = [];
  const classes: string[] = [];
  for (const cls of classDirs) {
    const dir = path.join(root, cls);
    const files = readDirOrThrow(dir, 'Class folder');
    let n = 0;
    for (const f of files.map((x) => x.name).sort()) {
      const p = path.join(dir, f);
      if (f.startsWith('.')) {
        skipped.push({ path: p, reason: 'hidden entry' });
        continue;
      }
      const isDir = files.find((x) => x.name === f)!.isDirectory();
      if (isDir) bad(p, 'a nested folder inside a class folder (expected <root>/<class>/<image>)', 'Flatten it into its class folder');
      else if (!isImageFile(f)) bad(p, `not an image file (extension '${path.extname(f) || 'none'}'; expected ${IMAGE_EXTENSIONS.join(' ')})`, 'Remove it');
      else {
        paths.push(p);
        labels.push(cls);
        n++;
      }
    }
    if (n === 0) bad(dir, `class folder '${cls}' holds no images`, 'Add images to it or remove the folder');
    else classes.push(cls);
  }
  if (classes.length === 0) throw new Error(`Image folder ${root} has no class folders with images; expected <root>/<class>/<image> (e.g. ${path.join(root, 'ants', '0001.jpg')})`);
  if (classes.length === 1 && !allowSingle) {
    throw new Error(
      `Image folder ${root} has a single class ('${classes[0]}'); a classifier needs at least two class folders. ` +
        'Check that root points at the folder holding the class folders, or pass { allowSingleClass: true }.',
    );
  }
  return { paths, labels, classes };
}

/**
 * Scan `root/<class>/<image>` (or `root/{train,val}/<class>/<image>`) into parallel arrays of paths and
 * labels, listing what was skipped. Errors name the file at fault and the fix.
 */
export async function listImageFolder(root: string, opts: ScanOptions = {}): Promise<ImageFolderScan> {
  const onBad = opts.onBadImage ?? 'error';
  if (onBad !== 'error' && onBad !== 'skip') throw new Error(`onBadImage must be 'error' or 'skip', got ${JSON.stringify(onBad)}`);
  const skipped: SkippedFile[] = [];
  const top = readDirOrThrow(root, 'Image folder');
  const topDirs = top.filter((e) => e.isDirectory()).map((e) => e.name);
  const splitDirs = topDirs.filter((d) => SPLIT_NAMES.includes(d.toLowerCase())).sort();
  let result: ImageFolderScan;
  if (opts.split !== undefined) {
    if (!topDirs.includes(opts.split)) {
      throw new Error(`Split folder '${opts.split}' missing in ${root} (found: ${topDirs.join(', ') || 'nothing'}); expected ${path.join(root, opts.split, '<class>', '<image>')}`);
    }
    const r = scanClasses(path.join(root, opts.split), onBad, skipped, !!opts.allowSingleClass);
    result = { ...r, skipped };
  } else if (splitDirs.length > 0 && splitDirs.length === topDirs.length) {
    // root holds split folders: read them all and keep the split of each file (other files are listed as skipped).
    for (const e of top) if (!e.isDirectory()) skipped.push({ path: path.join(root, e.name), reason: 'a file beside the split folders' });
    const paths: string[] = [];
    const labels: string[] = [];
    const splits: string[] = [];
    const classes = new Set<string>();
    for (const s of splitDirs) {
      const r = scanClasses(path.join(root, s), onBad, skipped, !!opts.allowSingleClass);
      paths.push(...r.paths);
      labels.push(...r.labels);
      splits.push(...r.paths.map(() => s));
      r.classes.forEach((c) => classes.add(c));
    }
    result = { paths, labels, splits, classes: [...classes].sort(), skipped };
  } else {
    result = { ...scanClasses(root, onBad, skipped, !!opts.allowSingleClass), skipped };
  }
  if (opts.verify) {
    const failures: SkippedFile[] = [];
    const ok = await mapLimit(result.paths, 8, async (p) => {
      try {
        await decodeImage(p);
        return true;
      } catch (err) {
        failures.push({ path: p, reason: (err as Error).message.replace(/^Cannot (decode|read) image [^:]*: /, '').replace(/\. The file is not .*$/, '') });
        return false;
      }
    });
    failures.sort((a, b) => (a.path < b.path ? -1 : 1));
    if (failures.length && onBad === 'error') {
      throw new Error(
        `Cannot decode ${failures.length} image(s) in ${root}:\n${failures.map((f) => `  ${f.path}: ${f.reason}`).join('\n')}\n` +
          "Replace or delete them, or pass { onBadImage: 'skip' } to leave them out with a warning.",
      );
    }
    skipped.push(...failures);
    const keep = (_: unknown, i: number): boolean => ok[i];
    result = {
      ...result,
      paths: result.paths.filter(keep),
      labels: result.labels.filter(keep),
      splits: result.splits?.filter(keep),
    };
  }
  return result;
}

/** Print the skipped files (one warning naming each). */
export function warnSkipped(skipped: SkippedFile[], log: (msg: string) => void = console.warn): void {
  if (skipped.length === 0) return;
  log(`Skipped ${skipped.length} file(s):\n${skipped.map((s) => `  ${s.path}: ${s.reason}`).join('\n')}`);
}

/**
 * The lecture's first step: a danfojs DataFrame with columns `img_path` and `label` (the class folder
 * name), plus `split` when root holds train/ and val/. Skipped files (with `onBadImage: 'skip'`) are printed.
 */
export async function scanImageFolder(root: string, opts: ScanOptions = {}): Promise<dfdTypes.DataFrame> {
  const scan = await listImageFolder(root, opts);
  warnSkipped(scan.skipped);
  const cols: Record<string, string[]> = { img_path: scan.paths, label: scan.labels };
  if (scan.splits) cols.split = scan.splits;
  return new (dfd().DataFrame)(cols);
}

/** A fitted label encoder (sklearn's LabelEncoder: classes sorted, ids 0..k−1). */
export interface LabelEncoder {
  readonly classes: string[];
  /** Class names → ids; an unseen name is an error naming it and the known classes. */
  transform(labels: ArrayLike<string> | Iterable<string>): number[];
  /** Ids → class names. */
  inverseTransform(ids: ArrayLike<number> | Iterable<number>): string[];
}

function toArray<T>(x: ArrayLike<T> | Iterable<T> | { values: T[] }): T[] {
  if (x && typeof x === 'object' && 'values' in x && Array.isArray((x as { values: T[] }).values)) return (x as { values: T[] }).values;
  return Array.from(x as ArrayLike<T>);
}

/**
 * Fit a label encoder on the train labels (array or danfojs Series), to apply to val/test labels.
 * (danfojs' own LabelEncoder maps unseen labels to −1 silently; this one throws.)
 */
export function fitLabelEncoder(labels: ArrayLike<string> | Iterable<string> | dfdTypes.Series): LabelEncoder {
  const arr = toArray(labels as ArrayLike<string>).map(String);
  if (arr.length === 0) throw new Error('fitLabelEncoder: no labels to fit');
  const classes = [...new Set(arr)].sort();
  const index = new Map(classes.map((c, i) => [c, i]));
  return {
    classes,
    transform(xs) {
      return toArray(xs as ArrayLike<string>).map((x) => {
        const id = index.get(String(x));
        if (id === undefined) {
          throw new Error(`LabelEncoder: unseen label '${x}'; known classes: ${classes.join(', ')}. Fit the encoder on labels that include it.`);
        }
        return id;
      });
    },
    inverseTransform(ids) {
      return toArray(ids as ArrayLike<number>).map((i) => {
        if (!Number.isInteger(i) || i < 0 || i >= classes.length) throw new Error(`LabelEncoder: id ${i} out of range 0..${classes.length - 1}`);
        return classes[i];
      });
    },
  };
}

/** Options of `trainValSplit`. */
export interface SplitOptions {
  /** Fraction held out for validation (0 < f < 1). */
  valFraction: number;
  seed: number;
  /** Keep each class's proportion in both parts (default true). */
  stratify?: boolean;
  /** Column holding the class (default 'label'). */
  labelColumn?: string;
}

/** Row indices of a seeded (optionally stratified) split of labels. */
export function splitIndices(labels: readonly string[], opts: SplitOptions): { train: number[]; val: number[] } {
  const { valFraction, seed, stratify = true } = opts;
  if (!(valFraction > 0 && valFraction < 1)) throw new Error(`trainValSplit: valFraction must be in (0, 1), got ${valFraction}`);
  const rng = new Rng(seed);
  const groups = new Map<string, number[]>();
  labels.forEach((l, i) => {
    const key = stratify ? String(l) : '';
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key)!.push(i);
  });
  const val: number[] = [];
  for (const key of [...groups.keys()].sort()) {
    const rows = groups.get(key)!;
    const nVal = rows.length < 2 ? 0 : Math.min(rows.length - 1, Math.max(1, Math.round(rows.length * valFraction)));
    const perm = rng.fork(key).permutation(rows.length);
    for (let k = 0; k < nVal; k++) val.push(rows[perm[k]]);
  }
  const isVal = new Set(val);
  return { train: labels.map((_, i) => i).filter((i) => !isVal.has(i)), val: val.sort((a, b) => a - b) };
}

/**
 * Split a DataFrame into train and val parts, stratified by `label` and seeded (sklearn's
 * `train_test_split(..., stratify=labels)`). Rows keep their original order; the index is reset.
 */
export function trainValSplit(df: dfdTypes.DataFrame, opts: SplitOptions): { train: dfdTypes.DataFrame; val: dfdTypes.DataFrame } {
  const col = opts.labelColumn ?? 'label';
  if (!df.columns.includes(col)) throw new Error(`trainValSplit: no column '${col}' in the DataFrame (columns: ${df.columns.join(', ')})`);
  const labels = (df.column(col).values as unknown[]).map(String);
  const { train, val } = splitIndices(labels, opts);
  const part = (rows: number[]): dfdTypes.DataFrame => (df.iloc({ rows }) as dfdTypes.DataFrame).resetIndex() as dfdTypes.DataFrame;
  return { train: part(train), val: part(val) };
}
