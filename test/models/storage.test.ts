import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import {
  buildPlainCnn, saveModel, loadModel, saveWeights, loadWeightsInto,
  saveSourceModel, loadSourceModel, listSourceModels, SourceMeta,
} from '../../lib/models';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'kit-models-'));
const SHAPE: [number, number, number] = [8, 8, 3];
const x = tf.randomUniform([3, ...SHAPE], 0, 1, 'float32', 4) as tf.Tensor4D;
const predict = (m: tf.LayersModel) => (m.predict(x) as tf.Tensor).arraySync();

test('architecture + weights round trip (model.json + weights.bin): same predictions', async () => {
  const dir = tmp();
  const m = buildPlainCnn({ inputShape: SHAPE, numClasses: 4, filters: [4, 8], batchNorm: true, seed: 1 });
  await saveModel(m, dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['model.json', 'weights.bin']);
  const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
  assert.equal(json.format, 'layers-model');
  assert.deepEqual(json.weightsManifest[0].paths, ['./weights.bin']);
  const back = await loadModel(dir);
  assert.deepEqual(predict(back), predict(m));
  assert.deepEqual(back.layers.map((l) => l.name), m.layers.map((l) => l.name));
  // Truncated weights are reported with the folder.
  fs.writeFileSync(path.join(dir, 'weights.bin'), Buffer.alloc(10));
  await assert.rejects(loadModel(dir), /weights hold 10 bytes/);
  await assert.rejects(loadModel(path.join(dir, 'nope')), /no model\.json in .*nope/);
  [m, back].forEach((k) => k.dispose());
});

test('weights only: reload into the re-declared architecture; a different architecture fails naming the first mismatch', async () => {
  const dir = tmp();
  const m = buildPlainCnn({ inputShape: SHAPE, numClasses: 4, filters: [4, 8], seed: 1 });
  await saveWeights(m, dir);
  assert.deepEqual(fs.readdirSync(dir).sort(), ['weights.bin', 'weights.json']);
  const again = buildPlainCnn({ inputShape: SHAPE, numClasses: 4, filters: [4, 8], seed: 99 });
  assert.notDeepEqual(predict(again), predict(m));
  loadWeightsInto(again, dir);
  assert.deepEqual(predict(again), predict(m));
  const wider = buildPlainCnn({ inputShape: SHAPE, numClasses: 4, filters: [4, 16], seed: 1 });
  assert.throws(() => loadWeightsInto(wider, dir), /weight #2 .*'block2_conv\/kernel', shape \[3,3,4,8\].*'block2_conv\/kernel'.*shape \[3,3,4,16\]/);
  const deeper = buildPlainCnn({ inputShape: SHAPE, numClasses: 4, filters: [4, 8, 8], seed: 1 });
  assert.throws(() => loadWeightsInto(deeper, dir), /weight #4 .*\('predictions\/kernel', shape \[8,4\]\) does not fit 'block3_conv\/kernel' .*\(shape \[3,3,8,8\]\)/);
  const fewer = buildPlainCnn({ inputShape: SHAPE, numClasses: 4, filters: [4], seed: 1 });
  assert.throws(() => loadWeightsInto(fewer, dir), /weight #2|holds 6 weights but/);
  [m, again, wider, deeper, fewer].forEach((k) => k.dispose());
});

test('weight count mismatch is named', async () => {
  const dir = tmp();
  const m = buildPlainCnn({ inputShape: SHAPE, numClasses: 4, filters: [4], seed: 1 });
  await saveWeights(m, dir);
  // The same prefix of weights plus one more layer: shapes agree on the prefix, the count does not.
  const inp = tf.input({ shape: SHAPE });
  const conv = tf.layers.conv2d({ filters: 4, kernelSize: 3, padding: 'same', name: 'block1_conv' }).apply(inp) as tf.SymbolicTensor;
  const g = tf.layers.globalAveragePooling2d({}).apply(conv) as tf.SymbolicTensor;
  const d = tf.layers.dense({ units: 4, name: 'predictions' }).apply(g) as tf.SymbolicTensor;
  const extra = tf.layers.dense({ units: 2, name: 'extra' }).apply(d) as tf.SymbolicTensor;
  const bigger = tf.model({ inputs: inp, outputs: extra });
  assert.throws(() => loadWeightsInto(bigger, dir), /holds 4 weights but model .* has 6 \(first weight without a saved value: 'extra\/kernel'\)/);
  [m, bigger].forEach((k) => k.dispose());
});

test('source models: save with meta, load by name, clear errors', async () => {
  const dir = tmp();
  const m = buildPlainCnn({ inputShape: SHAPE, numClasses: 2, filters: [4], seed: 1 });
  const meta = { name: 'tiny', dataset: 'digits-0-4', classes: ['0', '1'], inputShape: SHAPE } as SourceMeta;
  await saveSourceModel(m, meta, dir);
  assert.deepEqual(listSourceModels(dir), ['tiny']);
  const src = await loadSourceModel('tiny', dir);
  assert.deepEqual(src.meta.classes, ['0', '1']);
  assert.deepEqual(predict(src.model), predict(m));
  await assert.rejects(loadSourceModel('nope', dir), /no source model 'nope' at .*nope \(available: tiny/);
  fs.writeFileSync(path.join(dir, 'tiny', 'meta.json'), '{oops');
  await assert.rejects(loadSourceModel('tiny', dir), /meta\.json is not valid JSON/);
  [m, src.model].forEach((k) => k.dispose());
});

// Published backbones (download, fallbacks, cache, graph and layers models): test/models/published.test.ts.
