import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { buildAutoencoder, buildClassifier, trainDenoisingAutoencoder, trainFullBatch } from '../../lib/models/autoencoder';

const x = tf.randomUniform([64, 16], 0, 1, 'float32', 3) as tf.Tensor2D;

test('buildAutoencoder mirrors the encoder; training lowers the reconstruction loss and repeats exactly for a seed', async () => {
  const ae = buildAutoencoder({ inputSize: 16, hidden: [8, 4], seed: 1 });
  assert.deepEqual(ae.encoder.layers.map((l) => (l.outputShape as number[])[1]), [8, 4]);
  assert.deepEqual(ae.decoder.layers.map((l) => (l.outputShape as number[])[1]), [8, 16]);
  const opts = { epochs: 8, batchSize: 16, maskFraction: 0.3, lr: 1e-2, seed: 2 };
  const losses = await trainDenoisingAutoencoder(ae, x, opts);
  assert.equal(losses.length, 8);
  assert.ok(losses[7] < losses[0], `loss ${losses[0]} → ${losses[7]}`);
  const again = await trainDenoisingAutoencoder(buildAutoencoder({ inputSize: 16, hidden: [8, 4], seed: 1 }), x, opts);
  assert.deepEqual(again, losses);
  assert.throws(() => buildAutoencoder({ inputSize: 16, hidden: [], seed: 1 }), /at least one width/);
});

test('buildClassifier starts from the encoder’s weights exactly, and refuses an encoder of other widths', () => {
  const ae = buildAutoencoder({ inputSize: 16, hidden: [8, 4], seed: 1 });
  const clf = buildClassifier({ inputSize: 16, hidden: [8, 4], classes: 3, seed: 5, startFrom: ae.encoder });
  ae.encoder.layers.forEach((layer, i) => {
    layer.getWeights().forEach((w, k) => assert.deepEqual(clf.layers[i].getWeights()[k].arraySync(), w.arraySync(), `layer ${i} weight ${k}`));
  });
  const fresh = buildClassifier({ inputSize: 16, hidden: [8, 4], classes: 3, seed: 5 });
  assert.notDeepEqual(fresh.layers[0].getWeights()[0].arraySync(), clf.layers[0].getWeights()[0].arraySync());
  assert.throws(() => buildClassifier({ inputSize: 16, hidden: [6, 4], classes: 3, seed: 5, startFrom: ae.encoder }), /encoder layer 0 has weights \[16×8,8\] but the classifier's layer 0 needs \[16×6,6\]/);
  assert.throws(() => buildClassifier({ inputSize: 16, hidden: [8], classes: 3, seed: 5, startFrom: ae.encoder }), /startFrom has 2 layers but hidden lists 1/);
  const probe = buildClassifier({ inputSize: 16, hidden: [], classes: 3, seed: 5, zeroHead: true });
  assert.ok(probe.layers[0].getWeights()[0].dataSync().every((v) => v === 0));
});

test('trainFullBatch fits a separable problem, lowers the cross-entropy and leaks no tensors', async () => {
  const labels = Int32Array.from({ length: 64 }, (_, i) => i % 2);
  const feats = tf.tidy(() => tf.add(x, tf.mul(tf.tensor2d(Array.from(labels), [64, 1]), 2))) as tf.Tensor2D; // class 1 shifted by +2
  const model = buildClassifier({ inputSize: 16, hidden: [], classes: 2, seed: 1, zeroHead: true });
  const before = tf.memory().numTensors;
  const early = await trainFullBatch(model, feats, labels, { steps: 2, lr: 0.05 });
  const late = await trainFullBatch(model, feats, labels, { steps: 60, lr: 0.05 });
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind by the loop');
  assert.ok(late < early && late < 0.1, `cross-entropy ${early} → ${late}`);
  const predicted = (model.predict(feats) as tf.Tensor).argMax(-1).dataSync();
  assert.ok(Array.from(labels).every((y, i) => predicted[i] === y));
});
