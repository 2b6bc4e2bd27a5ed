/**
 * The target task of an experiment: labelled training images to draw from and test images to measure on —
 * an embedded view or an image folder with train/ and val/ — and the seeded per-class draws the fair protocol
 * makes from them (lib/data/subset.ts: one seeded permutation per class, cut into consecutive slices).
 */
import * as path from 'path';
import { isQuick } from '../config';
import { Rng } from '../random';
import type { ImageArrays } from './types';
import { loadView, type ViewName } from './embedded';
import { listImageFolder, warnSkipped, type OnBadImage } from './folder';
import { ImageDataset, SkippedImageError } from './dataset';
import { resize } from './transforms';
import { perClassSlices, rowsByClass } from './subset';
import { takeRows } from '../train/batches'; // (a data helper that lives in lib/train today)

/** Embedded view names a target may be. */
export const TARGET_VIEWS: readonly ViewName[] = ['digits', 'digits-m', 'digits-0-4', 'digits-5-9', 'digits-m-0-4', 'digits-m-5-9'];

/** A target task: labelled training images to draw from and test images to measure on. */
export interface TargetData {
  name: string;
  /** The pool the m training images and the validation images are drawn from. */
  train: ImageArrays;
  /** Only for the final measurement. */
  test: ImageArrays;
}

/** How a folder target is read (lib/data/folder.ts's options). */
export interface TargetReadOptions {
  /** A folder with one class folder is allowed (default false). */
  allowSingleClass?: boolean;
  /** 'skip' leaves unreadable files out with a warning (default 'error'). */
  onBadImage?: OnBadImage;
}

/** Reads an image folder split (class folders below) into memory at the model's input size. */
async function loadFolderSplit(root: string, split: string, size: [number, number, number], classes: string[] | undefined, opts: TargetReadOptions): Promise<ImageArrays> {
  const scan = await listImageFolder(root, { split, allowSingleClass: opts.allowSingleClass, onBadImage: opts.onBadImage });
  warnSkipped(scan.skipped);
  const names = classes ?? scan.classes;
  const labels = scan.labels.map((l) => {
    const i = names.indexOf(l);
    if (i < 0) throw new Error(`${path.join(root, split)}: class folder '${l}' is not among the train classes (${names.join(', ')}); rename or remove it`);
    return i;
  });
  const [h, w, c] = size;
  const ds = new ImageDataset(scan.paths, labels, undefined, { channels: c === 1 ? 1 : 3, classes: names, onBadImage: opts.onBadImage });
  const per = h * w * c;
  const images: Float32Array[] = [];
  const kept: number[] = [];
  const fit = resize(h, w);
  for (let i = 0; i < scan.paths.length; i++) {
    let s;
    try {
      s = await ds.get(i);
    } catch (err) {
      if (err instanceof SkippedImageError) continue; // onBadImage 'skip': left out, already warned
      throw err;
    }
    let img = { data: s.image, height: s.shape[0], width: s.shape[1], channels: s.shape[2] };
    if (img.height !== h || img.width !== w) img = (await fit(img, new Rng(0))) as typeof img;
    images.push(img.data instanceof Float32Array ? img.data : Float32Array.from(img.data, (v) => v / 255));
    kept.push(labels[i]);
  }
  const all = new Float32Array(images.length * per);
  images.forEach((im, k) => all.set(im, k * per));
  return { images: all, labels: Int32Array.from(kept), height: h, width: w, channels: c, classes: names };
}

/**
 * Loads a target: an embedded view name, or a folder holding train/ and val/ (class folders below), at the
 * source's input shape. `needPerClass` (quick mode) keeps only as many training images per class as the runs need.
 */
export async function loadTarget(
  target: string | TargetData,
  inputShape: [number, number, number],
  needPerClass?: number,
  opts: TargetReadOptions = {},
): Promise<TargetData> {
  if (typeof target !== 'string') return target;
  const [h, , c] = inputShape;
  if ((TARGET_VIEWS as readonly string[]).includes(target)) {
    const view = { imgSize: h, channels: c as 1 | 3 };
    // Quick mode keeps only 100 images per class of a view unless asked for more: ask for what the runs need.
    const quickPool = isQuick() && needPerClass !== undefined ? { mPerClass: needPerClass, seed: 0 } : {};
    return {
      name: target,
      train: await loadView(target as ViewName, { split: 'train', ...view, ...quickPool }),
      test: await loadView(target as ViewName, { split: 'val', ...view }),
    };
  }
  const root = path.resolve(target);
  const trainSet = await loadFolderSplit(root, 'train', inputShape, undefined, opts);
  const testSet = await loadFolderSplit(root, 'val', inputShape, trainSet.classes, opts);
  return { name: root, train: trainSet, test: testSet };
}

/**
 * The seed's split of the target's training images, as row indices: per class, a seeded permutation; the first
 * valPerClass rows validate, the next m train. For one seed the training sets nest (m = 10 ⊂ m = 50) and the
 * validation set is the same for every m and strategy.
 */
export function splitRows(pool: ImageArrays, m: number, valPerClass: number, seed: number): { train: number[]; val: number[] } {
  const byClass = rowsByClass(pool.labels, pool.classes.length);
  byClass.forEach((rows, k) => {
    if (rows.length < m + valPerClass) {
      throw new Error(
        `target class '${pool.classes[k]}' has ${rows.length} training images; m = ${m} plus ${valPerClass} for validation need ${m + valPerClass}`,
      );
    }
  });
  const draw = perClassSlices(byClass, (k) => `split/${seed}/${k}`, [valPerClass, m], { names: pool.classes });
  return { val: draw.flatMap((d) => d[0]), train: draw.flatMap((d) => d[1]) };
}

/** `splitRows` as images: `{ train, val }` ImageArrays for m training and valPerClass validation images per class. */
export function drawSplit(pool: ImageArrays, m: number, valPerClass: number, seed: number): { train: ImageArrays; val: ImageArrays } {
  const rows = splitRows(pool, m, valPerClass, seed);
  return { train: takeRows(pool, rows.train), val: takeRows(pool, rows.val) };
}

/** A seeded subset of `perClass` images of each class (rows kept in their order), or all when perClass is undefined. */
export function subsetPerClass(arrays: ImageArrays, perClass: number | undefined, seed: number): ImageArrays {
  if (perClass === undefined) return arrays;
  const picked = rowsByClass(arrays.labels, arrays.classes.length).flatMap(
    (classRows, k) => perClassSlices([classRows], () => `test/${seed}/${k}`, [Math.min(perClass, classRows.length)], { sorted: true })[0][0],
  );
  return takeRows(arrays, picked);
}
