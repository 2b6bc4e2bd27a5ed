import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { buildPlainCnn, saveModel, saveWeights } from '../../lib/models';
import { describeModelFolder, loadFromConfig, loadInFreshProcess, saveConfigAndWeights, ModelParams } from '../../lib/models/formats';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'kit-formats-'));
const SHAPE: [number, number, number] = [8, 8, 3];
const params: ModelParams = { builder: 'buildPlainCnn', options: { inputShape: SHAPE, numClasses: 3, filters: [4, 8], seed: 5 } };
const x = tf.randomUniform([2, ...SHAPE], 0, 1, 'float32', 9) as tf.Tensor4D;
const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]))));

test('config + weights: params.json names the builder, loadFromConfig rebuilds the same predictions; bad folders say why', async () => {
  const model = buildPlainCnn({ ...params.options, seed: 11 }); // trained weights stand-in: another seed than the config's
  const dir = tmp();
  await saveConfigAndWeights(model, params, dir);
  assert.deepEqual(describeModelFolder(dir), { kind: 'config + weights', files: ['params.json', 'weights.bin', 'weights.json'].map((file) => ({ file, bytes: fs.statSync(path.join(dir, file)).size })) });
  const back = loadFromConfig(dir);
  assert.deepEqual((back.predict(x) as tf.Tensor).arraySync(), (model.predict(x) as tf.Tensor).arraySync());
  assert.throws(() => loadFromConfig(tmp()), /no params\.json in .*saveConfigAndWeights/);
  fs.writeFileSync(path.join(dir, 'params.json'), JSON.stringify({ builder: 'buildResNet', options: {} }));
  assert.throws(() => loadFromConfig(dir), /names builder 'buildResNet'/);
  assert.throws(() => describeModelFolder(path.join(dir, 'missing')), /does not exist/);
});

test('a fresh process with only tfjs loads model.json, not weights only or config + weights; with the kit it loads the config', async () => {
  const model = buildPlainCnn({ ...params.options, seed: 12 });
  const ref = (model.predict(x) as tf.Tensor).arraySync() as number[][];
  const root = tmp();
  const [full, weights, config] = ['full', 'weights', 'config'].map((n) => path.join(root, n));
  await saveModel(model, full);
  await saveWeights(model, weights);
  await saveConfigAndWeights(model, params, config);
  assert.equal(describeModelFolder(full).kind, 'architecture + weights');
  assert.equal(describeModelFolder(weights).kind, 'weights only');
  const a = loadInFreshProcess(full, x);
  assert.ok(a.loaded, a.message);
  assert.ok(maxDiff(a.outputs!, ref) < 1e-5, 'same outputs as this process (to float32 rounding)');
  assert.ok(a.cpuSeconds > 0);
  const w = loadInFreshProcess(weights, x);
  assert.equal(w.loaded, false);
  assert.match(w.message, /weights\.json lists only names and shapes/);
  const c = loadInFreshProcess(config, x);
  assert.equal(c.loaded, false);
  assert.match(c.message, /names a builder \("buildPlainCnn"\) that is code this process does not have/);
  const ck = loadInFreshProcess(config, x, { withKit: true });
  assert.ok(ck.loaded, ck.message);
  assert.ok(maxDiff(ck.outputs!, ref) < 1e-5);
  assert.equal(fs.readdirSync(root).filter((f) => f.startsWith('input-')).length, 0, 'the input files are removed');
});
