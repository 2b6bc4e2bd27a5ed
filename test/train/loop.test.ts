// The training loop against tfjs's own model.fit / model.evaluate, plus its promises: per-group learning
// rates, frozen weights, reproducibility, no tensor leak, best-checkpoint restore, step budgets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { ImageArrays } from '../../lib/data/types';
import { Rng } from '../../lib/random';
import { evaluate, predict } from '../../lib/train/evaluate';
import { train } from '../../lib/train/loop';
import type { TransferModelLike } from '../../lib/train/model';
import { learningRateAt } from '../../lib/train/schedule';
import { InterruptedError, lastInterrupt, requestInterrupt } from '../../lib/interrupt';

/** Two classes of 6×6×1 images: a bright blob on the left or on the right half, plus noise. */
function blobs(n: number, seed: number): ImageArrays {
  const rng = new Rng(seed);
  const size = 6;
  const images = new Float32Array(n * size * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    labels[i] = label;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const inside = label === 0 ? x < 3 : x >= 3;
        images[i * size * size + y * size + x] = (inside ? 0.6 : 0.1) + 0.3 * rng.next();
      }
    }
  }
  return { images, labels, height: size, width: size, channels: 1, classes: ['left', 'right'] };
}

function tinyNet(seed: number): tf.LayersModel {
  const input = tf.input({ shape: [6, 6, 1] });
  let x = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed }), name: 'conv' }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.flatten().apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: seed + 1 }), name: 'out' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

function weightsOf(model: tf.LayersModel): Float32Array[] {
  return model.getWeights().map((w) => w.dataSync() as Float32Array);
}

function maxAbsDiff(a: Float32Array[], b: Float32Array[]): number {
  let m = 0;
  a.forEach((arr, i) => arr.forEach((v, j) => (m = Math.max(m, Math.abs(v - b[i][j])))));
  return m;
}

test('one SGD epoch equals tfjs model.fit with sparseCategoricalCrossentropy (same weights after)', async () => {
  const data = blobs(24, 1);
  const ours = tinyNet(7);
  const ref = tinyNet(7);
  assert.equal(maxAbsDiff(weightsOf(ours), weightsOf(ref)), 0);
  await train(ours, data, { epochs: 2, lr: 0.1, optimizer: 'sgd', batchSize: 8, shuffle: false, seed: 0, progress: false });
  ref.compile({ optimizer: tf.train.sgd(0.1), loss: 'sparseCategoricalCrossentropy' });
  const xs = tf.tensor4d(data.images, [24, 6, 6, 1]);
  const ys = tf.tensor1d(Array.from(data.labels), 'float32');
  await ref.fit(xs, ys, { epochs: 2, batchSize: 8, shuffle: false, verbose: 0 });
  assert.ok(maxAbsDiff(weightsOf(ours), weightsOf(ref)) < 1e-5, 'weights differ from model.fit');
  // evaluate() against tfjs's model.evaluate
  const refLoss = ref.evaluate(xs, ys, { batchSize: 5 }) as tf.Scalar;
  const mine = await evaluate(ref, data, { batchSize: 5 });
  assert.ok(Math.abs(mine.loss - (await refLoss.data())[0]) < 1e-5, `evaluate ${mine.loss} vs model.evaluate`);
  tf.dispose([xs, ys, refLoss]);
  ours.dispose();
  ref.dispose();
});

test('it learns; predict returns class ids and probabilities', async () => {
  const model = tinyNet(3);
  const h = await train(model, blobs(64, 2), { epochs: 8, lr: 0.01, seed: 1, progress: false, valData: blobs(32, 3) });
  assert.equal(h.epochs.length, 8);
  assert.ok(h.history.loss[7] < h.history.loss[0], `loss ${h.history.loss}`);
  assert.ok(h.history.val_accuracy[7] >= 0.9, `val accuracy ${h.history.val_accuracy}`);
  for (const e of h.epochs) assert.ok(e.imagesPerSec > 0 && e.seconds > 0 && e.lr === 0.01);
  const test = blobs(20, 4);
  const ids = await predict(model, test, { batchSize: 6 });
  assert.equal(ids.length, 20);
  const { classes, probabilities, numClasses } = await predict(model, test, { probabilities: true });
  assert.deepEqual(Array.from(classes), Array.from(ids));
  assert.equal(numClasses, 2);
  for (let i = 0; i < 20; i++) assert.ok(Math.abs(probabilities[2 * i] + probabilities[2 * i + 1] - 1) < 1e-5);
  const acc = ids.reduce((s, c, i) => s + (c === test.labels[i] ? 1 : 0), 0) / 20;
  assert.equal(acc, (await evaluate(model, test)).accuracy);
  model.dispose();
});

test('same seed, same numbers; another seed, another shuffle', async () => {
  const run = async (seed: number) => {
    const m = tinyNet(11);
    const h = await train(m, blobs(40, 5), { epochs: 3, lr: 0.01, seed, batchSize: 8, progress: false });
    m.dispose();
    return h.history.loss;
  };
  const a = await run(1);
  assert.deepEqual(await run(1), a);
  assert.notDeepEqual(await run(2), a);
});

test('no tensor leak: the tensor count stays flat epoch over epoch and returns to its start', async () => {
  const model = tinyNet(5);
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  await train(model, blobs(40, 6), {
    epochs: 5,
    lr: 0.01,
    seed: 1,
    batchSize: 16,
    progress: false,
    valData: blobs(20, 7),
    earlyStopping: { patience: 10, monitor: 'val_accuracy' },
    callbacks: { onEpochEnd: () => void counts.push(tf.memory().numTensors) },
  });
  // Epoch 1 ends before the first best-checkpoint copy is taken; from then on the count must not move.
  assert.ok(counts.slice(2).every((c) => c === counts[1]), `tensors per epoch ${counts}`);
  assert.equal(tf.memory().numTensors, before);
  model.dispose();
});

/** A hand-made TransferModel: dense base (2 → 3) and dense head (3 → 2). */
function handTransfer(baseLrScale: number, frozenBase = false): TransferModelLike & { baseLayer: tf.layers.Layer; headLayer: tf.layers.Layer } {
  const input = tf.input({ shape: [6, 6, 1] });
  const flat = tf.layers.flatten().apply(input) as tf.SymbolicTensor;
  const baseLayer = tf.layers.dense({ units: 3, activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }), biasInitializer: 'ones' });
  const headLayer = tf.layers.dense({ units: 2, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) });
  const feats = baseLayer.apply(flat) as tf.SymbolicTensor;
  const model = tf.model({ inputs: input, outputs: headLayer.apply(feats) as tf.SymbolicTensor });
  if (frozenBase) baseLayer.trainable = false;
  return {
    model,
    baseLayer,
    headLayer,
    paramGroups: [
      { name: 'base', variables: baseLayer.weights, lrScale: baseLrScale },
      { name: 'head', variables: headLayer.weights, lrScale: 1 },
    ],
  };
}

test('one optimizer per group: under Adam the base moves lrScale times as far as the head', async () => {
  // Adam's first step moves every weight by ≈ lr (its update is m̂/√v̂ ≈ sign(g)), whatever the gradient's
  // scale: scaling gradients would leave the step unchanged; a second optimizer with lr × 0.1 does not.
  const tm = handTransfer(0.1);
  const b0 = tm.baseLayer.getWeights()[0].dataSync().slice();
  const h0 = tm.headLayer.getWeights()[0].dataSync().slice();
  await train(tm, blobs(16, 8), { epochs: 1, lr: 0.01, batchSize: 16, seed: 0, progress: false });
  const stepOf = (before: Float32Array, after: Float32Array) => Math.max(...Array.from(after, (v, i) => Math.abs(v - before[i])));
  const baseStep = stepOf(b0 as Float32Array, tm.baseLayer.getWeights()[0].dataSync() as Float32Array);
  const headStep = stepOf(h0 as Float32Array, tm.headLayer.getWeights()[0].dataSync() as Float32Array);
  assert.ok(Math.abs(headStep - 0.01) < 1e-4, `head step ${headStep}`);
  assert.ok(Math.abs(baseStep - 0.001) < 1e-5, `base step ${baseStep}`);
  tm.model.dispose();
});

test('frozen weights never change', async () => {
  const tm = handTransfer(1, true);
  const frozen = tm.baseLayer.getWeights().map((w) => w.dataSync().slice());
  const head = tm.headLayer.getWeights()[0].dataSync().slice();
  await train(tm, blobs(32, 9), { epochs: 2, lr: 0.05, batchSize: 8, seed: 0, progress: false });
  tm.baseLayer.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), frozen[i]));
  assert.notDeepEqual(tm.headLayer.getWeights()[0].dataSync(), head);
  tm.model.dispose();
});

test('best checkpoint: after training the model holds the weights of the best validation epoch', async () => {
  const model = tinyNet(13);
  // Validation labels unrelated to the images: its loss wanders, so the best epoch is rarely the last.
  const val = blobs(20, 10);
  val.labels = Int32Array.from(val.labels, (_, i) => ((i * 7) % 3) % 2);
  const h = await train(model, blobs(40, 11), {
    epochs: 6,
    lr: 0.05,
    seed: 2,
    batchSize: 8,
    progress: false,
    valData: val,
    earlyStopping: { patience: 6, monitor: 'val_loss' },
  });
  const best = Math.min(...h.history.val_loss);
  assert.equal(h.history.val_loss[(h.bestEpoch as number) - 1], best);
  assert.ok(Math.abs((await evaluate(model, val)).loss - best) < 1e-6);
  model.dispose();
});

test('early stopping stops after `patience` epochs without improvement', async () => {
  const model = tinyNet(17);
  const h = await train(model, blobs(16, 12), {
    epochs: 30,
    lr: 1e-9, // nothing improves after the first epoch
    seed: 0,
    progress: false,
    valData: blobs(8, 13),
    earlyStopping: { patience: 2, monitor: 'val_accuracy' },
  });
  assert.ok(h.stoppedEarly);
  assert.ok(h.epochs.length <= 3 + 2, `ran ${h.epochs.length} epochs`);
  model.dispose();
});

test('a step budget: exactly `steps` updates, reported in `rounds` rounds, across passes', async () => {
  const model = tinyNet(19);
  let batches = 0;
  const h = await train(model, blobs(20, 14), {
    steps: 7,
    rounds: 3,
    lr: 0.01,
    batchSize: 8, // 3 batches per pass: 7 steps cross two pass boundaries
    seed: 0,
    progress: false,
    callbacks: { onBatchEnd: () => void batches++ },
  });
  assert.equal(h.steps, 7);
  assert.equal(batches, 7);
  assert.deepEqual(h.epochs.map((e) => e.steps), [3, 6, 7]);
  model.dispose();
});

test('schedules and per-step learning rate', async () => {
  assert.equal(learningRateAt('cosine', 1, 0), 1);
  assert.ok(Math.abs(learningRateAt('cosine', 1, 0.5) - 0.5) < 1e-12);
  assert.ok(learningRateAt('cosine', 1, 1) < 1e-12);
  assert.deepEqual([0, 0.49, 0.5, 0.74, 0.75].map((p) => learningRateAt('step', 1, p)), [1, 1, 0.1, 0.1, 0.1 * 0.1]);
  const model = tinyNet(23);
  const lrs: number[] = [];
  await train(model, blobs(16, 15), {
    epochs: 2,
    lr: 0.1,
    schedule: 'cosine',
    batchSize: 4,
    seed: 0,
    progress: false,
    callbacks: { onBatchEnd: (_s, logs) => void lrs.push(logs.lr) },
  });
  assert.equal(lrs.length, 8);
  lrs.forEach((lr, i) => assert.ok(Math.abs(lr - 0.1 * 0.5 * (1 + Math.cos((Math.PI * i) / 8))) < 1e-12));
  model.dispose();
});

test('an array of batches can be trained on for several epochs and stays the caller’s', async () => {
  const model = tinyNet(37);
  const data = blobs(16, 19);
  const batches = [0, 8].map((start) => ({
    xs: tf.tensor4d(data.images.subarray(start * 36, (start + 8) * 36), [8, 6, 6, 1]),
    ys: tf.tensor1d(data.labels.subarray(start, start + 8), 'int32'),
  }));
  const h = await train(model, batches, { epochs: 3, lr: 0.01, seed: 0, progress: false });
  assert.equal(h.steps, 6);
  assert.ok(batches.every((b) => !b.xs.isDisposed && !b.ys.isDisposed));
  tf.dispose(batches.flatMap((b) => [b.xs, b.ys]));
  model.dispose();
});

test('errors say what is wrong', async () => {
  const model = tinyNet(29);
  await assert.rejects(train(model, blobs(4, 1), { epochs: 0, lr: 0.1, seed: 0 }), /epochs must be a positive integer/);
  await assert.rejects(train(model, blobs(4, 1), { epochs: 1, lr: 0.1, seed: 0, earlyStopping: { patience: 1, monitor: 'val_loss' } }), /no valData/);
  const bad = blobs(4, 1);
  bad.images = bad.images.subarray(1);
  await assert.rejects(train(model, bad, { epochs: 1, lr: 0.1, seed: 0, progress: false }), /pixel values for 4 labels/);
  const once = (function* () {
    yield { xs: tf.zeros([2, 6, 6, 1]) as tf.Tensor4D, ys: tf.tensor1d([0, 1], 'int32') };
  })();
  await assert.rejects(train(model, once, { epochs: 2, lr: 0.1, seed: 0, progress: false }), /one-shot iterator/);
  model.dispose();
});

test('a DataLoader trains like the same images in memory (same seed, same shuffles) and leaks nothing mid-pass', async () => {
  const { ArrayDataset, DataLoader } = await import('../../lib/data');
  const data = blobs(30, 16);
  const fromArrays = tinyNet(31);
  const fromLoader = tinyNet(31);
  const a = await train(fromArrays, data, { epochs: 2, lr: 0.01, batchSize: 8, seed: 5, progress: false });
  const loader = new DataLoader(new ArrayDataset(data), { batchSize: 8, shuffle: true, seed: 5 });
  const b = await train(fromLoader, loader, { epochs: 2, lr: 0.01, seed: 5, progress: false });
  assert.deepEqual(b.history.loss, a.history.loss);
  // A step budget that stops in the middle of a pass: the loader's prefetched batches must not leak.
  const before = tf.memory().numTensors;
  await train(fromLoader, new DataLoader(new ArrayDataset(data), { batchSize: 4, shuffle: true, seed: 1, prefetch: 2 }), {
    steps: 3,
    lr: 0.01,
    seed: 0,
    progress: false,
  });
  assert.equal(tf.memory().numTensors, before);
  fromArrays.dispose();
  fromLoader.dispose();
});

test("'additional-layers' (cached features) trains only the head and agrees with the full model", async () => {
  const { buildPlainCnn, buildTransferModel } = await import('../../lib/models');
  const source = buildPlainCnn({ inputShape: [6, 6, 1], numClasses: 3, filters: [4, 8], seed: 3 });
  const tm = buildTransferModel(source, { strategy: 'additional-layers', numClasses: 2, seed: 4 });
  assert.equal(tm.cacheFeatures, true);
  const baseBefore = tm.base.getWeights().map((w) => w.dataSync().slice());
  const headBefore = tm.head.getWeights()[0].dataSync().slice();
  const val = blobs(16, 18);
  const h = await train(tm, blobs(32, 17), { epochs: 3, lr: 0.05, batchSize: 8, seed: 0, progress: false, valData: val });
  tm.base.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), baseBefore[i]));
  assert.notDeepEqual(tm.head.getWeights()[0].dataSync(), headBefore);
  const full = await evaluate(tm, val);
  assert.ok(Math.abs(full.loss - h.history.val_loss[2]) < 1e-5, `full model ${full.loss} vs cached ${h.history.val_loss[2]}`);
  source.dispose();
  tm.model.dispose();
});

test('epochs and steps do not mix; rounds need steps', async () => {
  const model = tinyNet(41);
  await assert.rejects(train(model, blobs(8, 1), { epochs: 2, steps: 3, lr: 0.1, seed: 0, progress: false }), /either epochs .* or steps/);
  await assert.rejects(train(model, blobs(8, 1), { epochs: 2, rounds: 2, lr: 0.1, seed: 0, progress: false }), /rounds \(2\) needs steps/);
  await assert.rejects(train(model, blobs(8, 1), { lr: 0.1, seed: 0, progress: false }), /epochs must be a positive integer/);
  model.dispose();
});

test('an interrupt between steps stops train with the history so far, and leaks nothing', async () => {
  const model = tinyNet(43);
  const before = tf.memory().numTensors;
  let err: unknown;
  try {
    await train(model, blobs(32, 2), {
      epochs: 5,
      lr: 0.01,
      batchSize: 8,
      seed: 0,
      progress: false,
      callbacks: { onBatchEnd: (step) => void (step === 6 && requestInterrupt()) },
    });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof InterruptedError, String(err));
  assert.match((err as Error).message, /stopped by interrupt: kit\.train after epoch 2 of 5, step 6/);
  const partial = (err as InstanceType<typeof InterruptedError>).partial as { epochs: unknown[] };
  assert.equal(partial.epochs.length, 1); // epoch 1 finished, epoch 2 stopped after its second step
  assert.equal(lastInterrupt()?.partial, partial);
  assert.equal(tf.memory().numTensors, before);
  // the next call trains normally
  const h = await train(model, blobs(8, 3), { epochs: 1, lr: 0.01, batchSize: 8, seed: 0, progress: false });
  assert.equal(h.steps, 1);
  model.dispose();
});

test('a real SIGINT stops a training process within 2 s, with the message naming where it stopped', async () => {
  const { spawn } = await import('node:child_process');
  const path = await import('node:path');
  const lib = path.resolve(__dirname, '../../lib');
  const script = `
    const tf = require('@tensorflow/tfjs');
    const { train } = require(${JSON.stringify(path.join(lib, 'train/loop.ts'))});
    const net = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [6, 6, 1] }), tf.layers.dense({ units: 2, activation: 'softmax' })] });
    const n = 64, images = new Float32Array(n * 36), labels = new Int32Array(n);
    (async () => {
      try {
        await train(net, { images, labels, height: 6, width: 6, channels: 1, classes: ['a', 'b'] }, {
          epochs: 100000, lr: 0.01, seed: 0, batchSize: 8, progress: false,
          callbacks: { onBatchEnd: (s) => { if (s === 20) process.stdout.write('training\\n'); } },
        });
        console.log('finished');
      } catch (e) { console.log('caught: ' + e.message); }
    })();`;
  const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: path.resolve(lib, '..'), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stderr.resume();
  await new Promise<void>((resolve) => child.stdout.on('data', (d) => ((out += d), out.includes('training') && resolve())));
  const sent = Date.now();
  child.kill('SIGINT');
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.ok(Date.now() - sent < 2000, `stopped after ${Date.now() - sent} ms`);
  assert.equal(code, 0);
  assert.match(out, /caught: stopped by interrupt: kit\.train after epoch \d+ of 100000, step \d+/);
  assert.match(out, /Interrupt received: kit\.train stops after epoch/);
});
