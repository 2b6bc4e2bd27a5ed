/**
 * Decoding image files with sharp into raw pixels (HWC, 8 bits per channel), whatever the input:
 * JPEG/PNG/WebP/GIF/TIFF, grey, grey+alpha, RGB, RGBA, 16-bit. Alpha is flattened onto white,
 * 16-bit is reduced to 8-bit, grey is replicated to RGB when three channels are asked for.
 */
import * as fs from 'fs';
import sharp from 'sharp';

/** Raw pixels of one image, row-major HWC. `data` is uint8 (0–255) until `normalize`/`toFloat` turns it float32. */
export interface RawImage {
  data: Uint8Array | Float32Array;
  height: number;
  width: number;
  channels: number;
}

/** Options of `decodeImage`. */
export interface DecodeOptions {
  /** Output channels: 3 (RGB, default) or 1 (grey: `lumaPixels`, as PIL's convert('L')). */
  channels?: 1 | 3;
  /** Resize to [height, width] after decoding (`resizePixels`: bilinear, antialiased, aspect ratio not kept). */
  size?: [number, number];
}

/** Name of the image source for error messages. */
function describe(source: string | Buffer): string {
  return typeof source === 'string' ? source : `<buffer of ${source.length} bytes>`;
}

/**
 * Decode an image file (or an encoded buffer) into 8-bit HWC pixels with 1 or 3 channels.
 * Throws an error naming the file when it is missing, unreadable, not an image, or truncated.
 */
export async function decodeImage(source: string | Buffer, opts: DecodeOptions = {}): Promise<RawImage> {
  const channels = opts.channels ?? 3;
  let input: Buffer;
  if (typeof source === 'string') {
    try {
      // A synchronous read: a few microseconds for a cached image file, where the async readFile needs four
      // thread-pool round trips (open, stat, read, close), each waiting for an event-loop turn — which a
      // training loop busy on the main thread hands out only once per batch (see DataLoader).
      input = fs.readFileSync(source);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      const why =
        e.code === 'ENOENT'
          ? 'the file does not exist (was it moved or deleted after the folder was scanned?)'
          : e.code === 'EACCES'
            ? 'permission denied (fix the file permissions, e.g. chmod a+r)'
            : e.code === 'EISDIR'
              ? 'it is a folder, not an image file'
              : e.message;
      throw new Error(`Cannot read image ${source}: ${why}`);
    }
  } else {
    input = source;
  }
  if (input.length === 0) throw new Error(`Cannot decode image ${describe(source)}: the file is empty (0 bytes); replace or remove it`);
  try {
    // failOn 'error': truncated or corrupt data is an error (not a grey tail), mere libvips warnings are not.
    // flatten() is a no-op without alpha, so one pipeline serves every input (no separate metadata() read)
    let img = sharp(input, { failOn: 'error' }).flatten({ background: '#ffffff' });
    img = img.toColourspace('srgb');
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`decoded ${info.channels} channels where 3 were expected`);
    let px = new Uint8Array(data.buffer, data.byteOffset, data.length);
    if (channels === 1) px = lumaPixels(px);
    if (opts.size && (opts.size[0] !== info.height || opts.size[1] !== info.width)) {
      return { data: resizePixels(px, info.height, info.width, channels, opts.size[0], opts.size[1]), height: opts.size[0], width: opts.size[1], channels };
    }
    return { data: px, height: info.height, width: info.width, channels };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    throw new Error(
      `Cannot decode image ${describe(source)}: ${msg}. ` +
        'The file is not a readable JPEG/PNG/WebP/GIF/TIFF image or is truncated; replace it, delete it, ' +
        "or pass { onBadImage: 'skip' } to skip bad files with a warning.",
    );
  }
}

/** Grey from RGB pixels: the luma of PIL's convert('L'), 0.299 R + 0.587 G + 0.114 B (grey input stays exact). */
export function lumaPixels(rgb: Uint8Array): Uint8Array {
  const out = new Uint8Array(rgb.length / 3);
  for (let p = 0; p < out.length; p++) out[p] = Math.round(0.299 * rgb[p * 3] + 0.587 * rgb[p * 3 + 1] + 0.114 * rgb[p * 3 + 2]);
  return out;
}

/** Pixels as float32 in [0, 1]: uint8 divided by 255 (a plain loop: `Float32Array.from(x, fn)` is far slower). */
export function floatPixels(data: Uint8Array | Float32Array): Float32Array {
  if (data instanceof Float32Array) return data;
  const out = new Float32Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = data[i] / 255;
  return out;
}

/** Float pixels in [0, 1] back to uint8 (rounded, clamped). */
export function bytePixels(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.round(Math.min(1, Math.max(0, data[i])) * 255);
  return out;
}

/** Convert 8-bit pixels to float32 in [0, 1] (a float image is returned unchanged). */
export function toFloat01(img: RawImage): RawImage {
  return img.data instanceof Float32Array ? img : { ...img, data: floatPixels(img.data) };
}

/** Taps of a 1-D resampling: output o reads `count[o]` inputs from `start[o]` with weights at `weights[o·stride…]`. */
interface Taps {
  start: Int32Array;
  count: Int32Array;
  weights: Float32Array;
  stride: number;
}

const tapsCache = new Map<string, Taps>();

/** Per-output-pixel taps of a 1-D triangle (bilinear) filter, widened by the scale when shrinking (antialiasing). */
function resampleTaps(inSize: number, outSize: number): Taps {
  const key = `${inSize}>${outSize}`;
  const hit = tapsCache.get(key);
  if (hit) return hit;
  if (tapsCache.size > 256) tapsCache.clear();
  const scale = inSize / outSize;
  const radius = Math.max(1, scale);
  const stride = Math.ceil(2 * radius) + 2;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * stride);
  for (let o = 0; o < outSize; o++) {
    const centre = (o + 0.5) * scale;
    const lo = Math.max(0, Math.floor(centre - radius));
    const hi = Math.min(inSize, Math.ceil(centre + radius));
    let sum = 0;
    for (let j = lo; j < hi; j++) sum += weights[o * stride + j - lo] = Math.max(0, 1 - Math.abs(j + 0.5 - centre) / radius);
    if (sum === 0) {
      // a tap-less pixel can only happen at the border: take the nearest input pixel
      weights[o * stride + Math.min(hi - lo - 1, Math.max(0, Math.floor(centre) - lo))] = 1;
      sum = 1;
    }
    for (let j = 0; j < hi - lo; j++) weights[o * stride + j] /= sum;
    start[o] = lo;
    count[o] = hi - lo;
  }
  const taps = { start, count, weights, stride };
  tapsCache.set(key, taps);
  return taps;
}

/**
 * Resize 8-bit HWC pixels with a separable bilinear filter with half-pixel centres, antialiased when
 * shrinking (as PIL's BILINEAR, which torchvision uses). Pure JS, deterministic on every platform.
 */
export function resizePixels(src: Uint8Array, h: number, w: number, c: number, oh: number, ow: number): Uint8Array {
  if (oh === h && ow === w) return src.slice();
  const tx = resampleTaps(w, ow);
  const ty = resampleTaps(h, oh);
  // horizontal pass: h rows × ow columns
  const tmp = new Float32Array(h * ow * c);
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < ow; x++) {
      const o = (y * ow + x) * c;
      const n = tx.count[x];
      const wo = x * tx.stride;
      let si = row + tx.start[x] * c;
      if (c === 3) {
        // RGB unrolled into locals; Math.fround keeps the float32 rounding of `tmp[o + k] +=` bit for bit
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        for (let j = 0; j < n; j++, si += 3) {
          const wt = tx.weights[wo + j];
          a0 = Math.fround(a0 + wt * src[si]);
          a1 = Math.fround(a1 + wt * src[si + 1]);
          a2 = Math.fround(a2 + wt * src[si + 2]);
        }
        tmp[o] = a0;
        tmp[o + 1] = a1;
        tmp[o + 2] = a2;
        continue;
      }
      for (let j = 0; j < n; j++, si += c) {
        const wt = tx.weights[wo + j];
        for (let k = 0; k < c; k++) tmp[o + k] += wt * src[si + k];
      }
    }
  }
  // vertical pass: whole rows at a time
  const acc = new Float32Array(ow * c);
  const out = new Uint8Array(oh * ow * c);
  const rowLen = ow * c;
  for (let y = 0; y < oh; y++) {
    const n = ty.count[y];
    const wo = y * ty.stride;
    const to0 = y * rowLen;
    if (n >= 1 && n <= 3) {
      // the common short filters (enlarging, mild shrinking) without the accumulator row; same float32 roundings
      const r0 = ty.start[y] * rowLen;
      const w0 = ty.weights[wo];
      const w1 = n > 1 ? ty.weights[wo + 1] : 0;
      const w2 = n > 2 ? ty.weights[wo + 2] : 0;
      for (let i = 0; i < rowLen; i++) {
        let v = Math.fround(w0 * tmp[r0 + i]);
        if (n > 1) v = Math.fround(v + w1 * tmp[r0 + rowLen + i]);
        if (n > 2) v = Math.fround(v + w2 * tmp[r0 + 2 * rowLen + i]);
        out[to0 + i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
      }
      continue;
    }
    acc.fill(0);
    for (let j = 0; j < n; j++) {
      const wt = ty.weights[wo + j];
      const from = (ty.start[y] + j) * rowLen;
      for (let i = 0; i < rowLen; i++) acc[i] += wt * tmp[from + i];
    }
    const to = y * rowLen;
    for (let i = 0; i < rowLen; i++) {
      const v = acc[i];
      out[to + i] = v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v);
    }
  }
  return out;
}
