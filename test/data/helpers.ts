/** Small image folders generated at test time with sharp (no binary fixtures in git). */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';

/** A fresh temporary folder (removed by the caller with `rmTmp`). */
export function tmpDir(prefix = 'kit-data-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function rmTmp(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true });
}

/** Raw RGB pixels of a w×h image whose colour depends on (seed, x, y): distinct, checkable content. */
export function patternPixels(w: number, h: number, seed: number): Buffer {
  const px = Buffer.alloc(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      px[i] = (seed * 40 + x * 7) % 256;
      px[i + 1] = (seed * 90 + y * 11) % 256;
      px[i + 2] = (x * y + seed * 13) % 256;
    }
  return px;
}

/** Write one image file; the format follows the extension (jpg, png, webp). */
export async function writeImage(file: string, w: number, h: number, seed: number): Promise<void> {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const img = sharp(patternPixels(w, h, seed), { raw: { width: w, height: h, channels: 3 } });
  const ext = path.extname(file).toLowerCase();
  const buf = ext === '.png' ? await img.png().toBuffer() : ext === '.webp' ? await img.webp({ lossless: true }).toBuffer() : await img.jpeg({ quality: 90 }).toBuffer();
  fs.writeFileSync(file, buf);
}

/** `root/<class>/<class>-<i>.<ext>` with `perClass[c]` images per class (sizes vary a little). */
export async function makeImageFolder(root: string, perClass: Record<string, number>, ext = 'jpg'): Promise<void> {
  let seed = 1;
  for (const [cls, n] of Object.entries(perClass)) {
    fs.mkdirSync(path.join(root, cls), { recursive: true });
    for (let i = 0; i < n; i++) await writeImage(path.join(root, cls, `${cls}-${String(i).padStart(3, '0')}.${ext}`), 20 + (i % 3) * 4, 16 + (i % 2) * 4, seed++);
  }
}
