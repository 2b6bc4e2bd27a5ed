// compareStrategies / cutSweep mechanics and the fair protocol on tiny synthetic data; the compare CLI on a
// generated image folder. (The measured results are in docs/training.md, not asserted here.)
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import sharp from 'sharp';
import type { ImageArrays } from '../../lib/data/types';
import { initBackend } from '../../lib/backend';
import { buildPlainCnn, saveSourceModel, type SourceMeta } from '../../lib/models';
import { Rng } from '../../lib/random';
import { compareStrategies, cutSweep, defaultCuts, drawSplit, PROTOCOL_VERSION } from '../../lib/train/experiments';
import { parseCompareArgs } from '../../scripts/compare';

const SIZE = 16;

// The wasm backend with the kit's training kernels: the plain-JS cpu backend is ~10× slower at conv training.
before(async () => {
  await initBackend();
});

/** k classes of SIZE×SIZE RGB images: class c is a bright square in a class-specific corner, over noise. */
function corners(perClass: number, k: number, seed: number): ImageArrays {
  const rng = new Rng(seed);
  const per = SIZE * SIZE * 3;
  const images = new Float32Array(perClass * k * per);
  const labels = new Int32Array(perClass * k);
  for (let i = 0; i < perClass * k; i++) {
    const c = i % k;
    labels[i] = c;
    const [oy, ox] = [(c >> 1) * 8, (c & 1) * 8];
    for (let y = 0; y < SIZE; y++) {
      for (let x = 0; x < SIZE; x++) {
        const inside = y >= oy && y < oy + 8 && x >= ox && x < ox + 8;
        for (let ch = 0; ch < 3; ch++) images[i * per + (y * SIZE + x) * 3 + ch] = (inside ? 0.7 : 0.1) + 0.2 * rng.next();
      }
    }
  }
  return { images, labels, height: SIZE, width: SIZE, channels: 3, classes: Array.from({ length: k }, (_, c) => `c${c}`) };
}

function tinySource(seed = 1): tf.LayersModel {
  return buildPlainCnn({ inputShape: [SIZE, SIZE, 3], numClasses: 4, filters: [4, 8], seed });
}

test('drawSplit: validation disjoint from training, same for every m, training sets nested', () => {
  const pool = corners(12, 3, 1);
  const a = drawSplit(pool, 3, 4, 7);
  const b = drawSplit(pool, 6, 4, 7);
  const key = (arr: ImageArrays, i: number) => arr.images.subarray(i * SIZE * SIZE * 3, (i + 1) * SIZE * SIZE * 3).join(',');
  const keys = (arr: ImageArrays) => new Set(Array.from(arr.labels, (_, i) => key(arr, i)));
  assert.equal(a.train.labels.length, 9);
  assert.equal(a.val.labels.length, 12);
  for (const c of [0, 1, 2]) assert.equal(a.train.labels.filter((l) => l === c).length, 3);
  const valKeys = keys(a.val);
  for (const k of keys(a.train)) assert.ok(!valKeys.has(k), 'a training image is in the validation split');
  assert.deepEqual(keys(b.val), valKeys);
  const bigger = keys(b.train);
  for (const k of keys(a.train)) assert.ok(bigger.has(k), 'm = 3 set is not inside the m = 6 set');
  assert.notDeepEqual(keys(drawSplit(pool, 3, 4, 8).train), keys(a.train));
  assert.throws(() => drawSplit(pool, 10, 4, 1), /class 'c0' has 12 training images; m = 10 plus 4 for validation need 14/);
});

test('compareStrategies: one row per strategy × m × seed, lr chosen on validation, equal budgets, no leak', async () => {
  const source = tinySource();
  const target = { name: 'corners', train: corners(14, 3, 2), test: corners(6, 3, 3) };
  const seen: string[] = [];
  const before = tf.memory().numTensors;
  const res = await compareStrategies({
    source,
    target,
    strategies: ['scratch', 'freeze', 'finetune'],
    mPerClass: [3, 6],
    seeds: 2,
    budget: { steps: 6, rounds: 2 },
    lrGrid: [1e-3, 1e-2],
    valPerClass: 4,
    progress: false,
    onRow: (r) => seen.push(`${r.strategy}/${r.m}/${r.seed}`),
  });
  assert.equal(tf.memory().numTensors, before, 'tensors leaked (or the caller’s source was disposed)');
  assert.equal(res.rows.length, 12);
  assert.equal(seen.length, 12);
  for (const r of res.rows) {
    assert.equal(r.steps, 6);
    assert.ok([1e-3, 1e-2].includes(r.lr));
    assert.equal(r.lrSearch.length, 2);
    assert.equal(r.valAccuracy, Math.max(...r.lrSearch.map((s) => s.valAccuracy)));
    assert.equal(r.protocol, PROTOCOL_VERSION);
    assert.match(r.protocolText, /validation split of the target TRAIN images/);
    assert.equal(r.trainImages, 3 * r.m);
    assert.equal(r.valImages, 12);
    assert.equal(r.testImages, 18);
    assert.ok(r.accuracy >= 0 && r.accuracy <= 1 && r.macroF1 >= 0 && r.macroF1 <= 1);
    assert.equal(r.cutAt, 'features');
  }
  assert.deepEqual(res.frame.columns, ['strategy', 'm', 'seed', 'lr', 'accuracy', 'macroF1', 'seconds', 'steps']);
  assert.equal(res.summary.length, 6);
  const s = res.summary.find((x) => x.strategy === 'freeze' && x.m === 6)!;
  const fr = res.rows.filter((r) => r.strategy === 'freeze' && r.m === 6);
  assert.ok(Math.abs(s.accuracy - (fr[0].accuracy + fr[1].accuracy) / 2) < 1e-12);
  // The caller's source is left untouched and usable.
  assert.equal(source.layers[1].getWeights()[0].isDisposed, false);
  source.dispose();
});

test('compareStrategies runs hybrid and additional-layers too', async () => {
  const source = tinySource(4);
  const res = await compareStrategies({
    source,
    target: { name: 'corners', train: corners(8, 2, 6), test: corners(4, 2, 7) },
    strategies: ['hybrid', 'additional-layers'],
    mPerClass: 3,
    seeds: [5],
    budget: { steps: 4, rounds: 2 },
    lrGrid: { hybrid: [1e-2], 'additional-layers': [1e-2, 3e-2] },
    valPerClass: 3,
    progress: false,
  });
  assert.deepEqual(res.rows.map((r) => [r.strategy, r.lrSearch.length]), [['hybrid', 1], ['additional-layers', 2]]);
  source.dispose();
});

test('cutSweep and defaultCuts: accuracy per cut layer, frozen and fine-tuned', async () => {
  assert.deepEqual(defaultCuts(buildPlainCnn({ inputShape: [32, 32, 3], numClasses: 5, seed: 1 })), [
    'block1_pool',
    'block2_pool',
    'block3_pool',
    'features',
  ]);
  const source = tinySource(2);
  assert.deepEqual(defaultCuts(source), ['block1_pool', 'features']);
  const res = await cutSweep({
    source,
    target: { name: 'corners', train: corners(10, 2, 4), test: corners(4, 2, 5) },
    m: 4,
    seeds: [3],
    cuts: ['block1_pool', 'features'],
    budget: { steps: 3, rounds: 1 },
    lrGrid: [1e-2],
    valPerClass: 3,
    progress: false,
  });
  assert.deepEqual(res.rows.map((r) => `${r.strategy}@${r.cutAt}`), ['freeze@block1_pool', 'freeze@features', 'finetune@block1_pool', 'finetune@features']);
  source.dispose();
});

test('compare CLI: argument errors name the problem', () => {
  assert.throws(() => parseCompareArgs(['--m', '5']), /--target is required/);
  assert.throws(() => parseCompareArgs(['--target', 'digits-5-9', '--m', 'x']), /--m expects a positive integer, got 'x'/);
  assert.throws(() => parseCompareArgs(['--target', 'digits-5-9', '--m', '5', '--bogus']), /unknown option '--bogus'/);
  const a = parseCompareArgs(['--target', 'digits-m-5-9', '--m', '5,10', '--seeds', '3', '--json', '--strategies', 'freeze,finetune']);
  assert.deepEqual([a.m, a.seeds, a.json, a.strategies], [[5, 10], 3, true, ['freeze', 'finetune']]);
});

test('compare CLI in quick mode on a generated image folder, --json rows', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-compare-'));
  try {
    // A source model saved like the shipped ones.
    const model = tinySource(3);
    const meta = { name: 'tiny', dataset: 'synthetic', classes: ['a', 'b', 'c', 'd'], inputShape: [SIZE, SIZE, 3] } as unknown as SourceMeta;
    await saveSourceModel(model, meta, path.join(dir, 'models'));
    model.dispose();
    // A folder target: train/ and val/ with two colour classes, 20×20 PNGs (the CLI resizes them to 16×16).
    const rng = new Rng(5);
    for (const [split, n] of [['train', 9], ['val', 4]] as const) {
      for (const cls of ['red', 'blue']) {
        const folder = path.join(dir, 'target', split, cls);
        fs.mkdirSync(folder, { recursive: true });
        for (let i = 0; i < n; i++) {
          const px = Buffer.alloc(20 * 20 * 3);
          for (let p = 0; p < 400; p++) {
            const v = 100 + Math.floor(rng.next() * 155);
            px[p * 3] = cls === 'red' ? v : 20;
            px[p * 3 + 2] = cls === 'blue' ? v : 20;
          }
          await sharp(px, { raw: { width: 20, height: 20, channels: 3 } }).png().toFile(path.join(folder, `${i}.png`));
        }
      }
    }
    const root = path.join(__dirname, '..', '..');
    const res = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/compare.ts', '--source', path.join(dir, 'models', 'tiny'), '--target', path.join(dir, 'target'),
        '--strategies', 'scratch,freeze', '--m', '3', '--seeds', '1', '--steps', '4', '--json', '--quick'],
      { cwd: root, encoding: 'utf8', env: { ...process.env, KIT_QUICK: '1' } },
    );
    assert.equal(res.status, 0, res.stderr);
    const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.strategy), ['scratch', 'freeze']);
    for (const r of rows) {
      for (const k of ['strategy', 'm', 'seed', 'accuracy', 'macroF1', 'seconds', 'steps', 'lr', 'protocol', 'protocolText']) assert.ok(k in r, `row lacks ${k}`);
      assert.equal(r.m, 3);
      assert.equal(r.steps, 4);
      assert.equal(r.testImages, 8);
      assert.equal(r.source, 'tiny');
    }
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/compare.ts', '--target', path.join(dir, 'nowhere'), '--m', '3', '--quick'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /neither an embedded view nor a folder with train\/ and val\//);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
