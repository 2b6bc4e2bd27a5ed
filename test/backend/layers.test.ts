// lib/backend/layers.ts: tfjs-layers' batch norm and swish, fused on wasm, train to the very same bits as tfjs's own
// layers (weights, moving statistics, predictions), fuse only where that order is known, and leak nothing.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { layerFusions, setLayerFusion } from '../../lib/backend/layers';
import { assertSameBitLists, assertStepsLeakNothing, rawBits } from './helpers';
import { buildEfficientNet } from '../../lib/models';

before(async () => {
  await initBackend({ backend: 'wasm' });
});

/** conv → BN → swish → conv → BN (its input also feeds an add: not fused) → add → GAP → dense. */
function smallNet(): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: k });
  const input = tf.input({ shape: [8, 8, 4] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(1) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ momentum: 0.9 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'swish' }).apply(x) as tf.SymbolicTensor;
  const y = tf.layers.conv2d({ filters: 8, kernelSize: 1, useBias: false, kernelInitializer: init(2) }).apply(x) as tf.SymbolicTensor;
  const z = tf.layers.batchNormalization({ momentum: 0.9 }).apply(y) as tf.SymbolicTensor;
  const sum = tf.layers.add().apply([z, y]) as tf.SymbolicTensor;
  const pooled = tf.layers.globalAveragePooling2d({}).apply(sum) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(3) }).apply(pooled) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Weights (trainable and moving statistics) and predictions after `steps` Adam steps, as raw bits. */
async function trainBits(build: () => tf.LayersModel, fused: boolean, steps: number, shape: number[]): Promise<Uint32Array[]> {
  const old = setLayerFusion(fused);
  try {
    const model = build();
    const classes = (model.outputs[0].shape as number[])[1];
    const xs = tf.randomNormal([6, ...shape], 0.5, 1.2, 'float32', 4);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2].map((k) => k % classes), 'int32'), classes);
    const opt = tf.train.adam(1e-2);
    for (let i = 0; i < steps; i++) {
      tf.tidy(() => {
        opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar);
      });
    }
    const out = rawBits([...model.getWeights(), model.predict(xs) as tf.Tensor]);
    model.dispose();
    opt.dispose();
    tf.dispose([xs, ys]);
    return out;
  } finally {
    setLayerFusion(old);
  }
}


test("a net of conv, batch norm, swish and a residual add trains to tfjs's own bits with the fusions on", async () => {
  const plain = await trainBits(smallNet, false, 3, [8, 8, 4]);
  const before = layerFusions();
  const fused = await trainBits(smallNet, true, 3, [8, 8, 4]);
  // 3 steps × (the first batch norm and the swish; the second batch norm's input also feeds the add)
  assert.equal(layerFusions() - before, 6, 'the fused path ran where it applies, and only there');
  assertSameBitLists(plain, fused, 'small net');
});

test("the EfficientNet-style source architecture (MBConv, squeeze-excitation) trains to tfjs's own bits", async () => {
  const build = () => buildEfficientNet({ phi: 0, numClasses: 3, seed: 7, inputShape: [16, 16, 3] });
  assertSameBitLists(await trainBits(build, false, 2, [16, 16, 3]), await trainBits(build, true, 2, [16, 16, 3]), 'MBConv net');
});

test('the fused layers leave nothing behind: tensors and wasm buffers stay flat over training steps', async () => {
  const model = smallNet();
  const xs = tf.randomNormal([6, 8, 8, 4], 0, 1, 'float32', 5);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2], 'int32'), 3);
  const opt = tf.train.adam(1e-2);
  assertStepsLeakNothing(model, xs, ys, opt, 'small net, fused');
  model.dispose();
  opt.dispose();
  tf.dispose([xs, ys]);
});
