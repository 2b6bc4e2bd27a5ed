// lib/backend/ops.ts: a convolution without bias under the tape runs as tf.conv2d, so the first layer's input
// gradient (of the images) is not computed — and training reaches the very same bits as tfjs's fused op.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, wasmDataBuffers } from '../../lib/backend';
import { setUnfusedConv, unfusedConvCalls } from '../../lib/backend/ops';
import { assertSameBitLists, rawBits } from './helpers';
import { buildEfficientNet } from '../../lib/models';

before(async () => {
  await initBackend({ backend: 'wasm' });
});

/** A 3-channel first conv without bias (as the MBConv stem), a 6-channel one (the XNNPACK path), GAP, dense. */
function net(): tf.LayersModel {
  const init = (k: number) => tf.initializers.glorotUniform({ seed: k });
  const input = tf.input({ shape: [9, 9, 3] });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(1) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', useBias: false, kernelInitializer: init(2) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'relu', kernelInitializer: init(3) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.globalAveragePooling2d({}).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: init(4) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out });
}

/** Weights and predictions after `steps` Adam steps (raw bits), and the kernels of one more step by name. */
async function train(build: () => tf.LayersModel, on: boolean, steps: number, shape: number[]): Promise<{ bits: Uint32Array[]; kernels: Map<string, number> }> {
  const old = setUnfusedConv(on);
  try {
    const model = build();
    const classes = (model.outputs[0].shape as number[])[1];
    const xs = tf.randomNormal([4, ...shape], 0.5, 1.2, 'float32', 4);
    const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0].map((k) => k % classes), 'int32'), classes);
    const opt = tf.train.adam(1e-2);
    const step = () => tf.tidy(() => { opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar); });
    for (let i = 0; i < steps; i++) step();
    const bits = rawBits([...model.getWeights(), model.predict(xs) as tf.Tensor]);
    const kernels = new Map<string, number>();
    for (const k of (await tf.profile(() => { step(); })).kernels) kernels.set(k.name, (kernels.get(k.name) ?? 0) + 1);
    model.dispose();
    opt.dispose();
    tf.dispose([xs, ys]);
    return { bits, kernels };
  } finally {
    setUnfusedConv(old);
  }
}


test('convolutions without bias train to the fused op’s bits, and the first one computes no input gradient', async () => {
  const fused = await train(net, false, 3, [9, 9, 3]);
  const before = unfusedConvCalls();
  const plain = await train(net, true, 3, [9, 9, 3]);
  // 4 steps (3 + the profiled one) × the two bias-free convs; the relu conv (with bias) stays tfjs's fused op.
  assert.equal(unfusedConvCalls() - before, 8);
  assertSameBitLists(fused.bits, plain.bits, 'conv net');
  // The relu conv runs unfused under the tape in tfjs (its input gradient is needed and computed either way).
  assert.equal(fused.kernels.get('Conv2DBackpropInput'), 3, 'the fused op computes the images’ gradient too');
  assert.equal(plain.kernels.get('Conv2DBackpropInput'), 2, 'tf.conv2d leaves it out (the later convs’ stay)');
});

test('the EfficientNet-style source architecture trains to the same bits with the patch on', async () => {
  const build = () => buildEfficientNet({ phi: 0, numClasses: 3, seed: 7, inputShape: [16, 16, 3] });
  const off = await train(build, false, 2, [16, 16, 3]);
  const on = await train(build, true, 2, [16, 16, 3]);
  assertSameBitLists(off.bits, on.bits, 'MBConv net');
  assert.equal((off.kernels.get('Conv2DBackpropInput') ?? 0) - (on.kernels.get('Conv2DBackpropInput') ?? 0), 1, 'only the stem’s input gradient goes');
});

test('outside a gradient tape, and with a bias, tf.fused.conv2d is tfjs’s own', () => {
  const x = tf.randomNormal([1, 5, 5, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 3, 4], 0, 1, 'float32', 2) as tf.Tensor4D;
  const b = tf.ones([4]);
  const before = unfusedConvCalls();
  tf.tidy(() => tf.fused.conv2d({ x, filter: w, strides: 1, pad: 'same' }));
  tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.fused.conv2d({ x: v as tf.Tensor4D, filter: w, strides: 1, pad: 'same', bias: b })))(x));
  assert.equal(unfusedConvCalls(), before);
  const grads = tf.tidy(() => tf.grad((v: tf.Tensor) => tf.sum(tf.fused.conv2d({ x: v as tf.Tensor4D, filter: w, strides: 1, pad: 'same' })))(x));
  assert.equal(unfusedConvCalls(), before + 1);
  const reference = tf.tidy(() => {
    const old = setUnfusedConv(false);
    try {
      return tf.grad((v: tf.Tensor) => tf.sum(tf.fused.conv2d({ x: v as tf.Tensor4D, filter: w, strides: 1, pad: 'same' })))(x);
    } finally {
      setUnfusedConv(old);
    }
  });
  assert.deepEqual(grads.dataSync(), reference.dataSync(), 'the input gradient, when asked for, is the fused op’s');
  const buffers = wasmDataBuffers();
  tf.dispose([x, w, b, grads, reference]);
  assert.ok(wasmDataBuffers() < buffers);
});
