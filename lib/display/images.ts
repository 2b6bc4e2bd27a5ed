/**
 * A grid of images as one PNG (encoded with sharp): grey or RGB, titles, red borders for highlighted tiles.
 */
import sharp from 'sharp';
import { MimeBundle, escapeHtml, getDisplayChannel } from './channel';

/** One image: row-major pixels, values in [0, 1] (Float32Array) or 0–255 (Uint8Array), 1, 3 or 4 channels. */
export interface GridImage {
  data: Float32Array | Uint8Array;
  shape: [number, number, number];
}

export interface ImageGridOptions {
  /** images per row (default: min(count, 8)) */
  cols?: number;
  /** a title above each tile */
  titles?: string[];
  /** integer upscaling, nearest neighbour (default: so the larger side is about 96 px) */
  scale?: number;
  /** tiles drawn with a red border (e.g. mistakes) */
  highlight?: boolean[];
}

const PAD = 4;
const BORDER = 3;
const TITLE_H = 16;
const RED = [220, 30, 30];

/** The grid's geometry for images of shape [h, w] at a scale. */
export function gridLayout(count: number, h: number, w: number, opts: ImageGridOptions = {}) {
  const scale = Math.max(1, Math.floor(opts.scale ?? Math.max(1, Math.round(96 / Math.max(h, w)))));
  const cols = Math.max(1, Math.min(count, Math.floor(opts.cols ?? 8)));
  const rows = Math.ceil(count / cols);
  const titleH = opts.titles?.length ? TITLE_H : 0;
  const cellW = w * scale + 2 * (BORDER + PAD);
  const cellH = h * scale + 2 * (BORDER + PAD) + titleH;
  return { scale, cols, rows, titleH, cellW, cellH, width: cols * cellW, height: rows * cellH };
}

/** Render the grid as raw RGB pixels plus an SVG overlay of the titles. */
export function renderGrid(images: GridImage[], opts: ImageGridOptions = {}): { rgb: Buffer; width: number; height: number; svg: string | null } {
  if (images.length === 0) throw new Error('showImageGrid: no images');
  const [h, w] = images[0].shape;
  images.forEach((im, i) => {
    const [ih, iw, c] = im.shape;
    if (ih !== h || iw !== w) throw new Error(`showImageGrid: image ${i} has shape [${im.shape}], expected [${h}, ${w}, c] like image 0`);
    if (![1, 3, 4].includes(c)) throw new Error(`showImageGrid: image ${i} has ${c} channels, expected 1, 3 or 4`);
    if (im.data.length !== ih * iw * c) throw new Error(`showImageGrid: image ${i} has ${im.data.length} values, expected ${ih}×${iw}×${c} = ${ih * iw * c}`);
  });
  const L = gridLayout(images.length, h, w, opts);
  const rgb = Buffer.alloc(L.width * L.height * 3, 255);
  const put = (x: number, y: number, r: number, g: number, b: number) => {
    const o = (y * L.width + x) * 3;
    rgb[o] = r; rgb[o + 1] = g; rgb[o + 2] = b;
  };
  images.forEach((im, i) => {
    const x0 = (i % L.cols) * L.cellW;
    const y0 = Math.floor(i / L.cols) * L.cellH + L.titleH;
    if (opts.highlight?.[i]) {
      for (let y = PAD; y < L.cellH - L.titleH - PAD; y++) {
        for (let x = PAD; x < L.cellW - PAD; x++) {
          const inner = x >= PAD + BORDER && x < L.cellW - PAD - BORDER && y >= PAD + BORDER && y < L.cellH - L.titleH - PAD - BORDER;
          if (!inner) put(x0 + x, y0 + y, RED[0], RED[1], RED[2]);
        }
      }
    }
    const c = im.shape[2];
    const toByte = im.data instanceof Float32Array ? (v: number) => Math.round(Math.min(1, Math.max(0, v)) * 255) : (v: number) => v;
    for (let y = 0; y < h * L.scale; y++) {
      for (let x = 0; x < w * L.scale; x++) {
        const p = (Math.floor(y / L.scale) * w + Math.floor(x / L.scale)) * c;
        const r = toByte(im.data[p]);
        const g = c === 1 ? r : toByte(im.data[p + 1]);
        const b = c === 1 ? r : toByte(im.data[p + 2]);
        put(x0 + PAD + BORDER + x, y0 + PAD + BORDER + y, r, g, b);
      }
    }
  });
  let svg: string | null = null;
  if (opts.titles?.length) {
    const texts = opts.titles.slice(0, images.length).map((t, i) => {
      const cx = (i % L.cols) * L.cellW + L.cellW / 2;
      const cy = Math.floor(i / L.cols) * L.cellH + L.titleH - 3;
      const fill = opts.highlight?.[i] ? 'rgb(200,20,20)' : '#222';
      return `<text x="${cx}" y="${cy}" text-anchor="middle" font-family="DejaVu Sans, Arial, sans-serif" font-size="11" fill="${fill}">${escapeHtml(t)}</text>`;
    });
    svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${L.width}" height="${L.height}">${texts.join('')}</svg>`;
  }
  return { rgb, width: L.width, height: L.height, svg };
}

/** Encode an image grid as PNG bytes. */
export async function imageGridPng(images: GridImage[], opts: ImageGridOptions = {}): Promise<Buffer> {
  const { rgb, width, height, svg } = renderGrid(images, opts);
  let img = sharp(rgb, { raw: { width, height, channels: 3 } });
  if (svg) img = img.composite([{ input: Buffer.from(svg), top: 0, left: 0 }]);
  return img.png().toBuffer();
}

/** The MIME bundle of an image grid: image/png (base64) and text/plain. */
export async function imageGridBundle(images: GridImage[], opts: ImageGridOptions = {}): Promise<MimeBundle> {
  const png = await imageGridPng(images, opts);
  const marked = opts.highlight?.filter(Boolean).length ?? 0;
  return {
    'image/png': png.toString('base64'),
    'text/plain': `<image grid: ${images.length} images of [${images[0].shape}]${marked ? `, ${marked} highlighted` : ''}>`,
  };
}

/** Show images in a grid (await it: PNG encoding is asynchronous). */
export async function showImageGrid(images: GridImage[], opts: ImageGridOptions = {}): Promise<void> {
  getDisplayChannel().display(await imageGridBundle(images, opts));
}
