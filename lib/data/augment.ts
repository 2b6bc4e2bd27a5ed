/**
 * The random augmentations (데이터 증강), each applied with probability `p` and drawing only from the seeded Rng it is
 * handed: flips, rotation, random resized crop, colour jitter, Gaussian noise and blur (albumentations / torchvision
 * semantics, checked in test/data/transforms.test.ts).
 */
import { Rng } from '../random';
import type { RawImage } from './image';
import { withSpec, maxValue, alloc, finish, checkP, withP, viaSharp, resizeImage, resize, type ProbabilityOption, type Transform } from './transform-core';

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
  const [lo, hi] = checkedRange('gaussNoise', 'stdRange', opts.stdRange ?? [0.02, 0.1], 0);
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
  const [lo, hi] = checkedRange('blur', 'sigma', opts.sigma ?? [0.5, 1.5], 0.3);
  const blurred: Transform = (img, rng) => viaSharp(img, (s) => s.blur({ sigma: rng.uniform(lo, hi), precision: 'float' }));
  return withSpec(withP('blur', opts.p, blurred), 'blur', [opts]);
}

/** `range` as [lo, hi] if min ≤ lo ≤ hi, else an error naming the transform and the option. */
function checkedRange(transform: string, option: string, range: [number, number], min: number): [number, number] {
  const [lo, hi] = range;
  if (!(lo >= min && lo <= hi)) throw new Error(`${transform}: ${option} must satisfy ${min} ≤ lo ≤ hi, got [${lo}, ${hi}]`);
  return [lo, hi];
}
