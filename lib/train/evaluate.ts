/** Loss, accuracy and predictions of a trained model on the same kinds of data `train` reads (inference mode). */
import * as tf from '@tensorflow/tfjs';
import { pausePoint } from '../interrupt';
import { onePass, type TrainData } from './batches';
import { outputsProbabilities, sparseCrossEntropy, unwrapModel, type Trainable } from './model';

/** Result of `evaluate`. */
export interface EvalResult {
  loss: number;
  accuracy: number;
  /** Images evaluated. */
  n: number;
}

/** Mean loss and accuracy of `forward` over one unshuffled pass of `data`. */
export async function evaluateWith(
  forward: (xs: tf.Tensor4D) => tf.Tensor,
  fromProbabilities: boolean,
  data: TrainData,
  batchSize: number,
): Promise<EvalResult> {
  let lossSum = 0;
  let correct = 0;
  let n = 0;
  for await (const batch of onePass(data, { batchSize, shuffle: false, seed: 0, pass: 0 })) {
    if (!batch.ys) {
      tf.dispose(batch.xs);
      throw new Error('evaluate: a batch has no labels (ys); expected int32 class indices');
    }
    const ys = batch.ys;
    const [loss, right] = tf.tidy(() => {
      const out = forward(batch.xs);
      return [sparseCrossEntropy(out, ys, fromProbabilities), tf.sum(tf.equal(tf.argMax(out, -1), ys.toInt()))];
    });
    const size = batch.xs.shape[0];
    lossSum += (await loss.data())[0] * size;
    correct += (await right.data())[0];
    n += size;
    tf.dispose([loss, right, batch.xs, ys]);
    await pausePoint();
  }
  if (n === 0) throw new Error('evaluate: the data yielded no images');
  return { loss: lossSum / n, accuracy: correct / n, n };
}

/** Loss and accuracy of a model on labelled data (inference mode). */
export async function evaluate(model: Trainable, data: TrainData, opts: { batchSize?: number } = {}): Promise<EvalResult> {
  const m = unwrapModel(model);
  return evaluateWith((xs) => m.apply(xs, { training: false }) as tf.Tensor, outputsProbabilities(m), data, opts.batchSize ?? 64);
}

/** Predicted class ids (argmax) for every image of `data`, in order; with `probabilities`, also the class probabilities. */
export async function predict(model: Trainable, data: TrainData, opts?: { batchSize?: number; probabilities?: false }): Promise<Int32Array>;
export async function predict(
  model: Trainable,
  data: TrainData,
  opts: { batchSize?: number; probabilities: true },
): Promise<{ classes: Int32Array; probabilities: Float32Array; numClasses: number }>;
export async function predict(
  model: Trainable,
  data: TrainData,
  opts: { batchSize?: number; probabilities?: boolean } = {},
): Promise<Int32Array | { classes: Int32Array; probabilities: Float32Array; numClasses: number }> {
  const m = unwrapModel(model);
  const fromProbabilities = outputsProbabilities(m);
  const classes: number[] = [];
  const probs: Float32Array[] = [];
  let numClasses = 0;
  for await (const batch of onePass(data, { batchSize: opts.batchSize ?? 64, shuffle: false, seed: 0, pass: 0 })) {
    const [ids, p] = tf.tidy(() => {
      const out = m.apply(batch.xs, { training: false }) as tf.Tensor2D;
      const pr = fromProbabilities ? out : tf.softmax(out);
      return [tf.argMax(out, -1), opts.probabilities ? pr : null];
    });
    classes.push(...(await ids.data()));
    if (p) {
      numClasses = p.shape[1] as number;
      probs.push((await p.data()) as Float32Array);
    }
    tf.dispose([ids, p ?? [], batch.xs, batch.ys ?? []]);
    await pausePoint();
  }
  const out = Int32Array.from(classes);
  if (!opts.probabilities) return out;
  return { classes: out, probabilities: concatFloat32(probs), numClasses };
}

/** One Float32Array holding the chunks in order. */
export function concatFloat32(chunks: Float32Array[]): Float32Array {
  const flat = new Float32Array(chunks.reduce((s, c) => s + c.length, 0));
  let off = 0;
  for (const c of chunks) {
    flat.set(c, off);
    off += c.length;
  }
  return flat;
}
