import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { ArrayDataset, ImageDataset } from '../../lib/data/dataset';
import { DataLoader } from '../../lib/data/loader';
import { classBalancedWeights, WeightedRandomSampler } from '../../lib/data/sampler';
import { ensureEmbedded, loadView } from '../../lib/data/embedded';
import { decodeImage } from '../../lib/data/image';
import { fitLabelEncoder, listImageFolder } from '../../lib/data/folder';
import { compose, horizontalFlip, normalize, randomResizedCrop, resize, rotate, Transform } from '../../lib/data/transforms';
import type { Batch } from '../../lib/data/types';
import { makeImageFolder, rmTmp, tmpDir } from './helpers';

const dir = tmpDir();
const root = path.join(dir, 'imgs');
before(async () => {
  await tf.setBackend('cpu');
  await makeImageFolder(root, { ants: 6, bees: 5 });
});
after(() => rmTmp(dir));

async function fileDataset(seed = 1, onBadImage: 'error' | 'skip' = 'error'): Promise<ImageDataset> {
  const scan = await listImageFolder(root);
  const enc = fitLabelEncoder(scan.labels);
  const t = compose([randomResizedCrop(12, 12, { scale: [0.5, 1] }), horizontalFlip(), rotate(10), normalize()]);
  return new ImageDataset(scan.paths, enc.transform(scan.labels), t, { seed, onBadImage, classes: enc.classes });
}

async function collect(loader: AsyncIterable<Batch>): Promise<{ xs: number[][]; ys: number[][] }> {
  const xs: number[][] = [];
  const ys: number[][] = [];
  for await (const b of loader) {
    xs.push(Array.from(b.xs.dataSync()));
    ys.push(Array.from(b.ys!.dataSync()));
    b.xs.dispose();
    b.ys?.dispose();
  }
  return { xs, ys };
}

test('ImageDataset.get: the transformed image and its label, or the image alone without labels', async () => {
  const ds = await fileDataset();
  assert.equal(ds.length, 11);
  const s = await ds.get(7);
  assert.deepEqual(s.shape, [12, 12, 3]);
  assert.equal(s.image.length, 12 * 12 * 3);
  assert.equal(s.label, 1);
  const plain = new ImageDataset(ds.paths, undefined, compose([resize(8, 8)]));
  const u = await plain.get(0);
  assert.equal(u.label, undefined);
  assert.ok(u.image.every((v) => v >= 0 && v <= 1));
  assert.throws(() => new ImageDataset(ds.paths, [0, 1], undefined), /2 labels for 11 images/);
  assert.throws(() => new ImageDataset(['a.jpg'], ['ants'] as never, undefined), /label 0 is "ants", expected a class index.*fitLabelEncoder/);
  await assert.rejects(ds.get(11), /index 11 out of range 0\.\.10/);
});

test('DataLoader: batch shapes, length, last batch, dropLast; every sample once per epoch', async () => {
  const ds = await fileDataset();
  const loader = new DataLoader(ds, { batchSize: 4, shuffle: true, seed: 5 });
  assert.equal(loader.length, 3);
  const { xs, ys } = await collect(loader);
  assert.deepEqual(xs.map((x) => x.length / (12 * 12 * 3)), [4, 4, 3]);
  assert.deepEqual(ys.flat().sort(), [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1]);
  const dropped = new DataLoader(ds, { batchSize: 4, dropLast: true });
  assert.equal(dropped.length, 2);
  assert.equal((await collect(dropped)).xs.length, 2);
});

test('DataLoader: the same seed gives identical batches run after run (whatever the prefetch); epochs reshuffle', async () => {
  const a = new DataLoader(await fileDataset(1), { batchSize: 4, shuffle: true, seed: 9, prefetch: 0 });
  const b = new DataLoader(await fileDataset(1), { batchSize: 4, shuffle: true, seed: 9, prefetch: 3, concurrency: 2 });
  const a0 = await collect(a);
  const b0 = await collect(b);
  assert.deepEqual(a0, b0);
  const a1 = await collect(a);
  assert.deepEqual(a1, await collect(b));
  assert.notDeepEqual(a1.ys, a0.ys, 'epoch 1 is shuffled differently from epoch 0');
  const c = new DataLoader(await fileDataset(1), { batchSize: 4, shuffle: true, seed: 10 });
  assert.notDeepEqual((await collect(c)).xs, a0.xs);
});

test('ImageDataset keeps decoded pixels: later epochs equal an uncached dataset, need no files, survive in-place transforms', async () => {
  const copy = path.join(dir, 'cache-copy');
  fs.cpSync(root, copy, { recursive: true });
  const scan = await listImageFolder(copy);
  const labels = fitLabelEncoder(scan.labels).transform(scan.labels);
  // a transform that overwrites its input: the cache must hand out copies
  const invert: Transform = (img) => {
    for (let i = 0; i < img.data.length; i++) img.data[i] = 255 - img.data[i];
    return img;
  };
  const t = compose([invert, randomResizedCrop(10, 10, { scale: [0.5, 1] }), rotate(10)]);
  const opts = { batchSize: 4, shuffle: true, seed: 3 };
  const cached = new DataLoader(new ImageDataset(scan.paths, labels, t), opts);
  const uncached = new DataLoader(new ImageDataset(scan.paths, labels, t, { cacheBytes: 0 }), opts);
  assert.deepEqual(await collect(cached), await collect(uncached));
  assert.deepEqual(await collect(cached), await collect(uncached), 'epoch 1 (from the cache) equals decoding again');
  assert.deepEqual(await collect(cached), await collect(uncached), 'epoch 2 too (the cache was not overwritten)');
  const bytes = (await decodeImage(scan.paths[0])).data.byteLength;
  const one = new ImageDataset(scan.paths, labels, t, { cacheBytes: bytes });
  await one.get(0);
  await one.get(1);
  fs.rmSync(copy, { recursive: true, force: true });
  const epoch3 = await collect(cached);
  assert.deepEqual(epoch3.ys.flat().sort(), [...labels].sort(), 'every image still delivered after the files are gone');
  await assert.rejects(collect(uncached), /does not exist/);
  await one.get(0); // within the budget of one image
  await assert.rejects(one.get(1), /does not exist/);
  assert.throws(() => new ImageDataset(scan.paths, labels, t, { cacheBytes: -1 }), /cacheBytes must be ≥ 0/);
});

test('DataLoader hands out tensors only: nothing leaks, not even when an epoch is abandoned', async () => {
  const loader = new DataLoader(await fileDataset(), { batchSize: 3, shuffle: true, prefetch: 2 });
  const start = tf.memory().numTensors;
  for (let epoch = 0; epoch < 2; epoch++) await collect(loader);
  assert.equal(tf.memory().numTensors, start);
  for await (const b of loader) {
    b.xs.dispose();
    b.ys?.dispose();
    break;
  }
  await new Promise((r) => setTimeout(r, 200)); // let the prefetched loads finish
  assert.equal(tf.memory().numTensors, start);
});

test('WeightedRandomSampler with classBalancedWeights draws classes equally often (90/10 labels)', () => {
  const labels = [...Array(90).fill(0), ...Array(10).fill(1)];
  const w = classBalancedWeights(labels);
  assert.ok(Math.abs(w[0] - 1 / 90) < 1e-12 && Math.abs(w[95] - 1 / 10) < 1e-12);
  const sampler = new WeightedRandomSampler(w, 4000, { seed: 3 });
  const idx = sampler.indices(0);
  const minority = idx.filter((i) => labels[i] === 1).length / idx.length;
  assert.ok(Math.abs(minority - 0.5) < 0.03, `minority share ${minority}`);
  assert.deepEqual(sampler.indices(0), idx, 'seeded');
  assert.notDeepEqual(sampler.indices(1), idx, 'a new draw per epoch');
  // frequencies follow the weights [1, 2, 3, 4] / 10 (hand computation)
  const s2 = new WeightedRandomSampler([1, 2, 3, 4], 20000, { seed: 1 }).indices(0);
  [0.1, 0.2, 0.3, 0.4].forEach((p, k) => assert.ok(Math.abs(s2.filter((i) => i === k).length / 20000 - p) < 0.015));
  const noRep = new WeightedRandomSampler([1, 0, 5, 1, 1], 4, { replacement: false, seed: 2 }).indices(0);
  assert.deepEqual([...noRep].sort(), [0, 2, 3, 4], 'without replacement: distinct, zero weight never drawn');
  assert.throws(() => new WeightedRandomSampler([1, 0], 2, { replacement: false }), /2 samples without replacement but only 1 weights are > 0/);
  assert.throws(() => new WeightedRandomSampler([1, -1], 2), /weight 1 is -1/);
});

test('DataLoader with a sampler on real digits (ArrayDataset): balanced batches of NHWC tensors', async () => {
  const arrays = await loadView('digits-5-9', { split: 'val', mPerClass: 8, seed: 1 });
  const ds = new ArrayDataset(arrays, horizontalFlip());
  const sampler = new WeightedRandomSampler(classBalancedWeights(arrays.labels), 40, { seed: 2 });
  const loader = new DataLoader(ds, { batchSize: 16, sampler });
  assert.equal(loader.length, 3);
  const { xs, ys } = await collect(loader);
  assert.equal(xs[0].length, 16 * 32 * 32 * 3);
  assert.equal(ys.flat().length, 40);
  assert.ok(ys.flat().every((y) => y >= 0 && y < 5));
});

test('ImageDataset over the real digits folder: decoded grey PNG → 3-channel float batch', async () => {
  const droot = await ensureEmbedded('digits');
  const scan = await listImageFolder(path.join(droot, 'val'));
  const pick = scan.paths.map((_, i) => i).filter((i) => i % 200 === 0);
  const enc = fitLabelEncoder(scan.labels);
  const ds = new ImageDataset(pick.map((i) => scan.paths[i]), enc.transform(pick.map((i) => scan.labels[i])), resize(32, 32));
  const { xs, ys } = await collect(new DataLoader(ds, { batchSize: 10 }));
  assert.deepEqual(ys[0], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  const first = xs[0].slice(0, 32 * 32 * 3);
  assert.ok(first.some((v) => v > 0.9) && first.some((v) => v === 0));
});

test("onBadImage 'skip': a corrupt file is left out of its batch and listed", async () => {
  const bad = path.join(root, 'bees', 'bees-002.jpg');
  const saved = fs.readFileSync(bad);
  fs.writeFileSync(bad, 'garbage');
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    const strict = new DataLoader(await fileDataset(), { batchSize: 11 });
    await assert.rejects(collect(strict), /Cannot decode image .*bees-002\.jpg/);
    const ds = await fileDataset(1, 'skip');
    const { ys } = await collect(new DataLoader(ds, { batchSize: 11 }));
    assert.equal(ys[0].length, 10);
    assert.deepEqual(ds.skipped.map((s) => path.basename(s.path)), ['bees-002.jpg']);
  } finally {
    console.warn = warn;
    fs.writeFileSync(bad, saved);
  }
});

test('toTfDataset feeds model.fitDataset (one-hot ys) without leaking tensors', async () => {
  const arrays = await loadView('digits-0-4', { split: 'train', mPerClass: 6, seed: 1, imgSize: 8, channels: 1 });
  const loader = new DataLoader(new ArrayDataset(arrays), { batchSize: 10, shuffle: true });
  const model = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [8, 8, 1] }), tf.layers.dense({ units: 5, activation: 'softmax' })] });
  model.compile({ optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  const ds = loader.toTfDataset();
  await model.fitDataset(ds, { epochs: 1, verbose: 0 });
  const start = tf.memory().numTensors;
  const h = await model.fitDataset(ds, { epochs: 2, verbose: 0 });
  assert.equal(h.history.loss.length, 2);
  assert.equal(tf.memory().numTensors, start);
  const sparse = loader.toTfDataset({ oneHot: false });
  const first = (await sparse.take(1).toArray())[0] as { xs: tf.Tensor; ys: tf.Tensor };
  assert.deepEqual([first.ys.dtype, first.ys.shape], ['int32', [10]]);
  tf.dispose(first as unknown as tf.TensorContainer);
  model.dispose();
});
