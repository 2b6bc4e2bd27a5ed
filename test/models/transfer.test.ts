import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildPlainCnn, buildEfficientNet, buildTransferModel, extractFeatures, listBlocks, Strategy, TransferModel, ADDITIONAL_LAYERS_HEAD } from '../../lib/models';

const SHAPE: [number, number, number] = [8, 8, 3];
const source = () => buildPlainCnn({ inputShape: SHAPE, numClasses: 5, filters: [4, 8], batchNorm: true, seed: 3 });
const names = (vs: tf.LayerVariable[]) => vs.map((v) => v.originalName).sort();

/** One optimizer step on the trainable parameter groups, with `training: true` like any training loop. */
function trainStep(tm: TransferModel, x: tf.Tensor4D, y: tf.Tensor1D, lr = 0.1): void {
  const opt = tf.train.sgd(lr);
  const vars = tm.paramGroups.flatMap((g) => g.variables.map((v) => v.read() as tf.Variable));
  tf.tidy(() => {
    const { grads } = tf.variableGrads(() => {
      const p = tm.model.apply(x, { training: true }) as tf.Tensor2D;
      return tf.losses.softmaxCrossEntropy(tf.oneHot(y, 3), tf.log(p.add(1e-7)));
    }, vars);
    opt.applyGradients(grads);
  });
  opt.dispose();
}

function snapshot(m: tf.LayersModel): Map<string, Float32Array> {
  return new Map(m.weights.map((w) => [w.originalName, w.read().dataSync() as Float32Array]));
}

const x = tf.randomUniform([6, ...SHAPE], 0, 1, 'float32', 11) as tf.Tensor4D;
const y = tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32');

test('each strategy trains exactly the right variables', () => {
  const src = source();
  const baseTrainable = ['block1_conv/kernel', 'block1_bn/gamma', 'block1_bn/beta', 'block2_conv/kernel', 'block2_bn/gamma', 'block2_bn/beta'];
  const head = ['head_out/kernel', 'head_out/bias'];
  const expect: Record<Strategy, string[]> = {
    scratch: [...baseTrainable, ...head],
    freeze: head,
    finetune: [...baseTrainable, ...head],
    hybrid: [...baseTrainable.slice(3), ...head],
    'additional-layers': ['head_dense1/kernel', 'head_dense1/bias', ...head],
  };
  for (const strategy of Object.keys(expect) as Strategy[]) {
    const tm = buildTransferModel(src, { strategy, numClasses: 3, seed: 1, freezeUpTo: 'block1' });
    const got = names(tm.paramGroups.flatMap((g) => g.variables));
    assert.deepEqual(got, [...expect[strategy]].sort(), strategy);
    assert.deepEqual(names(tm.model.trainableWeights), got, `${strategy}: model.trainableWeights agree`);
    assert.equal(tm.model.getLayer('head_out').outputShape[1], 3);
    assert.ok(!tm.model.layers.some((l) => l.name === 'predictions'), 'the source output layer is removed');
    const baseGroup = tm.paramGroups.find((g) => g.name === 'base');
    if (strategy === 'finetune') assert.equal(baseGroup?.lrScale, 0.1);
    assert.match(tm.summary(), strategy === 'freeze' ? /block1_conv .* frozen/ : /head_out .* trains/);
    tm.model.dispose();
  }
  src.dispose();
});

test('the transferred base computes the source features; scratch does not', () => {
  const src = source();
  const feats = tf.model({ inputs: src.inputs, outputs: src.getLayer('features').output as tf.SymbolicTensor });
  const want = (feats.predict(x) as tf.Tensor).arraySync() as number[][];
  const tm = buildTransferModel(src, { strategy: 'finetune', numClasses: 3, seed: 1 });
  const got = (tm.base.predict(x) as tf.Tensor).arraySync() as number[][];
  assert.deepEqual(got, want);
  const cached = extractFeatures(tm.base, x, 4); // two batches: 4 + 2
  assert.deepEqual(cached.arraySync(), want);
  const sc = buildTransferModel(src, { strategy: 'scratch', numClasses: 3, seed: 1 });
  assert.notDeepEqual((sc.base.predict(x) as tf.Tensor).arraySync(), want);
  // Same seed → same scratch initialisation.
  const sc2 = buildTransferModel(src, { strategy: 'scratch', numClasses: 3, seed: 1 });
  assert.deepEqual(sc2.model.getWeights().map((w) => Array.from(w.dataSync())), sc.model.getWeights().map((w) => Array.from(w.dataSync())));
  [tm, sc, sc2].forEach((t) => t.model.dispose());
  cached.dispose();
  src.dispose();
});

test('freeze: a training step leaves every base weight (and BN statistic) bit-identical, the head moves', () => {
  const src = source();
  const tm = buildTransferModel(src, { strategy: 'freeze', numClasses: 3, seed: 1 });
  const before = snapshot(tm.model);
  const n0 = tf.memory().numTensors;
  trainStep(tm, x, y);
  trainStep(tm, x, y);
  assert.equal(tf.memory().numTensors, n0, 'no tensor leak per step');
  const after = snapshot(tm.model);
  for (const [name, v] of before) {
    const changed = !v.every((a, i) => Object.is(a, after.get(name)![i]));
    assert.equal(changed, name.startsWith('head_'), name);
  }
  // The source model itself is never touched by training a transfer model.
  tm.model.dispose();
  src.dispose();
});

test('tfjs alone updates a frozen BN layer\'s moving statistics under training: true (why the kit patches it)', () => {
  const bn = tf.layers.batchNormalization({ name: 'bn_raw' });
  const inp = tf.input({ shape: [4] });
  const m = tf.model({ inputs: inp, outputs: bn.apply(inp) as tf.SymbolicTensor });
  bn.trainable = false;
  const mean0 = Array.from(bn.getWeights()[2].dataSync());
  tf.tidy(() => {
    m.apply(tf.ones([3, 4]).mul(5), { training: true });
  });
  assert.notDeepEqual(Array.from(bn.getWeights()[2].dataSync()), mean0, 'if this fails, tfjs now keeps frozen BN in inference mode');
  m.dispose();
});

test('finetune: frozen-nothing BN does update its statistics; hybrid freezes exactly the first k blocks', () => {
  const src = source();
  const ft = buildTransferModel(src, { strategy: 'finetune', numClasses: 3, seed: 1 });
  const b0 = snapshot(ft.model);
  trainStep(ft, x, y);
  const b1 = snapshot(ft.model);
  assert.notDeepEqual(b1.get('block1_bn/moving_mean'), b0.get('block1_bn/moving_mean'));
  const hy = buildTransferModel(src, { strategy: 'hybrid', numClasses: 3, seed: 1, freezeUpTo: 1 });
  assert.deepEqual(hy.frozenLayers, ['block1_conv', 'block1_bn', 'block1_relu', 'block1_pool']);
  const h0 = snapshot(hy.model);
  trainStep(hy, x, y);
  const h1 = snapshot(hy.model);
  for (const [name, v] of h0) {
    const same = v.every((a, i) => Object.is(a, h1.get(name)![i]));
    assert.equal(same, name.startsWith('block1_'), name);
  }
  [ft, hy].forEach((t) => t.model.dispose());
  src.dispose();
});

test('building and disposing a transfer model leaves no tensor behind', () => {
  const src = source();
  const n0 = tf.memory().numTensors;
  for (const strategy of ['scratch', 'freeze', 'finetune', 'hybrid', 'additional-layers'] as Strategy[]) {
    const tm = buildTransferModel(src, { strategy, numClasses: 3, seed: 1, head: { hidden: [4], dropout: 0.1 }, cutAt: 'block1_pool' });
    tm.dispose();
    assert.equal(tf.memory().numTensors, n0, strategy);
  }
  src.dispose();
});

test('cut at another layer: 4-D cuts are pooled, errors name the layer list', () => {
  const src = source();
  const tm = buildTransferModel(src, { strategy: 'freeze', numClasses: 3, seed: 1, cutAt: 'block1_pool' });
  assert.deepEqual(tm.base.outputs[0].shape, [null, 4]);
  const byIndex = buildTransferModel(src, { strategy: 'freeze', numClasses: 3, seed: 1, cutAt: src.layers.findIndex((l) => l.name === 'block1_pool') });
  assert.equal(byIndex.cutAt, 'block1_pool');
  assert.throws(() => buildTransferModel(src, { strategy: 'freeze', numClasses: 3, seed: 1, cutAt: 'nope' }), /no layer 'nope'.*block1_conv/);
  assert.throws(() => buildTransferModel(src, { strategy: 'hybrid', numClasses: 3, seed: 1, freezeUpTo: 'blockX' }), /neither a block/);
  [tm, byIndex].forEach((t) => t.model.dispose());
  src.dispose();
});

test('EfficientNet source: hybrid freezes stem + block1, frozen BN stays in inference mode', () => {
  const src = buildEfficientNet({ phi: 0, numClasses: 5, seed: 2, inputShape: [16, 16, 3] });
  const tm = buildTransferModel(src, { strategy: 'hybrid', numClasses: 3, seed: 1, freezeUpTo: 'block1', head: { hidden: [8], dropout: 0.2 } });
  assert.deepEqual(listBlocks(tm.base).slice(0, 3), ['stem', 'block1', 'block2']);
  assert.ok(tm.frozenLayers.every((n) => n.startsWith('stem') || n.startsWith('block1')));
  assert.ok(tm.frozenLayers.includes('block1a_project_bn'));
  const xs = tf.randomUniform([4, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const before = snapshot(tm.model);
  trainStep(tm, xs, tf.tensor1d([0, 1, 2, 0], 'int32'));
  const after = snapshot(tm.model);
  for (const [name, v] of before) {
    const same = v.every((a, i) => Object.is(a, after.get(name)![i]));
    if (name.startsWith('stem') || name.startsWith('block1')) assert.ok(same, `${name} frozen`);
  }
  assert.ok(!before.get('block2a_bn/moving_mean')!.every((a, i) => a === after.get('block2a_bn/moving_mean')![i]), 'trainable BN updates');
  tm.model.dispose();
  src.dispose();
  xs.dispose();
});

/** A source whose every weight differs from any initialisation (as a trained one does): seeded noise on top. */
function trainedLookingSource(): tf.LayersModel {
  const src = buildPlainCnn({ inputShape: SHAPE, numClasses: 5, filters: [4, 8, 8], seed: 3 });
  src.setWeights(src.getWeights().map((w, i) => tf.tidy(() => tf.add(w, tf.randomNormal(w.shape, 0, 0.3, 'float32', 100 + i)))));
  return src;
}
const values = (m: tf.LayersModel, layer: string) => m.getLayer(layer).getWeights().map((w) => Array.from(w.dataSync()));
const same = (a: number[][], b: number[][]) => a.length === b.length && a.every((w, i) => w.every((v, j) => Object.is(v, b[i][j])));

test('AnB / AnB+ (copyUpTo): the first k blocks copied weight for weight, the blocks above re-initialised, frozen or fine-tuned as named', () => {
  const src = trainedLookingSource();
  for (const strategy of ['freeze', 'finetune'] as const) {
    const tm = buildTransferModel(src, { strategy, numClasses: 3, seed: 4, copyUpTo: 'block1' });
    // copied: block1_conv equals the source exactly; re-initialised: block2/3 differ from the source,
    // their biases are the initializer's zeros and the kernels have He-normal scale sqrt(2 / fan-in)
    assert.ok(same(values(tm.model, 'block1_conv'), values(src, 'block1_conv')), `${strategy}: block1 copied`);
    for (const [layer, fanIn] of [['block2_conv', 9 * 4], ['block3_conv', 9 * 8]] as const) {
      const [kernel, bias] = values(tm.model, layer);
      assert.ok(!same(values(tm.model, layer), values(src, layer)), `${strategy}: ${layer} re-initialised`);
      assert.ok(bias.every((v) => v === 0), `${layer} bias re-initialised to zeros`);
      const sd = Math.sqrt(kernel.reduce((s, v) => s + v * v, 0) / kernel.length);
      assert.ok(Math.abs(sd / Math.sqrt(2 / fanIn) - 1) < 0.35, `${layer} kernel scale ${sd}`);
    }
    assert.deepEqual(tm.copiedLayers, ['block1_conv']);
    assert.deepEqual(tm.reinitLayers, ['block2_conv', 'block3_conv']);
    assert.deepEqual(tm.frozenLayers, strategy === 'freeze' ? ['block1_conv', 'block1_pool'] : []);
    const groups = Object.fromEntries(tm.paramGroups.map((g) => [g.name, { names: names(g.variables), lrScale: g.lrScale }]));
    assert.deepEqual(groups.reinit, { names: ['block2_conv/bias', 'block2_conv/kernel', 'block3_conv/bias', 'block3_conv/kernel'], lrScale: 1 });
    assert.deepEqual(groups.base, strategy === 'finetune' ? { names: ['block1_conv/bias', 'block1_conv/kernel'], lrScale: 0.1 } : undefined);
    // one step: AnB leaves the copied block bit-identical, AnB+ moves it; the re-initialised blocks move in both
    const before = snapshot(tm.model);
    trainStep(tm, x, y);
    const after = snapshot(tm.model);
    const moved = (n: string) => !before.get(n)!.every((v, i) => Object.is(v, after.get(n)![i]));
    assert.equal(moved('block1_conv/kernel'), strategy === 'finetune', `${strategy}: block1`);
    assert.ok(moved('block2_conv/kernel') && moved('block3_conv/kernel') && moved('head_out/kernel'));
    assert.match(tm.summary(), /block2_conv .* trains lr×1 \(re-initialised\)/);
    tm.dispose();
  }
  // same seed → the same re-initialisation; another seed → another one; copyUpTo 0 copies nothing
  const a = buildTransferModel(src, { strategy: 'freeze', numClasses: 3, seed: 4, copyUpTo: 'block1_pool' });
  const b = buildTransferModel(src, { strategy: 'freeze', numClasses: 3, seed: 4, copyUpTo: 1 });
  const c = buildTransferModel(src, { strategy: 'freeze', numClasses: 3, seed: 5, copyUpTo: 1 });
  assert.ok(same(values(a.model, 'block2_conv'), values(b.model, 'block2_conv')));
  assert.ok(!same(values(a.model, 'block2_conv'), values(c.model, 'block2_conv')));
  const none = buildTransferModel(src, { strategy: 'finetune', numClasses: 3, seed: 4, copyUpTo: 0 });
  assert.deepEqual([none.copiedLayers, none.reinitLayers.length], [[], 3]);
  // without copyUpTo every base layer is copied (plain freeze / finetune)
  const whole = buildTransferModel(src, { strategy: 'freeze', numClasses: 3, seed: 4 });
  assert.deepEqual([whole.reinitLayers, whole.trainableParams], [[], 8 * 3 + 3]);
  assert.throws(() => buildTransferModel(src, { strategy: 'finetune', numClasses: 3, seed: 4, cacheFeatures: true }), /cacheFeatures needs a fully frozen base/);
  [a, b, c, none, whole].forEach((t) => t.dispose());
  src.dispose();
});

test("batchNorm 'frozen-stats' keeps the moving statistics while gamma/beta train; 'train' updates them (the PyTorch/tfjs default)", () => {
  const src = source();
  const stats = (m: Map<string, Float32Array>) => [...m].filter(([n]) => /moving_(mean|variance)/.test(n));
  for (const mode of ['frozen-stats', 'train'] as const) {
    const tm = buildTransferModel(src, { strategy: 'finetune', numClasses: 3, seed: 1, batchNorm: mode });
    assert.equal(tm.batchNorm, mode);
    const before = snapshot(tm.model);
    trainStep(tm, x, y);
    const after = snapshot(tm.model);
    for (const [n, v] of stats(before)) {
      const unchanged = v.every((a, i) => Object.is(a, after.get(n)![i]));
      assert.equal(unchanged, mode === 'frozen-stats', `${mode}: ${n}`);
    }
    assert.ok(!before.get('block1_bn/gamma')!.every((a, i) => a === after.get('block1_bn/gamma')![i]), `${mode}: gamma trains`);
    // frozen-stats: training and inference mode compute the same function
    const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(tm.model.apply(x, { training: true }) as tf.Tensor, tm.model.apply(x, { training: false }) as tf.Tensor))).dataSync()[0]);
    if (mode === 'frozen-stats') assert.equal(gap, 0);
    else assert.ok(gap > 1e-4, `train mode differs from inference (${gap})`);
    tm.dispose();
  }
  assert.throws(() => buildTransferModel(src, { strategy: 'finetune', numClasses: 3, seed: 1, batchNorm: 'sometimes' as 'train' }), /batchNorm: expected one of train, frozen-stats/);
  src.dispose();
});

test("'additional-layers' attaches an MLP head (ADDITIONAL_LAYERS_HEAD) on the frozen base and trains it on cached features", () => {
  const src = source();
  const tm = buildTransferModel(src, { strategy: 'additional-layers', numClasses: 3, seed: 1 });
  assert.equal(tm.cacheFeatures, true);
  assert.equal(tm.head.getLayer('head_dense1').getConfig().units, ADDITIONAL_LAYERS_HEAD.hidden[0]);
  assert.equal(tm.trainableParams, 8 * 64 + 64 + 64 * 3 + 3);
  tm.dispose();
  src.dispose();
});
