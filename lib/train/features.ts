/** Features computed once: a frozen base runs over the data a single time and the head trains on its outputs. */
import * as tf from '@tensorflow/tfjs';
import type { ImageArrays } from '../data/types';
import { pausePoint } from '../interrupt';
import { isImageArrays, onePass, type TrainData } from './batches';
import { concatFloat32 } from './evaluate';

/**
 * Feature vectors of every image of `data` by the frozen `base`, as 1×1×dim "images" so the same batching code
 * serves (the head's forward pass reshapes them to [n, dim]).
 */
export async function cacheFeatures(base: tf.LayersModel, data: TrainData, batchSize: number, seed: number): Promise<ImageArrays> {
  const chunks: Float32Array[] = [];
  const labels: number[] = [];
  let dim = 0;
  for await (const batch of onePass(data, { batchSize, shuffle: false, seed, pass: 0 })) {
    const feats = tf.tidy(() => base.predict(batch.xs) as tf.Tensor2D);
    dim = feats.shape[1];
    chunks.push((await feats.data()) as Float32Array);
    if (!batch.ys) throw new Error('train: a training batch has no labels (ys); expected int32 class indices');
    labels.push(...(await batch.ys.data()));
    tf.dispose([feats, batch.xs, batch.ys]);
    await pausePoint();
  }
  return { images: concatFloat32(chunks), labels: Int32Array.from(labels), height: 1, width: 1, channels: dim, classes: isImageArrays(data) ? data.classes : [] };
}
