// lib/train/domain.ts: the domain-shift measurement finds what docs/data.md reports — a grey-digit model fails on digits-m.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend/select';
import { measureDomainShift } from '../../lib/train/domain';

test('a CNN trained on grey digits scores far higher on grey digits than on digits-m; nothing leaks', async () => {
  await initBackend();
  const before = tf.memory().numTensors;
  const rows = await measureDomainShift({ domains: ['digits', 'digits-m'], mPerClass: 60, valPerClass: 20, epochs: 6, seeds: [1], lr: 3e-3, batchSize: 32 });
  assert.equal(rows.length, 2);
  const grey = rows.find((r) => r.trainedOn === 'digits')!;
  assert.equal(grey.trainImages, 600);
  assert.ok(grey.accuracy.digits! > grey.accuracy['digits-m']! + 0.2, JSON.stringify(grey));
  assert.ok(grey.accuracy['digits-m']! < 0.3, `digits-m accuracy ${grey.accuracy['digits-m']} should be near chance (0.1)`);
  assert.equal(tf.memory().numTensors, before);
});
