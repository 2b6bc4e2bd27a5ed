import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'crypto';
import { modelsDir } from '../../lib/config';
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

/** A copy of a shipped source model in a temporary folder (to damage). */
function shippedCopy(name = 'digits-0-4'): string {
  const dir = tmp();
  fs.cpSync(path.join(modelsDir(), name), path.join(dir, name), { recursive: true });
  return dir;
}
const sha = (file: string) => createHash('sha256').update(fs.readFileSync(file)).digest('hex');

test('shipped models carry the SHA-256 of their weights.bin in meta.json', () => {
  const names = listSourceModels();
  assert.ok(names.length >= 3);
  for (const n of names) {
    const meta = JSON.parse(fs.readFileSync(path.join(modelsDir(), n, 'meta.json'), 'utf8'));
    assert.equal(meta.weightsSha256, sha(path.join(modelsDir(), n, 'weights.bin')), n);
  }
});

test('weights.bin of the right size but garbage: refused at load, naming the file and the recorded hash', async () => {
  const dir = shippedCopy();
  try {
    const bin = path.join(dir, 'digits-0-4', 'weights.bin');
    const size = fs.statSync(bin).size;
    fs.writeFileSync(bin, Buffer.from(Array.from({ length: size }, (_, i) => (i * 7919 + 13) % 251)));
    await assert.rejects(loadSourceModel('digits-0-4', dir), /weights\.bin: its SHA-256 is [0-9a-f]{16}…, but .*meta\.json \(weightsSha256\) records 305a969cbf28b728….*corrupt/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('NaN weights, or finite weights whose outputs are NaN on a probe batch, are refused before training (even with a matching hash)', async () => {
  const dir = shippedCopy();
  try {
    const folder = path.join(dir, 'digits-0-4');
    const bin = path.join(folder, 'weights.bin');
    const original = fs.readFileSync(bin);
    const withWeights = (bytes: Buffer) => {
      fs.writeFileSync(bin, bytes);
      const meta = JSON.parse(fs.readFileSync(path.join(folder, 'meta.json'), 'utf8'));
      meta.weightsSha256 = sha(bin); // as if a diverged training had been saved
      fs.writeFileSync(path.join(folder, 'meta.json'), JSON.stringify(meta));
    };
    withWeights(Buffer.alloc(original.length, 0xff)); // every float NaN
    await assert.rejects(loadSourceModel('digits-0-4', dir), /digits-0-4: weight 'block1_conv\/kernel' holds NaN at index 0: the weights are broken/);
    // Finite but huge output weights (predictions/kernel, 128×5 floats at byte 389760): logits overflow, softmax gives NaN.
    const huge = Buffer.from(original);
    for (let i = 0; i < 640; i++) huge.writeFloatLE(3e38, 389760 + 4 * i);
    withWeights(huge);
    const before = tf.memory().numTensors;
    await assert.rejects(loadSourceModel('digits-0-4', dir), /digits-0-4: the model's outputs are not finite \(\d+ NaN or infinite values on a probe batch of two images\).*Refused before any training/);
    assert.equal(tf.memory().numTensors, before, 'the refused model is disposed');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('model.json and meta.json are validated: errors name the file and the field', async () => {
  const dir = shippedCopy();
  try {
    const folder = path.join(dir, 'digits-0-4');
    const modelJson = fs.readFileSync(path.join(folder, 'model.json'), 'utf8');
    const metaJson = fs.readFileSync(path.join(folder, 'meta.json'), 'utf8');
    const withModel = async (text: string, re: RegExp) => {
      fs.writeFileSync(path.join(folder, 'model.json'), text);
      await assert.rejects(loadModel(folder), re);
      fs.writeFileSync(path.join(folder, 'model.json'), modelJson);
    };
    await withModel('null', /model\.json: expected a JSON object \(the TF\.js model format\), got null/);
    await withModel('{}', /model\.json: field 'modelTopology' must be an object .*got nothing \(the field is missing\)/);
    const m = JSON.parse(modelJson);
    await withModel(JSON.stringify({ ...m, weightsManifest: [{ paths: './weights.bin', weights: [] }] }), /field 'weightsManifest\[0\]\.paths' must be a non-empty list of file names, got "\.\/weights\.bin"/);
    m.weightsManifest[0].weights[1].shape = [3, -1];
    await withModel(JSON.stringify(m), /field 'weightsManifest\[0\]\.weights\[1\]\.shape' must be a list of whole numbers ≥ 0, got \[3,-1\]/);
    const withMeta = async (meta: unknown, re: RegExp) => {
      fs.writeFileSync(path.join(folder, 'meta.json'), JSON.stringify(meta));
      await assert.rejects(loadSourceModel('digits-0-4', dir), re);
    };
    const meta = JSON.parse(metaJson);
    await withMeta({}, /meta\.json: field 'name' must be the model name \(a non-empty string\), got nothing/);
    await withMeta(null, /meta\.json: expected a JSON object, got null/);
    await withMeta({ ...meta, inputShape: [32, 32] }, /field 'inputShape' must be \[height, width, channels\]/);
    await withMeta({ ...meta, weightsSha256: undefined }, /field 'weightsSha256' must be the SHA-256 of weights\.bin/);
    await withMeta({ ...meta, classes: ['0', '1', '2'] }, /field 'classes' lists 3 classes but the model has 5 outputs/);
    fs.writeFileSync(path.join(folder, 'meta.json'), metaJson);
    const ok = await loadSourceModel('digits-0-4', dir);
    ok.model.dispose();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('saveModel and saveWeights record the weights\' SHA-256; one changed byte is caught when loading', async () => {
  const dir = tmp();
  const m = buildPlainCnn({ inputShape: SHAPE, numClasses: 4, filters: [4], seed: 1 });
  try {
    await saveModel(m, path.join(dir, 'full'));
    await saveWeights(m, path.join(dir, 'weights'));
    for (const [sub, file] of [['full', 'model.json'], ['weights', 'weights.json']]) {
      assert.equal(JSON.parse(fs.readFileSync(path.join(dir, sub, file), 'utf8')).weightsSha256, sha(path.join(dir, sub, 'weights.bin')));
      const bin = path.join(dir, sub, 'weights.bin');
      const bytes = fs.readFileSync(bin);
      bytes[17] ^= 0x40;
      fs.writeFileSync(bin, bytes);
    }
    await assert.rejects(loadModel(path.join(dir, 'full')), /full\/weights\.bin: its SHA-256 is .* but .*full\/model\.json records/);
    const again = buildPlainCnn({ inputShape: SHAPE, numClasses: 4, filters: [4], seed: 2 });
    assert.throws(() => loadWeightsInto(again, path.join(dir, 'weights')), /weights\/weights\.bin: its SHA-256 is .* but .*weights\.json records/);
    fs.writeFileSync(path.join(dir, 'weights', 'weights.json'), 'null');
    assert.throws(() => loadWeightsInto(again, path.join(dir, 'weights')), /weights\.json: field 'weights' must be a list/);
    again.dispose();
  } finally {
    m.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
