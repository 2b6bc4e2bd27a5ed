import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { compareWithShipped, pretrainSources } from '../../lib/train/pretrain';
import { modelsDir } from '../../lib/config';
import { buildTransferModel, loadSourceModel } from '../../lib/models';

test('pretrain --quick: writes model.json + weights.bin + meta.json; the same seed reproduces the weights', async () => {
  const outs = [0, 1].map(() => fs.mkdtempSync(path.join(os.tmpdir(), 'kit-pretrain-test-')));
  const runs = [];
  for (const out of outs) runs.push(await pretrainSources({ quick: true, only: ['digits-0-4'], seed: 5, out, log: () => {} }));
  const dir = (o: string) => path.join(o, 'digits-0-4');
  assert.deepEqual(fs.readdirSync(dir(outs[0])).sort(), ['meta.json', 'model.json', 'weights.bin']);
  assert.ok(fs.readFileSync(path.join(dir(outs[0]), 'weights.bin')).equals(fs.readFileSync(path.join(dir(outs[1]), 'weights.bin'))), 'same seed, same weights');
  const meta = runs[0].metas[0];
  assert.deepEqual(meta.classes, ['0', '1', '2', '3', '4']);
  assert.deepEqual(meta.inputShape, [32, 32, 3]);
  assert.equal(meta.seed, 5);
  assert.ok(meta.valAccuracy >= 0 && meta.valAccuracy <= 1);
  const src = await loadSourceModel('digits-0-4', outs[0]);
  const tm = buildTransferModel(src, { strategy: 'freeze', numClasses: 5, seed: 1 });
  assert.deepEqual(tm.base.outputs[0].shape, [null, 128]);
  tm.model.dispose();
  src.model.dispose();
  await assert.rejects(pretrainSources({ quick: true, only: ['nope'], out: outs[0], log: () => {} }), /unknown source nope/);
  assert.ok(tf.memory().numTensors < 50);
});

test('pretrain --check compares retrained weights with the shipped ones byte for byte', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-check-'));
  try {
    fs.mkdirSync(path.join(out, 'digits-0-4'));
    const shipped = fs.readFileSync(path.join(modelsDir(), 'digits-0-4', 'weights.bin'));
    fs.writeFileSync(path.join(out, 'digits-0-4', 'weights.bin'), shipped);
    assert.deepEqual(compareWithShipped(out, ['digits-0-4']), [{ name: 'digits-0-4', identical: true }]);
    shipped[1000] ^= 1; // one bit of one weight
    fs.writeFileSync(path.join(out, 'digits-0-4', 'weights.bin'), shipped);
    assert.deepEqual(compareWithShipped(out, ['digits-0-4']), [{ name: 'digits-0-4', identical: false }]);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
});
