import * as fs from 'fs';
import * as path from 'path';

/**
 * One typed configuration for the kit. Notebooks override by spreading:
 * `const cfg = { ...DEFAULT_CONFIG, epochs: 3 }`.
 */

/**
 * True when quick mode is on (KIT_QUICK=1, as `npm test` and `npm start -- --quick` set it): small data, few epochs,
 * the same code paths. Read when called, never frozen at import, so a script may set KIT_QUICK before calling.
 */
export function isQuick(): boolean {
  return ['1', 'true', 'yes'].includes(String(process.env.KIT_QUICK ?? '').toLowerCase());
}

/** Pick the full-mode value, or the quick-mode value when quick mode is on (read at the call). */
export function quickOr<T>(full: T, quick: T): T {
  return isQuick() ? quick : full;
}

/** Hyper-parameters of one training run (names follow d2l: epochs, lr, batchSize). */
export interface TrainConfig {
  /** Side of the square input image in pixels. */
  imgSize: number;
  /** Images per mini-batch. */
  batchSize: number;
  /** Passes over the training set. */
  epochs: number;
  /** Learning rate of the (head's) optimizer. */
  lr: number;
  /** Fraction of the training images held out for validation (stratified). */
  valFraction: number;
  /** Seed for splits, shuffles, augmentation and initializers. */
  seed: number;
}

/**
 * Defaults used across the notebooks; quick mode shrinks only what costs time. `epochs` is read when the object is
 * spread (`{ ...DEFAULT_CONFIG }`), so it follows the mode at that moment.
 */
export const DEFAULT_CONFIG: TrainConfig = {
  imgSize: 32, // the source models are trained on 32×32 RGB
  batchSize: 32, // fits any laptop; the bench uses the same
  get epochs() {
    return quickOr(10, 2);
  },
  lr: 1e-3, // Adam's usual default
  valFraction: 0.2,
  seed: 42,
};

/**
 * The kit's checkout: the nearest folder above this module whose package.json is the kit's.
 * Works both from `lib/*.ts` (tsx, tests) and from the compiled `dist/lib/*.js` (notebooks).
 */
export function repoRoot(): string {
  let dir = __dirname;
  for (;;) {
    const pkg = path.join(dir, 'package.json');
    if (fs.existsSync(pkg)) {
      try {
        if (JSON.parse(fs.readFileSync(pkg, 'utf8')).name === 'transfer-learning-kit') return dir;
      } catch {
        /* not ours, keep walking */
      }
    }
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`repoRoot: no package.json of transfer-learning-kit above ${__dirname}`);
    dir = up;
  }
}

/** Where the kit keeps generated data and caches (git-ignored). Override with KIT_CACHE_DIR. */
export function cacheDir(): string {
  return process.env.KIT_CACHE_DIR ?? path.join(repoRoot(), 'build', 'cache');
}

/** Folder of the shipped source models (`data/models/<name>/`). */
export function modelsDir(): string {
  return path.join(repoRoot(), 'data', 'models');
}
