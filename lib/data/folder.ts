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

/** A folder entry with symbolic links followed: a folder, a file, or a link that points nowhere. */
interface Entry {
  name: string;
  path: string;
  kind: 'dir' | 'file' | 'broken';
}

function readEntries(dir: string, what: string): Entry[] {
  let dirents: fs.Dirent[];
  try {
    dirents = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') throw new Error(`${what} ${dir} does not exist; expected a folder laid out as <root>/<class>/<image>`);
    if (e.code === 'ENOTDIR') throw new Error(`${what} ${dir} is a file, not a folder; expected <root>/<class>/<image>`);
    if (e.code === 'EACCES') throw new Error(`${what} ${dir} is not readable (permission denied); fix its permissions (chmod a+rx)`);
    throw new Error(`${what} ${dir} cannot be read: ${e.message}`);
  }
  return dirents
    .map((d): Entry => {
      const p = path.join(dir, d.name);
      if (!d.isSymbolicLink()) return { name: d.name, path: p, kind: d.isDirectory() ? 'dir' : 'file' };
      try {
        return { name: d.name, path: p, kind: fs.statSync(p).isDirectory() ? 'dir' : 'file' };
      } catch {
        return { name: d.name, path: p, kind: 'broken' };
      }
    })
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
}

/** Files and folders of one class folder: images kept, the rest skipped or an error (nested folders always an error). */
function scanClassFolder(cls: string, dir: string, bad: (p: string, reason: string, fix: string) => void, skipped: SkippedFile[], out: { paths: string[]; labels: string[] }): number {
  let n = 0;
  for (const e of readEntries(dir, 'Class folder')) {
    if (e.name.startsWith('.')) skipped.push({ path: e.path, reason: 'hidden entry' });
    else if (e.kind === 'dir') {
      throw new Error(
        `${e.path}: a nested folder inside a class folder (expected <root>/<class>/<image>). Flatten it into its class folder, ` +
          'or point root at the folder that holds the class folders (or the train/ and val/ folders); onBadImage skips only files, not folders.',
      );
    } else if (e.kind === 'broken') bad(e.path, 'a broken symbolic link (its target does not exist)', 'Fix or remove the link');
    else if (!isImageFile(e.name)) bad(e.path, `not an image file (extension '${path.extname(e.name) || 'none'}'; expected ${IMAGE_EXTENSIONS.join(' ')})`, 'Remove it');
    else {
      out.paths.push(e.path);
      out.labels.push(cls);
      n++;
    }
  }
  return n;
}

/** Scan one `<root>/<class>/<image>` folder. */
function scanClasses(root: string, onBad: OnBadImage, skipped: SkippedFile[], allowSingle: boolean): { paths: string[]; labels: string[]; classes: string[] } {
  const entries = readEntries(root, 'Image folder');
  const bad = (p: string, reason: string, fix: string): void => {
    if (onBad === 'skip') skipped.push({ path: p, reason });
    else throw new Error(`${p}: ${reason}. ${fix}, or pass { onBadImage: 'skip' } to leave it out with a warning.`);
  };
  // Hidden entries (.DS_Store, .ipynb_checkpoints) are never data: always left out, but listed.
  for (const e of entries) if (e.name.startsWith('.')) skipped.push({ path: e.path, reason: 'hidden entry' });
  const visible = entries.filter((e) => !e.name.startsWith('.'));
  for (const e of visible) {
    if (e.kind !== 'dir') bad(e.path, 'a file directly in the image folder, outside any class folder', 'Move it into a class folder or remove it');
  }
  const out = { paths: [] as string[], labels: [] as string[] };
  const classes: string[] = [];
  for (const e of visible.filter((x) => x.kind === 'dir')) {
    const n = scanClassFolder(e.name, e.path, bad, skipped, out);
    if (n === 0) bad(e.path, `class folder '${e.name}' holds no images`, 'Add images to it or remove the folder');
    else classes.push(e.name);
  }
  if (classes.length === 0) throw new Error(`Image folder ${root} has no class folders with images; expected <root>/<class>/<image> (e.g. ${path.join(root, 'ants', '0001.jpg')})`);
  if (classes.length === 1 && !allowSingle) {
    throw new Error(
      `Image folder ${root} has a single class ('${classes[0]}'); a classifier needs at least two class folders. ` +
        'Check that root points at the folder holding the class folders, or pass { allowSingleClass: true }.',
    );
  }
  return { ...out, classes };
}

/** Split folders of root: named train/val/valid/validation/test and holding folders (class folders), not images. */
function splitFolders(top: Entry[]): Entry[] {
  return top.filter((e) => e.kind === 'dir' && SPLIT_NAMES.includes(e.name.toLowerCase()) && readEntries(e.path, 'Split folder').some((x) => x.kind === 'dir' && !x.name.startsWith('.')));
}

/** Every split folder of root, with the split of each file; what lies beside the splits is listed as skipped. */
function scanSplits(top: Entry[], splits: Entry[], opts: ScanOptions, skipped: SkippedFile[]): ImageFolderScan {
  const names = splits.map((s) => s.name).join(', ');
  for (const e of top) {
    if (splits.includes(e) || e.name.startsWith('.')) continue;
    skipped.push({ path: e.path, reason: e.kind === 'dir' ? `a folder beside the split folders (${names}), not read` : 'a file beside the split folders' });
  }
  const paths: string[] = [];
  const labels: string[] = [];
  const splitOf: string[] = [];
  const classes = new Set<string>();
  for (const s of splits) {
    const r = scanClasses(s.path, opts.onBadImage ?? 'error', skipped, !!opts.allowSingleClass);
    paths.push(...r.paths);
    labels.push(...r.labels);
    splitOf.push(...r.paths.map(() => s.name));
    r.classes.forEach((c) => classes.add(c));
  }
  return { paths, labels, splits: splitOf, classes: [...classes].sort(), skipped };
}

/** Decode every listed image; bad ones are an error (naming each) or skipped with `onBadImage: 'skip'`. */
async function verifyImages(root: string, result: ImageFolderScan, onBad: OnBadImage): Promise<ImageFolderScan> {
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
  const keep = (_: unknown, i: number): boolean => ok[i];
  return {
    ...result,
    paths: result.paths.filter(keep),
    labels: result.labels.filter(keep),
    splits: result.splits?.filter(keep),
    skipped: [...result.skipped, ...failures],
  };
}

/**
 * Scan `root/<class>/<image>` (or `root/{train,val,test}/<class>/<image>`, other folders beside them listed as left
 * out) into parallel arrays of paths and labels, listing what was skipped. Symbolic links are followed. Errors name
 * the file at fault and the fix; `onBadImage: 'skip'` leaves out bad files, never folders.
 */
export async function listImageFolder(root: string, opts: ScanOptions = {}): Promise<ImageFolderScan> {
  const onBad = opts.onBadImage ?? 'error';
  if (onBad !== 'error' && onBad !== 'skip') throw new Error(`onBadImage must be 'error' or 'skip', got ${JSON.stringify(onBad)}`);
  const skipped: SkippedFile[] = [];
  const top = readEntries(root, 'Image folder');
  let result: ImageFolderScan;
  if (opts.split !== undefined) {
    const dirs = top.filter((e) => e.kind === 'dir').map((e) => e.name);
    if (!dirs.includes(opts.split)) {
      throw new Error(`Split folder '${opts.split}' missing in ${root} (found: ${dirs.join(', ') || 'nothing'}); expected ${path.join(root, opts.split, '<class>', '<image>')}`);
    }
    result = { ...scanClasses(path.join(root, opts.split), onBad, skipped, !!opts.allowSingleClass), skipped };
  } else {
    const splits = splitFolders(top);
    result = splits.length > 0 ? scanSplits(top, splits, opts, skipped) : { ...scanClasses(root, onBad, skipped, !!opts.allowSingleClass), skipped };
  }
  return opts.verify ? verifyImages(root, result, onBad) : result;
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
