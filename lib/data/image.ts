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
  /** Output channels: 3 (RGB, default) or 1 (grey, ITU-R BT.709 luma as libvips computes it). */
  channels?: 1 | 3;
  /** Resize to [height, width] in the same sharp pipeline (bilinear, aspect ratio not kept, like cv2.resize). */
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
      input = await fs.promises.readFile(source);
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
    img = img.toColourspace(channels === 1 ? 'b-w' : 'srgb');
    if (opts.size) img = img.resize(opts.size[1], opts.size[0], { fit: 'fill', kernel: 'linear' });
    const { data, info } = await img.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== channels) {
      throw new Error(`decoded ${info.channels} channels where ${channels} were asked`);
    }
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), height: info.height, width: info.width, channels };
  } catch (err) {
    const msg = (err as Error).message.split('\n')[0];
    throw new Error(
      `Cannot decode image ${describe(source)}: ${msg}. ` +
        'The file is not a readable JPEG/PNG/WebP/GIF/TIFF image or is truncated; replace it, delete it, ' +
        "or pass { onBadImage: 'skip' } to skip bad files with a warning.",
    );
  }
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
