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
import { compareStrategies, cutSweep, defaultCuts, claimBetter, summarizeRows, type CompareOptions } from '../../lib/train/experiments';
import { PROTOCOL_VERSION, type ResultRow } from '../../lib/train/protocol';
import { FeatureCache, headOnFeatures } from '../../lib/train/feature-cache';
import { drawSplit } from '../../lib/data/target';
import { buildTransferModel } from '../../lib/models/transfer';
import { train } from '../../lib/train/loop';
import { predict } from '../../lib/train/evaluate';
import { accuracy } from '../../lib/train/metrics';
import { setDisplayChannel } from '../../lib/display/channel';
import { parseCompareArgs } from '../../scripts/compare';
import { requestInterrupt } from '../../lib/testing';
import { InterruptedError } from '../../lib/interrupt';

const SIZE = 16;

// The wasm backend with the kit's training kernels: the plain-JS cpu backend is ~10× slower at conv training.
before(async () => {
  await initBackend();
});

/** k classes of SIZE×SIZE RGB images: class c is a bright square in a class-specific corner, over noise. */
/**
 * compareStrategies on two-class corners — `train` and `test` images per class drawn with seeds `seed` and
 * `seed + 1` — with 3 labelled and 3 validation images per class, no progress bar.
 */
function compareOnCorners(source: tf.LayersModel, [train, test, seed]: [number, number, number], opts: Omit<CompareOptions, 'source' | 'target' | 'mPerClass'>) {
  return compareStrategies({
    source,
    target: { name: 'corners', train: corners(train, 2, seed), test: corners(test, 2, seed + 1) },
    mPerClass: 3,
    valPerClass: 3,
    progress: false,
    ...opts,
  });
}

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
  const key = (arr: ImageArrays, i: number): string => arr.images.subarray(i * SIZE * SIZE * 3, (i + 1) * SIZE * SIZE * 3).join(',');
  const keys = (arr: ImageArrays) => new Set(Array.from(arr.labels, (_, i) => key(arr, i)));
  assert.equal(a.train.labels.length, 9);
  assert.equal(a.val.labels.length, 12);
  for (const c of [0, 1, 2]) assert.equal(a.train.labels.filter((l: number) => l === c).length, 3);
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
  assert.deepEqual(res.frame.columns, ['strategy', 'm', 'seed', 'lr', 'accuracy', 'macroF1', 'seconds', 'steps', 'trainableParams']);
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
  const res = await compareOnCorners(source, [8, 4, 6], {
    strategies: ['hybrid', 'additional-layers'],
    seeds: [5],
    budget: { steps: 4, rounds: 2 },
    lrGrid: { hybrid: [1e-2], 'additional-layers': [1e-2, 3e-2] },
  });
  assert.deepEqual(res.rows.map((r) => [r.strategy, r.lrSearch.length]), [['hybrid', 1], ['additional-layers', 2]]);
  source.dispose();
});

test('cutSweep: AnB, AnB+ and the probe at each cut, scratch once per seed; rows carry cutAt and trainableParams; the bar total is known first', async () => {
  assert.deepEqual(defaultCuts(buildPlainCnn({ inputShape: [32, 32, 3], numClasses: 5, seed: 1 })), [
    'block1_pool',
    'block2_pool',
    'block3_pool',
    'features',
  ]);
  const source = tinySource(2);
  assert.deepEqual(defaultCuts(source), ['block1_pool', 'features']);
  const shown: string[] = [];
  const prev = setDisplayChannel({ rich: true, display: (b) => void shown.push(String(b['text/plain'])) });
  let res: Awaited<ReturnType<typeof cutSweep>>;
  try {
    res = await cutSweep({
      source,
      target: { name: 'corners', train: corners(10, 2, 4), test: corners(4, 2, 5) },
      m: 4,
      seeds: [3],
      strategies: ['scratch', 'freeze', 'finetune', 'probe'],
      budget: { steps: 3, rounds: 1 },
      lrGrid: { scratch: [1e-2], freeze: [1e-2, 3e-2], finetune: [1e-2], probe: [1e-2] },
      valPerClass: 3,
    });
  } finally {
    setDisplayChannel(prev);
  }
  assert.deepEqual(res.rows.map((r) => `${r.strategy}@${r.cutAt}`), [
    'scratch@none', 'freeze@block1_pool', 'freeze@features', 'finetune@block1_pool', 'finetune@features', 'probe@block1_pool', 'probe@features',
  ]);
  // lr grids: AnB at block1_pool trains convolutions (the network grid given for freeze), as does every other run: 1+2+2+1+1+1+1 = 9 runs.
  const bars = shown.filter((t) => /cut sweep/.test(t));
  assert.match(bars[0], /\/9 /, 'the first bar already shows the total');
  assert.match(bars.at(-1)!, / 9\/9 /);
  const by = (s: string, c: string) => res.rows.find((r) => r.strategy === s && r.cutAt === c)!;
  // AnB at block1: block1 frozen, the rest (re-initialised) and the head train; AnB+ trains everything; the probe only its head.
  const conv2 = 4 * 9 * 8 + 8;
  const head = (f: number) => f * 2 + 2;
  assert.equal(by('freeze', 'block1_pool').trainableParams, conv2 + head(8));
  assert.equal(by('finetune', 'block1_pool').trainableParams, 3 * 9 * 4 + 4 + conv2 + head(8));
  assert.equal(by('probe', 'block1_pool').trainableParams, head(4));
  assert.equal(by('freeze', 'features').trainableParams, head(8));
  assert.equal(by('scratch', 'none').trainableParams, by('finetune', 'features').trainableParams);
  for (const r of res.rows) for (const k of ['cutAt', 'strategy', 'seed', 'accuracy', 'trainableParams'] as const) assert.ok(r[k] !== undefined, k);
  source.dispose();
});

test('reuse takes earlier rows instead of re-running them; lrFrom takes each seed\'s chosen rate instead of a search', async () => {
  const source = tinySource(9);
  const target = { name: 'corners', train: corners(12, 2, 12), test: corners(3, 2, 13) };
  const base = { source, target, budget: { steps: 3, rounds: 1 }, valPerClass: 3, progress: false } as const;
  const first = await compareStrategies({ ...base, strategies: ['scratch', 'finetune'], mPerClass: 3, seeds: [1, 2], lrGrid: [1e-2, 3e-2] });
  let ran = 0;
  const again = await compareStrategies({ ...base, strategies: ['scratch', 'finetune'], mPerClass: [3, 6], seeds: [1, 2], lrFrom: first.rows, reuse: first.rows, onRow: () => void ran++ });
  assert.equal(ran, 4, 'only the m = 6 cells run');
  for (const r of again.rows.filter((x) => x.m === 3)) assert.ok(first.rows.includes(first.rows.find((f) => f.strategy === r.strategy && f.seed === r.seed && f.accuracy === r.accuracy)!));
  for (const r of again.rows.filter((x) => x.m === 6)) {
    assert.deepEqual(r.lrSearch.map((l) => l.lr), [first.rows.find((f) => f.strategy === r.strategy && f.seed === r.seed)!.lr]);
  }
  // a sweep reuses the scratch row and the rows at the feature layer (everything copied = plain freeze / finetune)
  let sweepRan = 0;
  const sweep = await cutSweep({ ...base, m: 3, seeds: [1, 2], strategies: ['scratch', 'finetune'], lrGrid: [1e-2, 3e-2], reuse: first.rows, onRow: () => void sweepRan++ });
  assert.equal(sweepRan, 2, 'only AnB+ at block1_pool runs, once per seed');
  assert.equal(sweep.rows.find((r) => r.strategy === 'scratch' && r.seed === 1)!.cutAt, 'none');
  await assert.rejects(compareStrategies({ ...base, strategies: ['freeze'], mPerClass: 3, seeds: [1], lrFrom: first.rows }), /lrFrom: no row for freeze with seed 1/);
  source.dispose();
});

test('a comparison stops at an interrupt between runs: InterruptedError, the rows so far as its partial result, no tensor left', async () => {
  const source = tinySource(11);
  const before = tf.memory().numTensors;
  let seen = 0;
  const run = compareOnCorners(source, [10, 3, 14], {
    strategies: ['freeze', 'finetune', 'scratch'],
    seeds: [1, 2],
    budget: { steps: 2, rounds: 1 },
    lrGrid: [1e-2],
    onRow: () => {
      if (++seen === 2) requestInterrupt(); // as if Stop were pressed after the second row
    },
  });
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof InterruptedError);
    assert.match((e as Error).message, /kit\.compareStrategies after 2 of 6 cells/);
    assert.deepEqual(((e as InterruptedError).partial as Array<{ strategy: string }>).map((r) => r.strategy), ['freeze', 'finetune']);
    return true;
  });
  assert.equal(tf.memory().numTensors, before, 'tensors left behind');
  source.dispose();
});

test('a frozen base trained on cached features gives the same weights and validation curve as through the base', async () => {
  const source = tinySource(6);
  const pool = corners(12, 2, 8);
  const { train: tr, val } = drawSplit(pool, 6, 4, 2);
  const opts = { steps: 9, rounds: 3, lr: 0.02, batchSize: 4, seed: 5, valData: val, progress: false } as const;
  const direct = buildTransferModel(source, { strategy: 'freeze', numClasses: 2, seed: 1 });
  const hd = await train(direct, tr, opts);
  const viaCache = buildTransferModel(source, { strategy: 'freeze', numClasses: 2, seed: 1, cacheFeatures: true });
  const cacheTr = new FeatureCache(tr);
  const cacheVal = new FeatureCache(val);
  const hc = await train(headOnFeatures(viaCache), cacheTr.take(viaCache.base), { ...opts, valData: cacheVal.take(viaCache.base) });
  const a = direct.head.getWeights().map((w) => Array.from(w.dataSync()));
  const b = viaCache.head.getWeights().map((w) => Array.from(w.dataSync()));
  a.forEach((wa, i) => wa.forEach((v, j) => assert.ok(Math.abs(v - b[i][j]) < 1e-5, `weight ${i}[${j}]: ${v} vs ${b[i][j]}`)));
  hd.history.val_loss.forEach((v, i) => assert.ok(Math.abs(v - hc.history.val_loss[i]) < 1e-5));
  // and the cached head predicts as the whole model does
  assert.deepEqual(Array.from(await predict(headOnFeatures(viaCache), cacheVal.take(viaCache.base))), Array.from(await predict(viaCache, val)));
  [direct, viaCache].forEach((t) => t.dispose());
  source.dispose();
});

test('sourceAccuracy: a frozen base with the source head put back scores what the source scores on its own task', async () => {
  const source = tinySource(7);
  const sourceTest = corners(5, 4, 9);
  const own = accuracy(sourceTest.labels, await predict(source, sourceTest));
  const res = await compareOnCorners(source, [10, 3, 10], {
    strategies: ['freeze', 'finetune'],
    seeds: [1],
    budget: { steps: 3, rounds: 1 },
    lrGrid: [0.05],
    sourceTest,
    baseLrScale: 1,
  });
  assert.equal(res.rows[0].sourceAccuracy, own);
  assert.equal(typeof res.rows[1].sourceAccuracy, 'number');
  assert.equal(res.rows[1].baseLrScale, 1);
  source.dispose();
});

test('claimBetter pairs the two cells by seed and applies lib/stats\' rule (hand-computed)', () => {
  const row = (strategy: ResultRow['strategy'], seed: number, accuracy: number) => ({ strategy, m: 10, seed, cutAt: 'features', accuracy, macroF1: 0, seconds: 0, lr: 1, trainableParams: 1, sourceAccuracy: null }) as unknown as ResultRow;
  // seeds listed out of order: pairing must follow the seed, not the order
  const rows = [row('freeze', 2, 0.70), row('freeze', 1, 0.72), row('freeze', 3, 0.74), row('scratch', 3, 0.30), row('scratch', 1, 0.27), row('scratch', 2, 0.25)];
  const s = summarizeRows(rows);
  const c = claimBetter('freezing beats scratch', s.find((x) => x.strategy === 'freeze')!, s.find((x) => x.strategy === 'scratch')!);
  // per-seed differences 0.45, 0.45, 0.44: mean 0.44667, sd 0.005774, 2·SE = 0.006667 → holds
  assert.equal(c.verdict, 'holds');
  assert.match(c.note!, /\+0\.447 vs 2·SE 0\.007 \(paired by seed\)/);
  assert.equal(c.seeds, 3);
  const one = summarizeRows([row('freeze', 1, 0.7), row('scratch', 1, 0.2)]);
  assert.equal(claimBetter('x', one[0], one[1]).verdict, 'inconclusive');
  assert.match(claimBetter('x', one[0], one[1]).note!, /one seed — indicative only/);
  const mismatch = summarizeRows([row('freeze', 1, 0.7), row('freeze', 2, 0.7), row('freeze', 3, 0.7), row('scratch', 1, 0.2), row('scratch', 2, 0.2), row('scratch', 4, 0.2)]);
  assert.throws(() => claimBetter('x', mismatch[0], mismatch[1]), /seeds 1,2,3 and 1,2,4/);
});

test('compare CLI: usage mistakes exit 2 naming the flag; good flags parse', () => {
  const root = path.join(__dirname, '..', '..');
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'scripts/compare.ts', ...args], { cwd: root, encoding: 'utf8' });
  const bad: Array<[string[], RegExp]> = [
    [['--m', '5'], /--target is required/],
    [['--target', 'digits-5-9', '--m', '0x2'], /--m expects a whole number, got '0x2'/],
    [['--target', 'digits-5-9', '--m', '5', '--strategies', ''], /--strategies expects a comma-separated list/],
    [['--target', 'digits-5-9', '--m', '5', '--bogus'], /bogus/],
    [['--target', 'digits-5-9', '--m', '5', '--strategies', 'freeze,melt'], /unknown melt/],
    [['--target', 'digits-5-9', '--m', '5,10', '--cut-sweep'], /--cut-sweep takes one --m value/],
    [['--target', 'digits-5-9', '--m', '5', '--batch-norm', 'sometimes'], /one of train, frozen-stats/],
  ];
  for (const [argv, re] of bad) {
    const r = run(...argv);
    assert.equal(r.status, 2, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re, argv.join(' '));
  }
  const a = parseCompareArgs(['--target', 'digits-m-5-9', '--m', '5,10', '--seeds', '3', '--json', '--strategies', 'freeze,finetune', '--on-bad-image', 'skip', '--allow-single-class']);
  assert.deepEqual([a.m, a.seeds, a.json, a.strategies, a['on-bad-image'], a['allow-single-class']], [[5, 10], [3], true, ['freeze', 'finetune'], 'skip', true]);
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
    // One unreadable file: --on-bad-image skip leaves it out with a warning.
    fs.writeFileSync(path.join(dir, 'target', 'train', 'red', 'broken.png'), 'not an image');
    const root = path.join(__dirname, '..', '..');
    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/compare.ts', '--source', path.join(dir, 'models', 'tiny'), ...args, '--json', '--quick'], {
        cwd: root,
        encoding: 'utf8',
        env: { ...process.env, KIT_QUICK: '1' },
      });
    const res = cli('--target', path.join(dir, 'target'), '--strategies', 'scratch,freeze', '--m', '3', '--seeds', '1', '--steps', '4', '--on-bad-image', 'skip');
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stderr, /broken\.png/);
    const rows = res.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => r.strategy), ['scratch', 'freeze']);
    for (const r of rows) {
      for (const k of ['strategy', 'm', 'seed', 'accuracy', 'macroF1', 'seconds', 'steps', 'lr', 'protocol', 'protocolText', 'trainableParams']) assert.ok(k in r, `row lacks ${k}`);
      assert.equal(r.m, 3);
      assert.equal(r.steps, 4);
      assert.equal(r.testImages, 8);
      assert.equal(r.source, 'tiny');
    }
    const sweep = cli('--target', path.join(dir, 'target'), '--cut-sweep', '--strategies', 'freeze,finetune,probe', '--m', '3', '--steps', '2', '--on-bad-image', 'skip');
    assert.equal(sweep.status, 0, sweep.stderr);
    const cut = sweep.stdout.trim().split('\n').map((l) => JSON.parse(l));
    // printed as measured: cut by cut
    assert.deepEqual(cut.map((r) => `${r.strategy}@${r.cutAt}`), ['freeze@block1_pool', 'finetune@block1_pool', 'probe@block1_pool', 'freeze@features', 'finetune@features', 'probe@features']);
    for (const r of cut) for (const k of ['cutAt', 'strategy', 'seed', 'accuracy', 'trainableParams']) assert.ok(k in r, `cut-sweep row lacks ${k}`);
    // A test split with one class folder runs with --allow-single-class (the folder reader refuses it otherwise);
    // a training split needs two classes whatever the flag says.
    fs.rmSync(path.join(dir, 'target', 'val', 'blue'), { recursive: true });
    fs.rmSync(path.join(dir, 'target', 'train', 'red', 'broken.png'));
    const single = cli('--target', path.join(dir, 'target'), '--strategies', 'freeze', '--m', '3', '--steps', '2', '--allow-single-class');
    assert.equal(single.status, 0, single.stderr);
    assert.equal(JSON.parse(single.stdout.trim()).testImages, 4);
    fs.rmSync(path.join(dir, 'target', 'train', 'blue'), { recursive: true });
    const oneClass = cli('--target', path.join(dir, 'target'), '--strategies', 'freeze', '--m', '3', '--steps', '2', '--allow-single-class');
    assert.equal(oneClass.status, 1);
    assert.match(oneClass.stderr, /train.*has 1 class \(red\); a classifier needs at least two/);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/compare.ts', '--target', path.join(dir, 'nowhere'), '--m', '3', '--quick'], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /neither an embedded view .* nor a folder with train\/ and val\//);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
