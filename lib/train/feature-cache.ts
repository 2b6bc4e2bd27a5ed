/**
 * Frozen features computed once. A fully frozen base (freeze, additional layers, a linear probe) maps an image to
 * the same feature vector in every run — every seed and learning rate of an experiment — so the experiments run
 * the base once per image and train only the head on the stored vectors: the same batches and the same numbers as
 * training through the frozen base (tested), at a fraction of the cost.
 */
import * as tf from '@tensorflow/tfjs';
import type { ImageArrays } from '../data/types';
import type { TransferModel } from '../models/transfer';
import { takeRows } from './batches';

/** Feature vectors of the rows of one ImageArrays under one frozen base, computed on first request. */
export class FeatureCache {
  private values: Float32Array | null = null;
  private dim = 0;
  private readonly done: Uint8Array;

  constructor(readonly arrays: ImageArrays, private readonly batchSize = 256) {
    this.done = new Uint8Array(arrays.labels.length);
  }

  /** The features of `rows` (all rows when omitted) as 1×1×dim "images" with their labels, computing missing ones with `base`. */
  take(base: tf.LayersModel, rows?: readonly number[]): ImageArrays {
    const want = rows ?? Array.from(this.arrays.labels, (_, i) => i);
    const missing = [...new Set(want.filter((r) => !this.done[r]))];
    for (let start = 0; start < missing.length; start += this.batchSize) this.compute(base, missing.slice(start, start + this.batchSize));
    const dim = this.dim || (base.outputs[0].shape[1] as number);
    const images = new Float32Array(want.length * dim);
    want.forEach((r, k) => images.set(this.values!.subarray(r * dim, (r + 1) * dim), k * dim));
    const labels = Int32Array.from(want, (r) => this.arrays.labels[r]);
    return { images, labels, height: 1, width: 1, channels: dim, classes: this.arrays.classes };
  }

  private compute(base: tf.LayersModel, rows: number[]): void {
    const part = takeRows(this.arrays, rows);
    const feats = tf.tidy(() => {
      const x = tf.tensor4d(part.images, [rows.length, part.height, part.width, part.channels]);
      return base.predict(x) as tf.Tensor2D;
    });
    const data = feats.dataSync() as Float32Array;
    const dim = feats.shape[1];
    feats.dispose();
    if (!this.values) {
      this.dim = dim;
      this.values = new Float32Array(this.arrays.labels.length * dim);
    } else if (dim !== this.dim) {
      throw new Error(`FeatureCache: the base gives ${dim} features, the cache holds ${this.dim}; one cache serves one base`);
    }
    rows.forEach((r, k) => {
      this.values!.set(data.subarray(k * dim, (k + 1) * dim), r * dim);
      this.done[r] = 1;
    });
  }
}

/**
 * The head of a transfer model as a model over cached features (1×1×dim inputs): it shares the head's weights, so
 * training it trains `tm.head` (and `tm.model`). Not disposed on its own: `tm.dispose()` frees the weights.
 */
export function headOnFeatures(tm: TransferModel): tf.LayersModel {
  const dim = tm.head.inputs[0].shape[1] as number;
  const input = tf.input({ shape: [1, 1, dim], name: 'cached_features' });
  const flat = tf.layers.reshape({ targetShape: [dim], name: 'cached_flatten' }).apply(input) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: tm.head.apply(flat) as tf.SymbolicTensor, name: `${tm.model.name}_on_features` });
}
