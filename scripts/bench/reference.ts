import * as tf from '@tensorflow/tfjs';
import type { BenchRow } from './types';

/** The findings' reference net: conv16-pool-conv32-pool-conv64-GAP-dense(classes), ReLU, 3×3 'same'. */
export function buildReferenceCnn(imageSize: number, numClasses = 2, seed = 0): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: seed + k });
  const conv = (filters: number, k: number, inputShape?: number[]) =>
    tf.layers.conv2d({ filters, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(k), inputShape });
  return tf.sequential({
    name: 'reference_cnn',
    layers: [
      conv(16, 1, [imageSize, imageSize, 3]),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(32, 2),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      conv(64, 3),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dense({ units: numClasses, kernelInitializer: init(4) }),
    ],
  });
}

/** How much work one measurement does. */
export interface BenchBudget {
  /** Images per timed epoch (a multiple of the batch size). */
  images: number;
  /** Untimed warm-up epochs (kernels compile, XNNPACK packs, heap grows). */
  warmup: number;
  /** Timed samples; the median is reported. */
  repeats: number;
  /**
   * Least milliseconds of warm-up and of each sample (epochs are repeated until it is reached; 0 = one epoch). On a
   * 2-core VM one epoch of 256 images at 32 px (≈ 160 ms) varied 14–23 ms per step from one epoch to the next.
   */
  minMs?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/**
 * Measures SGD training (softmax cross-entropy, lr 0.01) and inference throughput of `model` on random
 * data on the active backend, in images per second (the median sample; see BenchBudget).
 */
export async function benchModel(
  model: tf.LayersModel,
  opts: { backend: string; name: string; batchSize: number; budget: BenchBudget; note?: string },
): Promise<BenchRow> {
  const [, h, w, c] = model.inputs[0].shape as number[];
  const numClasses = (model.outputs[0].shape as number[])[1];
  const { images, warmup, repeats } = opts.budget;
  const bs = opts.batchSize;
  const xs = tf.randomNormal([images, h, w, c], 0, 1, 'float32', 1);
  const ys = tf.oneHot(tf.randomUniform([images], 0, numClasses, 'int32', 2) as tf.Tensor1D, numClasses);
  const batches: [tf.Tensor, tf.Tensor][] = [];
  for (let i = 0; i < images; i += bs) batches.push([xs.slice(i, bs), ys.slice(i, bs)]);
  const optimizer = tf.train.sgd(0.01);
  const epoch = async () => {
    for (const [xb, yb] of batches) {
      tf.tidy(() => {
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tf.Tensor) as tf.Scalar);
      });
    }
    await model.getWeights()[0].data(); // wait for the last step
  };
  const infer = async () => {
    const out = model.predict(xs, { batchSize: bs }) as tf.Tensor;
    await out.data();
    out.dispose();
  };
  const minMs = opts.budget.minMs ?? 0;
  const timeIt = async (f: () => Promise<void>) => {
    const w0 = performance.now();
    for (let i = 0; i < warmup || (warmup > 0 && performance.now() - w0 < minMs); i++) await f();
    const rates: number[] = [];
    for (let i = 0; i < repeats; i++) {
      const t = performance.now();
      let epochs = 0;
      do {
        await f();
        epochs++;
      } while (performance.now() - t < minMs);
      rates.push((epochs * images) / ((performance.now() - t) / 1000));
    }
    return median(rates);
  };
  const trainIps = await timeIt(epoch);
  const inferIps = await timeIt(infer);
  for (const [xb, yb] of batches) tf.dispose([xb, yb]);
  tf.dispose([xs, ys]);
  optimizer.dispose();
  return {
    backend: opts.backend,
    model: opts.name,
    imageSize: h,
    batchSize: bs,
    trainImagesPerSec: round(trainIps),
    inferImagesPerSec: round(inferIps),
    note: opts.note,
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}
