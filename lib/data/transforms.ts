/**
 * Image transforms composable like albumentations: `compose([resize(32, 32), horizontalFlip(), normalize()])`.
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
function withSpec(fn: Transform, name: string, args: unknown[]): Transform {
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
function maxValue(img: RawImage): number {
  return img.data instanceof Float32Array ? 1 : 255;
}

/** A new image with the same encoding (uint8 or float32) as `like`. */
function alloc(like: RawImage, height: number, width: number, channels = like.channels): RawImage {
  const n = height * width * channels;
  return { data: like.data instanceof Float32Array ? new Float32Array(n) : new Uint8Array(n), height, width, channels };
}

/**
 * An image of `like`'s encoding from computed values (times `scale`): float32 stores them as they are,
 * uint8 rounds and clamps to 0–255. One loop per encoding after the arithmetic, rather than a type test
 * per pixel in it: several times faster on uint8 images.
 */
function finish(like: RawImage, vals: Float64Array | Float32Array, height: number, width: number, scale = 1): RawImage {
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

function checkP(name: string, p: number): number {
  if (!(p >= 0 && p <= 1)) throw new Error(`${name}: p must be in [0, 1], got ${p}`);
  return p;
}

/** Apply `fn` with probability p (one draw from rng either way, so later draws do not depend on the outcome). */
function withP(name: string, p: number | undefined, fn: Transform): Transform {
  const prob = checkP(name, p ?? 0.5);
  return (img, rng) => (rng.next() < prob ? fn(img, rng) : img);
}

/** Run an operation on sharp: float images go through uint8 and back. */
async function viaSharp(img: RawImage, op: (s: sharp.Sharp) => sharp.Sharp): Promise<RawImage> {
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
function resizeImage(img: RawImage, height: number, width: number): RawImage | Promise<RawImage> {
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

/** Mirror left–right with probability p (default 0.5). */
export function horizontalFlip(opts: ProbabilityOption = {}): Transform {
  return withSpec(withP('horizontalFlip', opts.p, (img) => {
    const { height: h, width: w, channels: c } = img;
    const out = alloc(img, h, w);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) {
        const src = (y * w + (w - 1 - x)) * c;
        const dst = (y * w + x) * c;
        for (let k = 0; k < c; k++) out.data[dst + k] = img.data[src + k];
      }
    return out;
  }), 'horizontalFlip', [opts]);
}

/** Mirror top–bottom with probability p (default 0.5). */
export function verticalFlip(opts: ProbabilityOption = {}): Transform {
  return withSpec(withP('verticalFlip', opts.p, (img) => {
    const { height: h, width: w, channels: c } = img;
    const out = alloc(img, h, w);
    const row = w * c;
    for (let y = 0; y < h; y++) out.data.set(img.data.subarray((h - 1 - y) * row, (h - y) * row), y * row);
    return out;
  }), 'verticalFlip', [opts]);
}

/** Index reflected at the borders without repeating the edge (OpenCV BORDER_REFLECT_101). */
function reflect101(i: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  i = ((i % period) + period) % period;
  return i < n ? i : period - i;
}

/**
 * Rotate by an angle drawn uniformly from [−limit, limit] degrees about the centre, same size,
 * bilinear, borders reflected (albumentations `Rotate`, default limit 15 — here required), probability p.
 */
export function rotate(limit: number, opts: ProbabilityOption = {}): Transform {
  if (!(limit >= 0 && limit <= 180)) throw new Error(`rotate: limit must be in [0, 180] degrees, got ${limit}`);
  return withSpec(withP('rotate', opts.p, (img, rng) => rotateBy(img, rng.uniform(-limit, limit))), 'rotate', [limit, opts]);
}

/** Rotate counter-clockwise by `degrees` (positive = counter-clockwise, as in OpenCV), bilinear, reflected borders. */
export function rotateBy(img: RawImage, degrees: number): RawImage {
  const { height: h, width: w, channels: c } = img;
  const src = img.data;
  const vals = new Float64Array(h * w * c);
  const a = (degrees * Math.PI) / 180;
  const [cos, sin] = [Math.cos(a), Math.sin(a)];
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      // inverse map: the source point that lands on (x, y); y grows downwards, so ccw on screen
      const dx = x - cx;
      const dy = y - cy;
      const sx = cx + cos * dx - sin * dy;
      const sy = cy + sin * dx + cos * dy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      // inside the image (the common case) the reflection is the identity
      const xa = x0 >= 0 && x0 < w ? x0 : reflect101(x0, w);
      const xb = x0 + 1 >= 0 && x0 + 1 < w ? x0 + 1 : reflect101(x0 + 1, w);
      const ya = y0 >= 0 && y0 < h ? y0 : reflect101(y0, h);
      const yb = y0 + 1 >= 0 && y0 + 1 < h ? y0 + 1 : reflect101(y0 + 1, h);
      const i00 = (ya * w + xa) * c;
      const i01 = (ya * w + xb) * c;
      const i10 = (yb * w + xa) * c;
      const i11 = (yb * w + xb) * c;
      const o = (y * w + x) * c;
      const [gx, gy] = [1 - fx, 1 - fy];
      for (let k = 0; k < c; k++) vals[o + k] = gy * (gx * src[i00 + k] + fx * src[i01 + k]) + fy * (gx * src[i10 + k] + fx * src[i11 + k]);
    }
  return finish(img, vals, h, w);
}

/** The pixels inside a box. */
function cropImage(img: RawImage, box: { top: number; left: number; height: number; width: number }): RawImage {
  const c = img.channels;
  const out = alloc(img, box.height, box.width);
  for (let y = 0; y < box.height; y++) {
    const from = ((box.top + y) * img.width + box.left) * c;
    out.data.set(img.data.subarray(from, from + box.width * c), y * box.width * c);
  }
  return out;
}

/** Options of `randomResizedCrop` (torchvision defaults). */
export interface RandomResizedCropOptions extends ProbabilityOption {
  /** Range of the crop's area as a fraction of the image (default [0.08, 1]). */
  scale?: [number, number];
  /** Range of the crop's aspect ratio w/h (default [3/4, 4/3], drawn log-uniformly). */
  ratio?: [number, number];
}

/** The crop box of torchvision's RandomResizedCrop.get_params (10 tries, then a centre crop). */
export function randomCropBox(h: number, w: number, rng: Rng, scale: [number, number], ratio: [number, number]): { top: number; left: number; height: number; width: number } {
  const area = h * w;
  const [lr0, lr1] = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(scale[0], scale[1]);
    const ar = Math.exp(rng.uniform(lr0, lr1));
    const cw = Math.round(Math.sqrt(target * ar));
    const ch = Math.round(Math.sqrt(target / ar));
    if (cw > 0 && ch > 0 && cw <= w && ch <= h) return { top: rng.int(h - ch + 1), left: rng.int(w - cw + 1), height: ch, width: cw };
  }
  const inRatio = w / h;
  let cw = w;
  let ch = h;
  if (inRatio < ratio[0]) ch = Math.round(w / ratio[0]);
  else if (inRatio > ratio[1]) cw = Math.round(h * ratio[1]);
  return { top: Math.floor((h - ch) / 2), left: Math.floor((w - cw) / 2), height: ch, width: cw };
}

/**
 * Crop a random region (area fraction in `scale`, aspect ratio in `ratio`) and resize it to height × width
 * (torchvision/albumentations `RandomResizedCrop`). Applied with probability p (default 1); otherwise a plain resize.
 */
export function randomResizedCrop(height: number, width: number, opts: RandomResizedCropOptions = {}): Transform {
  const scale = opts.scale ?? [0.08, 1];
  const ratio = opts.ratio ?? [3 / 4, 4 / 3];
  if (!(scale[0] > 0 && scale[0] <= scale[1] && scale[1] <= 1)) throw new Error(`randomResizedCrop: scale must satisfy 0 < lo ≤ hi ≤ 1, got [${scale}]`);
  if (!(ratio[0] > 0 && ratio[0] <= ratio[1])) throw new Error(`randomResizedCrop: ratio must satisfy 0 < lo ≤ hi, got [${ratio}]`);
  const p = checkP('randomResizedCrop', opts.p ?? 1);
  const plain = resize(height, width);
  return withSpec(
    (img, rng) => {
      if (!(rng.next() < p)) return plain(img, rng);
      const box = randomCropBox(img.height, img.width, rng, scale, ratio);
      return resizeImage(cropImage(img, box), height, width);
    },
    'randomResizedCrop',
    [height, width, opts],
  );
}

/** Options of `colorJitter`: each factor is drawn uniformly from [1 − x, 1 + x]; hue shift from [−hue, hue] turns. */
export interface ColorJitterOptions extends ProbabilityOption {
  brightness?: number;
  contrast?: number;
  saturation?: number;
  /** Hue shift as a fraction of the colour circle, at most 0.5. */
  hue?: number;
}

function rgbToHsv(r: number, g: number, b: number): [number, number, number] {
  const max = Math.max(r, g, b);
  const min = Math.min(r, g, b);
  const d = max - min;
  let h = 0;
  if (d > 0) {
    if (max === r) h = ((g - b) / d) % 6;
    else if (max === g) h = (b - r) / d + 2;
    else h = (r - g) / d + 4;
    h /= 6;
    if (h < 0) h += 1;
  }
  return [h, max === 0 ? 0 : d / max, max];
}

function hsvToRgb(h: number, s: number, v: number): [number, number, number] {
  const i = Math.floor(h * 6);
  const f = h * 6 - i;
  const p = v * (1 - s);
  const q = v * (1 - f * s);
  const t = v * (1 - (1 - f) * s);
  switch (((i % 6) + 6) % 6) {
    case 0:
      return [v, t, p];
    case 1:
      return [q, v, p];
    case 2:
      return [p, v, t];
    case 3:
      return [p, q, v];
    case 4:
      return [t, p, v];
    default:
      return [v, p, q];
  }
}

/**
 * Random brightness, contrast, saturation and hue (torchvision `ColorJitter`, applied in that fixed
 * order), with probability p (default 0.5). Saturation and hue need 3 channels.
 */
export function colorJitter(opts: ColorJitterOptions = {}): Transform {
  const { brightness = 0.2, contrast = 0.2, saturation = 0, hue = 0 } = opts;
  if (!(hue >= 0 && hue <= 0.5)) throw new Error(`colorJitter: hue must be in [0, 0.5], got ${hue}`);
  for (const [k, v] of Object.entries({ brightness, contrast, saturation })) if (!(v >= 0)) throw new Error(`colorJitter: ${k} must be ≥ 0, got ${v}`);
  return withSpec(withP('colorJitter', opts.p, (img, rng) => {
    const b = rng.uniform(1 - brightness, 1 + brightness);
    const ct = rng.uniform(1 - contrast, 1 + contrast);
    const sat = rng.uniform(1 - saturation, 1 + saturation);
    const hShift = rng.uniform(-hue, hue);
    const max = maxValue(img);
    const c = img.channels;
    const n = img.height * img.width;
    const x = new Float32Array(img.data.length);
    for (let i = 0; i < x.length; i++) x[i] = Math.min(1, Math.max(0, (img.data[i] / max) * b));
    if (contrast > 0) {
      // blend with the mean grey level of the image (torchvision adjust_contrast)
      let mean = 0;
      for (let p = 0; p < n; p++) mean += c >= 3 ? 0.299 * x[p * c] + 0.587 * x[p * c + 1] + 0.114 * x[p * c + 2] : x[p * c];
      mean /= n;
      for (let i = 0; i < x.length; i++) x[i] = Math.min(1, Math.max(0, mean + ct * (x[i] - mean)));
    }
    if (c >= 3 && (saturation > 0 || hue > 0)) {
      const clamp01 = (v: number): number => (v < 0 ? 0 : v > 1 ? 1 : v);
      for (let p = 0; p < n; p++) {
        const o = p * c;
        if (saturation > 0) {
          const grey = 0.299 * x[o] + 0.587 * x[o + 1] + 0.114 * x[o + 2];
          for (let k = 0; k < 3; k++) x[o + k] = clamp01(grey + sat * (x[o + k] - grey));
        }
        if (hue > 0) {
          const [h, s, v] = rgbToHsv(x[o], x[o + 1], x[o + 2]);
          const rgb = hsvToRgb((((h + hShift) % 1) + 1) % 1, s, v);
          x[o] = rgb[0];
          x[o + 1] = rgb[1];
          x[o + 2] = rgb[2];
        }
      }
    }
    return finish(img, x, img.height, img.width, max);
  }), 'colorJitter', [opts]);
}

/** Options of `gaussNoise`. */
export interface GaussNoiseOptions extends ProbabilityOption {
  /** Range of the noise's standard deviation, as a fraction of the pixel range (default [0.02, 0.1]). */
  stdRange?: [number, number];
}

/** Add per-pixel Gaussian noise with a std drawn from `stdRange` (albumentations `GaussNoise`), probability p. */
export function gaussNoise(opts: GaussNoiseOptions = {}): Transform {
  const [lo, hi] = opts.stdRange ?? [0.02, 0.1];
  if (!(lo >= 0 && lo <= hi)) throw new Error(`gaussNoise: stdRange must satisfy 0 ≤ lo ≤ hi, got [${lo}, ${hi}]`);
  return withSpec(withP('gaussNoise', opts.p, (img, rng) => {
    const max = maxValue(img);
    const std = rng.uniform(lo, hi) * max;
    const vals = new Float64Array(img.data.length);
    for (let i = 0; i < vals.length; i++) vals[i] = img.data[i] + rng.normal(0, std);
    return finish(img, vals, img.height, img.width);
  }), 'gaussNoise', [opts]);
}

/** Options of `blur`. */
export interface BlurOptions extends ProbabilityOption {
  /** Range of the Gaussian's sigma in pixels (default [0.5, 1.5]; sharp needs ≥ 0.3). */
  sigma?: [number, number];
}

/** Gaussian blur with a sigma drawn from `sigma` (albumentations `GaussianBlur`), probability p. */
export function blur(opts: BlurOptions = {}): Transform {
  const [lo, hi] = opts.sigma ?? [0.5, 1.5];
  if (!(lo >= 0.3 && lo <= hi)) throw new Error(`blur: sigma must satisfy 0.3 ≤ lo ≤ hi, got [${lo}, ${hi}]`);
  return withSpec(withP('blur', opts.p, (img, rng) => {
    const sigma = rng.uniform(lo, hi);
    return viaSharp(img, (s) => s.blur({ sigma, precision: 'float' }));
  }), 'blur', [opts]);
}

/** The factories `fromSpec` can rebuild, by name. */
const FACTORIES: Record<string, (...args: never[]) => Transform> = {
  resize,
  normalize,
  toTensor,
  horizontalFlip,
  verticalFlip,
  rotate,
  randomResizedCrop,
  colorJitter,
  gaussNoise,
  blur,
};

/** Rebuild a transform from its `spec` (same factory, same arguments: the same draws and pixels). */
export function fromSpec(spec: TransformSpec): Transform {
  if (spec.name === 'compose') return compose((spec.args[0] as TransformSpec[]).map(fromSpec));
  const f = FACTORIES[spec.name];
  if (!f) throw new Error(`fromSpec: unknown transform "${spec.name}"; known: compose, ${Object.keys(FACTORIES).join(', ')}`);
  return (f as (...args: unknown[]) => Transform)(...spec.args);
}
