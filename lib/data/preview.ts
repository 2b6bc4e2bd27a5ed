/** A look at what an augmentation pipeline does, before training on it. */
import { Rng } from '../random';
import { showImageGrid } from '../display/images';
import { decodeImage, floatPixels } from './image';
import type { Transform } from './transforms';
import type { Dataset } from './types';

/** One image ready for `showImageGrid` (lib/display): float32 HWC and its shape. */
export interface PreviewImage {
  data: Float32Array;
  shape: [number, number, number];
}

/**
 * `n` augmented versions of the first image (`index` to choose another) from file paths or a dataset,
 * each drawn with its own seeded rng: the same seed gives the same previews. Float values are as the
 * transform leaves them (preview before `normalize` to see [0, 1] pixels).
 */
export async function previewAugmentations(
  source: readonly string[] | Dataset,
  transform: Transform | undefined,
  opts: { n?: number; seed?: number; index?: number } = {},
): Promise<PreviewImage[]> {
  const { n = 8, seed = 0, index = 0 } = opts;
  const out: PreviewImage[] = [];
  for (let k = 0; k < n; k++) {
    const rng = new Rng(`${seed}/preview/${k}`);
    if (Array.isArray(source)) {
      if (index >= source.length) throw new Error(`previewAugmentations: index ${index} but only ${source.length} paths`);
      let img = await decodeImage(source[index]);
      if (transform) img = await transform(img, rng);
      const data = floatPixels(img.data);
      out.push({ data, shape: [img.height, img.width, img.channels] });
    } else {
      const ds = source as Dataset;
      const s = await ds.get(index, rng);
      if (!transform) out.push({ data: s.image, shape: s.shape });
      else {
        // the dataset's own transform first, then this one (on float pixels in [0, 1])
        const img = await transform({ data: s.image, height: s.shape[0], width: s.shape[1], channels: s.shape[2] }, rng);
        const data = floatPixels(img.data);
        out.push({ data, shape: [img.height, img.width, img.channels] });
      }
    }
  }
  return out;
}

/** `n` augmented versions of one image (see previewAugmentations), shown as an image grid; returns the previews. */
export async function showAugmentations(
  source: readonly string[] | Dataset,
  transform: Transform | undefined,
  opts: { n?: number; seed?: number; index?: number; cols?: number } = {},
): Promise<PreviewImage[]> {
  const images = await previewAugmentations(source, transform, opts);
  await showImageGrid(images, { cols: opts.cols });
  return images;
}
