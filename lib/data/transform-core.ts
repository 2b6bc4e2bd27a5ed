/**
 * The core of the image transforms (lib/data/transforms.ts is the module to import): the Transform type and its
 * serialisable spec, shared pixel helpers, and the deterministic steps compose / resize / normalize / toTensor.
 * Image transforms compose like albumentations: `compose([resize(32, 32), horizontalFlip(), normalize()])`.
 * A transform maps a `RawImage` (uint8 0–255 after decoding, or float32 in [0, 1]) to a new one, drawing
 * any randomness from the seeded `Rng` it is handed, so a seeded dataset augments identically run after run.
 * Decoding, blurring and large reductions run on sharp (libvips); other resizing, cropping, flips, rotation,
 * colour and noise in plain loops.
 */
import sharp from 'sharp';
import { Rng } from '../random';
import { bytePixels, floatPixels, RawImage, resizePixels, toFloat01 } from './image';

/**
 * A serialisable description of a built-in transform: the factory's name and the arguments it was called with.
 * `fromSpec` rebuilds the same transform from it (the DataLoader does so in its worker threads).
 */
export interface TransformSpec {
  name: string;
  args: unknown[];
}

/** One step of a pipeline. The built-in factories attach their `spec`; a custom function has none (and runs on the main thread). */
export type Transform = ((img: RawImage, rng: Rng) => RawImage | Promise<RawImage>) & { spec?: TransformSpec };

/** Attach the spec of the factory call that built `fn`. */
export function withSpec(fn: Transform, name: string, args: unknown[]): Transform {
  fn.spec = { name, args };
  return fn;
}

/** ImageNet statistics (torchvision / albumentations defaults), per RGB channel. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/** Every augmentation takes the probability `p` of being applied. */
export interface ProbabilityOption {
  p?: number;
}

/** Largest pixel value of an image's encoding: 255 for uint8, 1 for float32. */
export function maxValue(img: RawImage): number {
  return img.data instanceof Float32Array ? 1 : 255;
}

/** A new image with the same encoding (uint8 or float32) as `like`. */
export function alloc(like: RawImage, height: number, width: number, channels = like.channels): RawImage {
  const n = height * width * channels;
  return { data: like.data instanceof Float32Array ? new Float32Array(n) : new Uint8Array(n), height, width, channels };
}

/**
 * An image of `like`'s encoding from computed values (times `scale`): float32 stores them as they are,
 * uint8 rounds and clamps to 0–255. One loop per encoding after the arithmetic, rather than a type test
 * per pixel in it: several times faster on uint8 images.
 */
export function finish(like: RawImage, vals: Float64Array | Float32Array, height: number, width: number, scale = 1): RawImage {
  const channels = like.channels;
  if (like.data instanceof Float32Array) {
    const out = new Float32Array(vals.length);
    if (scale === 1) out.set(vals);
    else for (let i = 0; i < out.length; i++) out[i] = vals[i] * scale;
    return { data: out, height, width, channels };
  }
  const out = new Uint8Array(vals.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.min(255, Math.max(0, vals[i] * scale)));
  return { data: out, height, width, channels };
}

export function checkP(name: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`${name}: p must be in [0, 1], got ${p}`);
  return p;
}

/** Apply `fn` with probability p (one draw from rng either way, so later draws do not depend on the outcome). */
export function withP(name: string, p: number | undefined, fn: Transform): Transform {
  const prob = checkP(name, p ?? 0.5);
  return (img, rng) => (rng.next() < prob ? fn(img, rng) : img);
}

/** Run an operation on sharp: float images go through uint8 and back. */
export async function viaSharp(img: RawImage, op: (s: sharp.Sharp) => sharp.Sharp): Promise<RawImage> {
  const isFloat = img.data instanceof Float32Array;
  const u8 = isFloat ? bytePixels(img.data as Float32Array) : (img.data as Uint8Array);
  let s = sharp(Buffer.from(u8.buffer, u8.byteOffset, u8.length), { raw: { width: img.width, height: img.height, channels: img.channels as 1 | 3 | 4 } });
  s = op(s);
  if (img.channels === 1) s = s.toColourspace('b-w');
  const { data, info } = await s.raw().toBuffer({ resolveWithObject: true });
  if (info.channels !== img.channels) throw new Error(`sharp returned ${info.channels} channels for a ${img.channels}-channel image`);
  const out = new Uint8Array(data.buffer, data.byteOffset, data.length);
  return {
    data: isFloat ? floatPixels(out) : out,
    height: info.height,
    width: info.width,
    channels: img.channels,
  };
}

/** Chain transforms left to right (albumentations `A.Compose`). */
export function compose(transforms: Transform[]): Transform {
  transforms.forEach((t, i) => {
    if (typeof t !== 'function') throw new Error(`compose: item ${i} is not a transform (got ${typeof t}); did you forget to call it, e.g. resize(32, 32)?`);
  });
  const fn: Transform = async (img, rng) => {
    let out = img;
    for (const t of transforms) out = await t(out, rng);
    return out;
  };
  // serialisable only when every step is
  if (transforms.every((t) => t.spec)) fn.spec = { name: 'compose', args: [transforms.map((t) => t.spec)] };
  return fn;
}

/**
 * Resize any image (uint8 or float; float goes through uint8 and back). Shrinking on both axes runs on
 * libvips (antialiased, within a few levels of PIL, several times faster for photos); enlarging uses
 * `resizePixels` (exactly the cv2 / tf half-pixel bilinear convention, which libvips does not follow there).
 */
export function resizeImage(img: RawImage, height: number, width: number): RawImage | Promise<RawImage> {
  if (img.height >= height && img.width >= width) return viaSharp(img, (s) => s.resize(width, height, { fit: 'fill', kernel: 'linear' }));
  const isFloat = img.data instanceof Float32Array;
  const u8 = isFloat ? bytePixels(img.data as Float32Array) : (img.data as Uint8Array);
  const out = resizePixels(u8, img.height, img.width, img.channels, height, width);
  return { data: isFloat ? floatPixels(out) : out, height, width, channels: img.channels };
}

/**
 * Resize to height × width, ignoring the aspect ratio (albumentations `Resize`): bilinear with half-pixel
 * centres (cv2/PIL/tf `halfPixelCenters`), antialiased when shrinking like PIL's BILINEAR.
 */
export function resize(height: number, width: number): Transform {
  if (!(Number.isInteger(height) && Number.isInteger(width) && height > 0 && width > 0)) throw new Error(`resize: expected positive integer height and width, got ${height}×${width}`);
  return withSpec((img) => (img.height === height && img.width === width ? img : resizeImage(img, height, width)), 'resize', [height, width]);
}

/** Options of `normalize`. */
export interface NormalizeOptions {
  mean?: readonly number[];
  std?: readonly number[];
  /** Divisor of uint8 pixels (albumentations `max_pixel_value`, default 255); float input is taken as [0, 1]. */
  maxPixelValue?: number;
}

/** (x / maxPixelValue − mean) / std per channel, to float32 (albumentations `Normalize`; ImageNet defaults). */
export function normalize(opts: NormalizeOptions = {}): Transform {
  const mean = opts.mean ?? IMAGENET_MEAN;
  const std = opts.std ?? IMAGENET_STD;
  const maxPixel = opts.maxPixelValue ?? 255;
  if (std.some((s) => !(s > 0))) throw new Error(`normalize: std must be positive, got [${std}]`);
  return withSpec((img) => {
    const c = img.channels;
    const m = mean.length === 1 ? Array(c).fill(mean[0]) : mean;
    const s = std.length === 1 ? Array(c).fill(std[0]) : std;
    if (m.length !== c || s.length !== c) throw new Error(`normalize: mean/std have ${mean.length}/${std.length} values for a ${c}-channel image; give ${c} (or 1)`);
    const div = img.data instanceof Float32Array ? 1 : maxPixel;
    const out = new Float32Array(img.data.length);
    for (let i = 0; i < out.length; i++) out[i] = (img.data[i] / div - m[i % c]) / s[i % c];
    return { ...img, data: out };
  }, 'normalize', [opts]);
}

/** To float32 HWC (the `ToTensorV2` step): uint8 becomes [0, 1]; float input is returned as is. */
export function toTensor(): Transform {
  return withSpec((img) => toFloat01(img), 'toTensor', []);
}
