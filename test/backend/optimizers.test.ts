// lib/backend/optimizers.ts: tfjs's Adam and SGD with one kernel per variable update on wasm reach the very same
// bits as tfjs's own updates (weights, moments, β powers), keep tfjs's optimizer state, and leak nothing.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { optimizerFusions, setOptimizerFusion } from '../../lib/backend/optimizers';
import { assertSameBitLists, assertStepsLeakNothing, rawBits } from './helpers';
import { buildEfficientNet, buildPlainCnn } from '../../lib/models';

before(async () => {
  await initBackend({ backend: 'wasm' });
});

type Make = () => tf.Optimizer;

/** Weights, predictions and optimizer weights after `steps` steps (the learning rate changed halfway), as raw bits. */
async function trainBits(build: () => tf.LayersModel, make: Make, fused: boolean, steps: number): Promise<Uint32Array[]> {
  const old = setOptimizerFusion(fused);
  try {
    const model = build();
    const [, h, w, c] = model.inputs[0].shape as number[];
    const classes = (model.outputs[0].shape as number[])[1];
    const xs = tf.randomNormal([5, h, w, c], 0.3, 1.1, 'float32', 8);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1].map((k) => k % classes), 'int32'), classes);
    const opt = make();
    for (let i = 0; i < steps; i++) {
      if (i === steps >> 1) {
        const o = opt as unknown as { setLearningRate?: (lr: number) => void; learningRate: number };
        if (typeof o.setLearningRate === 'function') o.setLearningRate(o.learningRate / 3);
        else o.learningRate /= 3;
      }
      tf.tidy(() => {
        opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar);
      });
    }
    const state = (await opt.getWeights()).map((nt) => nt.tensor);
    const out = rawBits([...model.getWeights(), model.predict(xs) as tf.Tensor, ...state]);
    model.dispose();
    opt.dispose();
    tf.dispose([xs, ys]);
    return out;
  } finally {
    setOptimizerFusion(old);
  }
}


const plainCnn = () => buildPlainCnn({ inputShape: [12, 12, 3], numClasses: 3, seed: 3 });
const effnet = () => buildEfficientNet({ phi: 0, numClasses: 3, seed: 5, inputShape: [16, 16, 3] });
const optimizers: [string, Make][] = [
  ['adam', () => tf.train.adam(3e-3)],
  ['adam (β, ε given)', () => tf.train.adam(1e-2, 0.8, 0.95, 1e-4)],
  ['sgd', () => tf.train.sgd(0.05)],
];

for (const [name, make] of optimizers) {
  test(`${name}: the plain CNN and the MBConv net train to tfjs's own bits, moments included`, async () => {
    const before = optimizerFusions();
    for (const [what, build] of [['plain CNN', plainCnn], ['MBConv net', effnet]] as const) {
      const reference = await trainBits(build, make, false, 4);
      assertSameBitLists(reference, await trainBits(build, make, true, 4), `${name}, ${what}`);
    }
    assert.ok(optimizerFusions() > before, 'the fused updates ran');
  });
}

test('momentum (not fused) still trains; the fused updates free everything they make', async () => {
  const before = optimizerFusions();
  const bits = await trainBits(plainCnn, () => tf.train.momentum(0.05, 0.9), true, 2);
  assert.ok(bits.length > 0);
  assert.equal(optimizerFusions(), before, 'momentum runs tfjs’s own update');
  const model = plainCnn();
  const xs = tf.randomNormal([4, 12, 12, 3], 0, 1, 'float32', 2);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0], 'int32'), 3);
  for (const [name, opt] of [['adam', tf.train.adam(1e-3)], ['sgd', tf.train.sgd(0.1)]] as const) {
    assertStepsLeakNothing(model, xs, ys, opt, name); // Adam makes its moment variables on the first step
    opt.dispose();
  }
  model.dispose();
  tf.dispose([xs, ys]);
});

test('a gradient of the wrong shape gets tfjs’s own error, not a silent update', () => {
  const v = tf.variable(tf.ones([4]));
  for (const opt of [tf.train.adam(1e-3), tf.train.sgd(0.1)]) {
    const before = optimizerFusions();
    assert.throws(() => opt.applyGradients([{ name: v.name, tensor: tf.ones([2]) }]));
    assert.equal(optimizerFusions(), before);
    opt.dispose();
  }
  v.dispose();
});
