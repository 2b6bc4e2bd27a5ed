import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { buildPlainCnn, saveModel, loadModel } from '../../lib/models';
import type { BackboneSpec, ModelLocation } from '../../lib/models/published';
import { runLecturePractical, type PracticalOptions } from '../../lib/train/practical';
import { f1Score, accuracy } from '../../lib/train/metrics';
import { FakeHosts } from '../data/fetch-hosts';
import { buildTinyMobileNetV1 } from '../models/tiny-mobilenet';
import { rmTmp, tmpDir, writeImage } from '../data/helpers';

const hosts = new FakeHosts();
const dir = tmpDir('kit-practical-');
const photos = path.join(dir, 'photos');
const quiet = { progressBar: false, log: () => undefined, retryDelayMs: 0 } as const;
let cnn: tf.LayersModel;

const spec = (loc: ModelLocation): BackboneSpec => ({
  description: 'tiny test backbone', inputSize: 16, features: 8, blockPattern: /^block(\d+)_/, locations: [loc],
  url: loc.url, format: loc.format, range: loc.range, cutAt: loc.cutAt,
});

before(async () => {
  await hosts.start();
  // a photo folder like hymenoptera_data: train/ and val/, two classes that differ in colour pattern
  for (const [split, n] of [['train', 10], ['val', 4]] as const)
    for (const [k, cls] of ['ants', 'bees'].entries())
      for (let i = 0; i < n; i++) await writeImage(path.join(photos, split, cls, `${i}.jpg`), 20, 18, k * 50 + i);
  cnn = buildPlainCnn({ inputShape: [16, 16, 3], numClasses: 4, filters: [4, 8], batchNorm: true, seed: 3 });
  const modelDir = path.join(dir, 'model');
  await saveModel(cnn, modelDir);
  for (const f of fs.readdirSync(modelDir)) hosts.files.set(`/cnn/${f}`, fs.readFileSync(path.join(modelDir, f)));
  writeGraph();
});
after(async () => {
  await hosts.stop();
  cnn.dispose();
  rmTmp(dir);
});

/** The smallest converted graph: images → mean over space (2 → 3 features through a 1×1 conv). */
function writeGraph(): void {
  const shape = (d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
  const json = {
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'images', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: shape([-1, 16, 16, 3]) } } },
        { name: 'w', op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shape([1, 1, 3, 3]) } }, dtype: { type: 'DT_FLOAT' } } },
        {
          name: 'conv', op: 'Conv2D', input: ['images', 'w'],
          attr: { T: { type: 'DT_FLOAT' }, strides: { list: { i: ['1', '1', '1', '1'] } }, dilations: { list: { i: ['1', '1', '1', '1'] } }, padding: { s: Buffer.from('SAME').toString('base64') }, data_format: { s: Buffer.from('NHWC').toString('base64') } },
        },
      ],
      versions: { producer: 1 },
    },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [1, 1, 3, 3], dtype: 'float32' }] }],
  };
  hosts.files.set('/graph/model.json', Buffer.from(JSON.stringify(json)));
  hosts.files.set('/graph/group1-shard1of1.bin', Buffer.from(new Float32Array([1, 0, 0, 0, 1, 0, 0, 0, 1]).buffer));
}

/** The practical on the photo folder with the tiny layers backbone at `loc`: batch 4, lr 0.01, the top block fine-tuned. */
function tinyPractical(loc: ModelLocation, opts: Partial<PracticalOptions>) {
  return runLecturePractical({
    folder: photos,
    backbone: { ...quiet, name: 'tiny', spec: spec(loc), dir: path.join(dir, 'cache') },
    fineTuneBlocks: 1,
    batchSize: 4,
    lr: 1e-2,
    progress: false,
    ...opts,
  });
}

test('the lecture flow on a photo folder: head on the frozen base, then the top block fine-tuned with BN in inference mode', async () => {
  const loc: ModelLocation = { id: 'bucket', label: 'bucket', url: `${hosts.base}/hub/cnn/model.json?tfjs-format=file`, format: 'layers', range: '[-1,1]', cutAt: 'block2_relu' };
  const checkpoint = path.join(dir, 'best');
  const before = tf.memory().numTensors;
  const r = await tinyPractical(loc, { headEpochs: 3, fineTuneEpochs: 2, checkpointDir: checkpoint });
  assert.deepEqual(r.classes, ['ants', 'bees']);
  assert.deepEqual(r.images, { train: 16, val: 4, test: 8 });
  assert.equal(r.head.epochs.length, 3);
  assert.equal(r.fineTune?.epochs.length, 2);
  assert.ok(['head', 'fine-tuned'].includes(r.kept));
  // fine-tuning trained block2's conv, never block1's, and no batch-norm statistic or γ/β moved
  const m = r.model.model;
  const same = (layer: string) => m.getLayer(layer).getWeights().every((w, i) => tf.tidy(() => w.sub(cnn.getLayer(layer).getWeights()[i]).abs().max().dataSync()[0]) === 0);
  assert.ok(same('block1_conv'), 'block1 stays frozen');
  for (const bn of ['block1_bn', 'block2_bn']) assert.ok(same(bn), `${bn}: statistics and γ/β unchanged`);
  if (r.kept === 'fine-tuned') assert.ok(!same('block2_conv'), 'the top block was fine-tuned');
  // the metrics are the lecture's, computed on val/ (the test images)
  assert.equal(r.test.macroF1, f1Score(r.test.yTrue, r.test.yPred, { average: 'macro', numClasses: 2, zeroDivision: 0 }));
  assert.equal(r.test.accuracy, accuracy(r.test.yTrue, r.test.yPred));
  assert.match(r.test.report.text, /ants[\s\S]*bees[\s\S]*macro avg/);
  // the kept checkpoint reloads with the same predictions
  const back = await loadModel(checkpoint);
  const x = tf.randomUniform([2, 16, 16, 3], 0, 1, 'float32', 1);
  assert.ok(tf.tidy(() => (back.predict(x) as tf.Tensor).sub(m.predict(x) as tf.Tensor).abs().max().dataSync()[0]) < 1e-6);
  tf.dispose(x);
  back.dispose();
  r.model.dispose();
  r.sourceModel.dispose();
  assert.ok(tf.memory().numTensors - before <= 2, `leaked ${tf.memory().numTensors - before} tensors`);
});

test('when fine-tuning validates worse, the head-only checkpoint is kept (weights restored by variable)', async () => {
  const loc: ModelLocation = { id: 'bucket', label: 'bucket', url: `${hosts.base}/bucket/cnn/model.json`, format: 'layers', range: '[-1,1]', cutAt: 'block2_relu' };
  const r = await tinyPractical(loc, { headEpochs: 2, fineTuneEpochs: 1, fineTuneLr: 50 }); // fineTuneLr 50 ruins the fine-tuned weights on purpose
  assert.equal(r.kept, 'head');
  const m = r.model.model;
  for (const layer of ['block1_conv', 'block2_conv', 'block2_bn']) {
    const diff = m.getLayer(layer).getWeights().map((w, i) => tf.tidy(() => w.sub(cnn.getLayer(layer).getWeights()[i]).abs().max().dataSync()[0]));
    assert.ok(diff.every((d) => d === 0), `${layer} back to the source weights`);
  }
  r.model.dispose();
  r.sourceModel.dispose();
});

test('a graph backbone: the head only, and the result says why fine-tuning was skipped', async () => {
  const loc: ModelLocation = { id: 'bucket', label: 'tfjs-models bucket', url: `${hosts.base}/bucket/graph/model.json`, format: 'graph', range: '[0,1]', cutAt: 'conv' };
  const r = await runLecturePractical({
    folder: photos,
    backbone: { ...quiet, name: 'tinygraph', spec: { ...spec(loc), features: 3, blockPattern: undefined }, dir: path.join(dir, 'cache') },
    headEpochs: 2,
    batchSize: 4,
    checkpointDir: path.join(dir, 'no-checkpoint'),
    progress: false,
  });
  assert.equal(r.fineTune, null);
  assert.equal(r.kept, 'head');
  assert.match(r.fineTuneSkipped!, /tinygraph was loaded as a graph model \(tfjs-models bucket\): TF\.js cannot train its weights, so only the head was trained/);
  assert.equal(r.checkpoint, undefined);
  assert.equal(r.test.yPred.length, 8);
  r.model.dispose();
  r.sourceModel.dispose();
});

test('the real mobilenet_v1 spec, served by a classroom mirror (KIT_MIRROR) with a MobileNet-shaped stand-in, fine-tunes blocks 12–13', async () => {
  const m = buildTinyMobileNetV1(32);
  const md = path.join(dir, 'tiny-mobilenet');
  await saveModel(m, md);
  m.dispose();
  for (const f of fs.readdirSync(md)) hosts.files.set(`/classroom/backbones/mobilenet_v1/tfjs-models/${f}`, fs.readFileSync(path.join(md, f)));
  process.env.KIT_MIRROR = `${hosts.base}/bucket/classroom`;
  process.env.KIT_ONLY_HOSTS = '127.0.0.1'; // the public locations after the mirror are never contacted
  hosts.requests.length = 0;
  try {
    const r = await runLecturePractical({ folder: photos, backbone: { ...quiet, name: 'mobilenet_v1', dir: path.join(dir, 'cache') }, headEpochs: 1, fineTuneEpochs: 1, batchSize: 8, progress: false });
    assert.equal(r.source.format, 'layers');
    assert.match(r.source.url, /\/bucket\/classroom\/backbones\/mobilenet_v1\/tfjs-models\/model\.json$/);
    assert.deepEqual(hosts.requests.map((q) => q.url), ['/bucket/classroom/backbones/mobilenet_v1/tfjs-models/model.json', '/bucket/classroom/backbones/mobilenet_v1/tfjs-models/weights.bin']);
    const ft = r.sourceModel.topBlockLayers(2);
    assert.deepEqual(ft.filter((n) => !n.endsWith('_bn')), ['conv_dw_12', 'conv_dw_12_relu', 'conv_pw_12', 'conv_pw_12_relu', 'conv_dw_13', 'conv_dw_13_relu', 'conv_pw_13', 'conv_pw_13_relu']);
    assert.equal(r.fineTune?.epochs.length, 1);
    r.model.dispose();
    r.sourceModel.dispose();
  } finally {
    delete process.env.KIT_MIRROR;
    delete process.env.KIT_ONLY_HOSTS;
  }
});
