/**
 * Image transforms composable like albumentations: `compose([resize(32, 32), horizontalFlip(), normalize()])`.
 * A transform maps a `RawImage` (uint8 0–255 after decoding, or float32 in [0, 1]) to a new one, drawing any
 * randomness from the seeded `Rng` it is handed, so a seeded dataset augments identically run after run. The core
 * steps are in transform-core.ts, the augmentations in augment.ts; this module gathers them and rebuilds a transform
 * from its spec (the DataLoader's worker threads do).
 */
import { blur, colorJitter, gaussNoise, horizontalFlip, randomResizedCrop, rotate, verticalFlip } from './augment';
import { compose, normalize, resize, toTensor, type Transform, type TransformSpec } from './transform-core';

export { compose, resize, normalize, toTensor, IMAGENET_MEAN, IMAGENET_STD } from './transform-core';
export type { Transform, TransformSpec, ProbabilityOption, NormalizeOptions } from './transform-core';
export { horizontalFlip, verticalFlip, rotate, rotateBy, randomResizedCrop, randomCropBox, colorJitter, gaussNoise, blur } from './augment';
export type { RandomResizedCropOptions, ColorJitterOptions, GaussNoiseOptions, BlurOptions } from './augment';

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
