/**
 * The data shapes every part of the kit agrees on. Images are NHWC float32, channels last.
 */
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random';

/** One decoded, transformed image and (when known) its class index. */
export interface Sample {
  /** Pixels, height × width × channels, row-major, float32. */
  image: Float32Array;
  /** [height, width, channels]. */
  shape: [number, number, number];
  /** Class index (label-encoded), absent for unlabelled data. */
  label?: number;
}

/** Anything indexable that yields samples: `ImageDataset` (files) and `ArrayDataset` (in memory). */
export interface Dataset {
  readonly length: number;
  /** The sample at index; `rng` (optional) drives its augmentation, so a loader gets the same draws every run. */
  get(index: number, rng?: Rng): Promise<Sample> | Sample;
  /** Class names when known (labels index into it). */
  readonly classes?: string[];
}

/** A batch as the training loop consumes it. The consumer disposes the tensors. */
export interface Batch {
  /** [batch, height, width, channels] float32. */
  xs: tf.Tensor4D;
  /** [batch] int32 class indices; absent for unlabelled data. */
  ys?: tf.Tensor1D;
}

/** A whole image set in memory (the embedded views): N images, NHWC float32 in [0, 1]. */
export interface ImageArrays {
  images: Float32Array;
  /** Class indices 0..classes.length-1. */
  labels: Int32Array;
  height: number;
  width: number;
  channels: number;
  /** Class names; labels index into this. */
  classes: string[];
}
