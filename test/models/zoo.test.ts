import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  buildPlainCnn, buildEfficientNet, countParams, countFlops, scalingTable, compoundScaling, roundFilters, listBlocks,
} from '../../lib/models';

test('plain CNN: named blocks, GAP ending gives the last block\'s channels as features', () => {
  const m = buildPlainCnn({ inputShape: [8, 8, 3], numClasses: 5, filters: [4, 8], seed: 1 });
  assert.deepEqual(m.layers.map((l) => l.name), ['input', 'block1_conv', 'block1_pool', 'block2_conv', 'features', 'predictions']);
  assert.deepEqual(m.getLayer('features').outputShape, [null, 8]);
  // Hand count: conv 3·3·3·4+4, conv 3·3·4·8+8, dense 8·5+5.
  assert.equal(countParams(m).total, 112 + 296 + 45);
  // MACs: conv1 8·8·4·(3·3·3) + conv2 4·4·8·(3·3·4) + dense 8·5.
  assert.equal(countFlops(m), 8 * 8 * 4 * 27 + 4 * 4 * 8 * 36 + 40);
  m.dispose();
});

test('plain CNN: flatten+dense ending and batch norm option', () => {
  const m = buildPlainCnn({ inputShape: [8, 8, 3], numClasses: 3, filters: [4, 8], ending: 'flatten-dense', dense: 6, batchNorm: true, seed: 1 });
  assert.deepEqual(m.getLayer('features').outputShape, [null, 6]);
  assert.ok(m.getLayer('block1_bn'));
  // conv (no bias) 108 + bn 16 + conv 288 + bn 32 + dense 4·4·8·6+6 + out 6·3+3
  assert.equal(countParams(m).total, 108 + 16 + 288 + 32 + 774 + 21);
  assert.equal(countParams(m).nonTrainable, 8 + 16); // moving mean/variance
  m.dispose();
});

test('same seed, same initial weights; another seed, others', () => {
  const a = buildPlainCnn({ inputShape: [8, 8, 3], numClasses: 2, filters: [4], seed: 7 });
  const b = buildPlainCnn({ inputShape: [8, 8, 3], numClasses: 2, filters: [4], seed: 7 });
  const c = buildPlainCnn({ inputShape: [8, 8, 3], numClasses: 2, filters: [4], seed: 8 });
  const k = (m: tf.LayersModel) => Array.from(m.getLayer('block1_conv').getWeights()[0].dataSync());
  assert.deepEqual(k(a), k(b));
  assert.notDeepEqual(k(a), k(c));
  [a, b, c].forEach((m) => m.dispose());
});

test('EfficientNet-style: MBConv blocks addressable, FLOPs match a hand count of the conv/dense layers', () => {
  const m = buildEfficientNet({ phi: 0, numClasses: 5, seed: 1 });
  const blocks = listBlocks(m);
  assert.deepEqual(blocks.slice(0, 2), ['stem', 'block1']);
  assert.ok(blocks.includes('block4') && blocks.includes('top'));
  for (const suffix of ['expand_conv', 'dwconv', 'se_squeeze', 'se_excite', 'project_conv', 'project_bn', 'add']) {
    assert.ok(m.layers.some((l) => l.name === `block2b_${suffix}`), `block2b_${suffix}`);
  }
  // Independent hand count over the layers' own kernels: MACs = output pixels × kernel size.
  let macs = 0;
  for (const l of m.layers) {
    const cls = l.getClassName();
    const out = l.outputShape as number[];
    if (cls === 'Conv2D') macs += out[1] * out[2] * (l.getWeights()[0].size);
    if (cls === 'DepthwiseConv2D') macs += out[1] * out[2] * l.getWeights()[0].size;
    if (cls === 'Dense') macs += l.getWeights()[0].size;
  }
  assert.equal(countFlops(m), macs);
  const y = tf.tidy(() => (m.predict(tf.zeros([2, 32, 32, 3])) as tf.Tensor).sum(1).dataSync());
  assert.ok(Math.abs(y[0] - 1) < 1e-5);
  m.dispose();
});

test('compound scaling: α=1.2, β=1.1, γ=1.15 and a growing family', () => {
  assert.equal(compoundScaling(0).imageSize, 32);
  assert.equal(compoundScaling(2).imageSize, Math.round(32 * 1.15 ** 2));
  assert.equal(roundFilters(16, 1.1), 16);
  assert.equal(roundFilters(40, 1.21), 48);
  const rows = scalingTable([0, 1, 2]);
  assert.equal(rows.length, 3);
  for (let i = 1; i < rows.length; i++) {
    assert.ok(rows[i].params > rows[i - 1].params && rows[i].flops > rows[i - 1].flops);
    assert.ok(rows[i].blocks >= rows[i - 1].blocks);
  }
  // FLOPs at a doubled resolution roughly quadruple (conv work scales with pixels).
  const m = buildEfficientNet({ phi: 0, numClasses: 5, seed: 1 });
  const r = countFlops(m, [64, 64, 3]) / countFlops(m);
  assert.ok(r > 3.8 && r <= 4, `ratio ${r}`);
  m.dispose();
});
