import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { ArrayDataset, ImageDataset } from '../../lib/data/dataset';
import { DataLoader } from '../../lib/data/loader';
import type { ImageArrays } from '../../lib/data/types';
import { listImageFolder } from '../../lib/data/folder';
import { blur, colorJitter, compose, fromSpec, gaussNoise, horizontalFlip, normalize, randomResizedCrop, resize, rotate, toTensor, Transform, verticalFlip } from '../../lib/data/transforms';
import { Rng } from '../../lib/random';
import type { Batch } from '../../lib/data/types';
import { closeWorkers, dropWorkerCache, workerCount } from '../../lib/data/workers';
import { makeImageFolder, rmTmp, tmpDir } from './helpers';

const dir = tmpDir();
const root = path.join(dir, 'imgs');
before(async () => {
  await tf.setBackend('cpu');
  await makeImageFolder(root, { ants: 7, bees: 6 });
});
after(async () => {
  await closeWorkers();
  rmTmp(dir);
});

/** Every built-in step, so that each factory's spec is rebuilt in the worker. */
const everyStep = (): Transform =>
  compose([
    randomResizedCrop(14, 12, { scale: [0.5, 1], p: 0.9 }),
    horizontalFlip(),
    verticalFlip({ p: 0.3 }),
    rotate(15, { p: 0.7 }),
    colorJitter({ brightness: 0.3, contrast: 0.3, saturation: 0.2, hue: 0.05, p: 0.8 }),
    gaussNoise({ p: 0.5 }),
    blur({ p: 0.3 }),
    resize(12, 10),
    toTensor(),
    normalize({ mean: [0.5], std: [0.25] }),
  ]);

async function dataset(transform: Transform, opts: { workers?: number; cacheBytes?: number; onBadImage?: 'error' | 'skip' } = {}): Promise<ImageDataset> {
  const scan = await listImageFolder(root);
  const labels = scan.labels.map((l) => (l === 'ants' ? 0 : 1));
  return new ImageDataset(scan.paths, labels, transform, { seed: 3, ...opts });
}

async function collect(loader: AsyncIterable<Batch>): Promise<{ xs: Float32Array[]; ys: Int32Array[] }> {
  const xs: Float32Array[] = [];
  const ys: Int32Array[] = [];
  for await (const b of loader) {
    xs.push(b.xs.dataSync() as Float32Array);
    ys.push(b.ys!.dataSync() as Int32Array);
    tf.dispose([b.xs, b.ys!]);
  }
  return { xs, ys };
}

test('every factory has a structured-cloneable spec that fromSpec rebuilds into the same transform', async () => {
  const t = everyStep();
  assert.ok(t.spec);
  const rebuilt = fromSpec(structuredClone(t.spec));
  const img = { data: Uint8Array.from({ length: 18 * 16 * 3 }, (_, i) => (i * 37) % 256), height: 18, width: 16, channels: 3 };
  for (const seed of ['a', 'b', 'c']) {
    const a = await t({ ...img, data: img.data.slice() }, new Rng(seed));
    const b = await rebuilt({ ...img, data: img.data.slice() }, new Rng(seed));
    assert.deepEqual(b, a);
  }
  const custom: Transform = (x) => x;
  assert.equal(compose([resize(4, 4), custom]).spec, undefined, 'a custom step makes the chain spec-less');
  assert.throws(() => fromSpec({ name: 'sharpen', args: [] }), /unknown transform "sharpen"/);
  assert.throws(() => new ImageDataset(['a.jpg'], undefined, undefined, { workers: 1.5 }), /workers must be an integer in 0\.\.8/);
});

test('workers on and off give bit-identical batches for the same seed (cached, uncached, 1 and 2 workers, two epochs)', async () => {
  const ref = new DataLoader(await dataset(everyStep(), { workers: 0 }), { batchSize: 5, shuffle: true, seed: 9 });
  const want = [await collect(ref), await collect(ref)];
  assert.equal(workerCount(), 0, 'workers: 0 starts no thread');
  for (const opts of [{ workers: 1 }, { workers: 2 }, { workers: 1, cacheBytes: 0 }]) {
    const l = new DataLoader(await dataset(everyStep(), opts), { batchSize: 5, shuffle: true, seed: 9 });
    for (const w of want) {
      const got = await collect(l);
      assert.equal(got.xs.length, w.xs.length);
      got.xs.forEach((x, i) => assert.ok(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(w.xs[i].buffer, w.xs[i].byteOffset, w.xs[i].byteLength)), `${JSON.stringify(opts)}: batch ${i} differs`));
      assert.deepEqual(got.ys, w.ys);
    }
  }
  assert.ok(workerCount() >= 1 && workerCount() <= 2, `worker threads: ${workerCount()}`);
  // get() without an rng: same per-call seeds on both paths
  const [a, b] = [await dataset(everyStep(), { workers: 0 }), await dataset(everyStep(), { workers: 1 })];
  for (const i of [0, 4, 4]) assert.deepEqual(await b.get(i), await a.get(i));
});

test('an augmenting ArrayDataset sends its batches to the workers: bit-identical to the main thread, 1 and 2 workers, odd last batch', async () => {
  const rng = new Rng('arrays');
  const n = 23;
  const arrays: ImageArrays = {
    images: Float32Array.from({ length: n * 14 * 12 * 3 }, () => rng.next()),
    labels: Int32Array.from({ length: n }, (_, i) => i % 3),
    height: 14,
    width: 12,
    channels: 3,
    classes: ['a', 'b', 'c'],
  };
  const before = Float32Array.from(arrays.images);
  const ref = new DataLoader(new ArrayDataset(arrays, everyStep(), 5, { workers: 0 }), { batchSize: 6, shuffle: true, seed: 4 });
  const want = [await collect(ref), await collect(ref)];
  for (const workers of [1, 2]) {
    const ds = new ArrayDataset(arrays, everyStep(), 5, { workers });
    assert.equal(ds.batchesInWorkers, true);
    const l = new DataLoader(ds, { batchSize: 6, shuffle: true, seed: 4 });
    for (const w of want) {
      const got = await collect(l);
      got.xs.forEach((x, i) => assert.ok(Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(Buffer.from(w.xs[i].buffer, w.xs[i].byteOffset, w.xs[i].byteLength)), `${workers} worker(s): batch ${i} differs`));
      assert.deepEqual(got.ys, w.ys);
    }
  }
  assert.deepEqual(arrays.images, before, 'the dataset\'s arrays are untouched');
  // no augmentation: nothing worth a round trip, the main thread does it
  assert.equal(new ArrayDataset(arrays, compose([resize(8, 8), toTensor()])).batchesInWorkers, false);
});

test('a spec-less (custom) transform, or a caller-supplied rng, runs on the main thread', async () => {
  let calls = 0;
  const custom: Transform = (img) => {
    calls++; // only counted when the step runs in this thread
    return img;
  };
  const ds = await dataset(compose([resize(8, 8), custom, toTensor()]), { workers: 1 });
  const { xs } = await collect(new DataLoader(ds, { batchSize: 4 }));
  assert.equal(calls, ds.length);
  assert.equal(xs.reduce((n, x) => n + x.length, 0), ds.length * 8 * 8 * 3);
  // a caller's rng may have been drawn from already: the sample follows its state, as on the main thread
  const spec = await dataset(compose([rotate(30), toTensor()]), { workers: 1 });
  const mainOnly = await dataset(compose([rotate(30), toTensor()]), { workers: 0 });
  const r1 = new Rng('x');
  const r2 = new Rng('x');
  r1.next();
  r2.next();
  assert.deepEqual(await spec.get(2, r1), await mainOnly.get(2, r2));
  // options a worker cannot receive (a function) keep the chain on the main thread instead of failing
  const odd = compose([rotate(30, { p: 1, note: () => 'x' } as unknown as { p: number }), toTensor()]);
  const plain = await dataset(compose([rotate(30, { p: 1 }), toTensor()]), { workers: 0 });
  assert.deepEqual(await (await dataset(odd, { workers: 1 })).get(5), await plain.get(5));
});

test('a bad image named from a worker: the error names the file; skip leaves it out and lists it', async () => {
  const scan = await listImageFolder(root);
  const bad = scan.paths[3];
  const saved = fs.readFileSync(bad);
  fs.writeFileSync(bad, 'garbage');
  const warn = console.warn;
  console.warn = () => undefined;
  try {
    const strict = new DataLoader(await dataset(everyStep(), { workers: 1 }), { batchSize: 13 });
    await assert.rejects(collect(strict), new RegExp(`Cannot decode image .*${path.basename(bad).replace('.', '\\.')}`));
    const ds = await dataset(everyStep(), { workers: 1, onBadImage: 'skip' });
    const { ys } = await collect(new DataLoader(ds, { batchSize: 13 }));
    assert.equal(ys[0].length, 12);
    assert.deepEqual(ds.skipped.map((s) => s.path), [bad]);
  } finally {
    console.warn = warn;
    fs.writeFileSync(bad, saved);
  }
});

test('a worker keeps a decode cache per dataset: a file changed on disk is not re-read by that dataset, is by a new one, and is after the cache is dropped', async () => {
  const scan = await listImageFolder(root);
  const bad = scan.paths[5];
  const saved = fs.readFileSync(bad);
  const first = await dataset(everyStep(), { workers: 1 });
  const loader = new DataLoader(first, { batchSize: 13 });
  const before = await collect(loader);
  fs.writeFileSync(bad, 'garbage');
  try {
    const again = await collect(loader); // every file comes from the worker's cache of this dataset
    assert.equal(again.xs[0].length, before.xs[0].length);
    await assert.rejects(collect(new DataLoader(await dataset(everyStep(), { workers: 1 }), { batchSize: 13 })), /Cannot decode image/);
    dropWorkerCache((first as unknown as { id: number }).id); // what the FinalizationRegistry sends once `first` is collected
    await assert.rejects(collect(loader), /Cannot decode image/);
  } finally {
    fs.writeFileSync(bad, saved);
  }
});

test('samples of different sizes from the worker path: the error names both samples and the fix (1 and 2 workers)', async () => {
  for (const workers of [1, 2]) {
    const ds = await dataset(compose([horizontalFlip({ p: 1 }), toTensor()]), { workers });
    await assert.rejects(collect(new DataLoader(ds, { batchSize: 6 })), /DataLoader: sample \d+ has shape \[\d+,\d+,3\] but sample \d+ has \[\d+,\d+,3\]; add resize/);
  }
});

test('a process that iterates a loader with workers exits by itself, promptly', () => {
  const lib = path.resolve(__dirname, '../../lib/data');
  const script = `
    const { ImageDataset } = require(${JSON.stringify(path.join(lib, 'dataset.ts'))});
    const { DataLoader } = require(${JSON.stringify(path.join(lib, 'loader.ts'))});
    const { listImageFolder } = require(${JSON.stringify(path.join(lib, 'folder.ts'))});
    const t = require(${JSON.stringify(path.join(lib, 'transforms.ts'))});
    const w = require(${JSON.stringify(path.join(lib, 'workers.ts'))});
    (async () => {
      const scan = await listImageFolder(${JSON.stringify(root)});
      const ds = new ImageDataset(scan.paths, undefined, t.compose([t.rotate(20), t.resize(8, 8)]), { workers: 2 });
      let n = 0;
      for await (const b of new DataLoader(ds, { batchSize: 4 })) { n += b.xs.shape[0]; b.xs.dispose(); }
      console.log('samples', n, 'threads', w.workerCount());
    })();
  `;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  const secs = (Date.now() - t0) / 1000;
  assert.equal(r.status, 0, `exit status ${r.status} (signal ${r.signal}); stderr: ${r.stderr}`);
  assert.match(r.stdout, /samples 13 threads 2/);
  assert.ok(secs < 15, `took ${secs.toFixed(1)} s to exit`);
});
