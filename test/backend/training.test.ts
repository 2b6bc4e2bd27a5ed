// Whole-network gradients on wasm equal cpu's, and training on wasm neither leaks tensors nor grows the heap.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, wasmDataBuffers, wasmHeapBytes } from '../../lib/backend';
import { quickOr } from '../../lib/config';
import { relError } from './helpers';

const TOL = 1e-4;

before(async () => {
  await initBackend({ backend: 'wasm' });
});

/** Deterministic parameters (made on cpu so both backends see the same values). */
function params(shapes: Record<string, number[]>, seed: number): Record<string, tf.Variable> {
  tf.setBackend('cpu');
  const out: Record<string, tf.Variable> = {};
  Object.entries(shapes).forEach(([name, shape], i) => {
    out[name] = tf.variable(tf.randomNormal(shape, 0, 0.3, 'float32', seed + i), true, `${name}_${seed}`);
  });
  return out;
}

/** Gradients of `loss` w.r.t. every parameter, computed on `backend`. */
function gradsOn(backend: string, loss: () => tf.Scalar, vars: Record<string, tf.Variable>): Record<string, tf.Tensor> {
  tf.setBackend(backend);
  const { grads } = tf.variableGrads(loss, Object.values(vars));
  return grads;
}

function assertSameGrads(ref: Record<string, tf.Tensor>, got: Record<string, tf.Tensor>, what: string): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(ref).sort());
  for (const name of Object.keys(ref)) {
    const e = relError(ref[name], got[name]);
    assert.ok(e <= TOL, `${what}: gradient of ${name} differs from cpu by ${e}`);
  }
}

test('tf.grad of a small conv net (strided conv, relu, max pool, depthwise, dense) on wasm equals cpu', () => {
  const v = params({ c1: [3, 3, 3, 8], c2: [3, 3, 8, 12], dw: [3, 3, 12, 2], b: [24], d: [24, 5] }, 1);
  tf.setBackend('cpu');
  const x = tf.randomNormal([3, 13, 11, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
  const labels = tf.oneHot(tf.tensor1d([0, 3, 4], 'int32'), 5);
  const loss = () =>
    tf.tidy(() => {
      let h: tf.Tensor4D = tf.relu(tf.conv2d(x, v.c1 as tf.Tensor4D, 2, 'same'));
      h = tf.maxPool(h, 2, 2, 'same');
      h = tf.relu(tf.conv2d(h, v.c2 as tf.Tensor4D, 1, 'valid'));
      h = tf.relu(tf.add(tf.depthwiseConv2d(h, v.dw as tf.Tensor4D, 1, 'same'), v.b)) as tf.Tensor4D;
      const feats = tf.mean(h, [1, 2]);
      return tf.losses.softmaxCrossEntropy(labels, tf.matMul(feats, v.d)) as tf.Scalar;
    });
  const ref = gradsOn('cpu', loss, v);
  const got = gradsOn('wasm', loss, v);
  assertSameGrads(ref, got, 'conv net');
  tf.dispose([...Object.values(ref), ...Object.values(got), ...Object.values(v), x, labels]);
});

test('tf.grad of an MBConv block (expand, depthwise s2, batch norm, swish, squeeze-excitation, dropout) on wasm equals cpu', () => {
  const cin = 4;
  const ce = cin * 3;
  const v = params(
    { expand: [1, 1, cin, ce], g1: [ce], b1: [ce], dw: [3, 3, ce, 1], g2: [ce], b2: [ce], se1: [ce, 2], se2: [2, ce], proj: [1, 1, ce, 6] },
    2,
  );
  tf.setBackend('cpu');
  const x = tf.randomNormal([2, 9, 9, cin], 0, 1, 'float32', 3) as tf.Tensor4D;
  const target = tf.randomNormal([2, 5, 5, 6], 0, 1, 'float32', 4);
  const swish = (t: tf.Tensor) => tf.mul(t, tf.sigmoid(t));
  const bn = (t: tf.Tensor4D, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(t, [0, 1, 2]);
    return tf.batchNorm(t, mean, variance, b, g, 1e-3);
  };
  const loss = () =>
    tf.tidy(() => {
      let h = swish(bn(tf.conv2d(x, v.expand as tf.Tensor4D, 1, 'same'), v.g1, v.b1)) as tf.Tensor4D;
      h = swish(bn(tf.depthwiseConv2d(h, v.dw as tf.Tensor4D, 2, 'same'), v.g2, v.b2)) as tf.Tensor4D;
      const s = tf.sigmoid(tf.matMul(swish(tf.matMul(tf.mean(h, [1, 2]), v.se1)), v.se2));
      h = tf.mul(h, tf.reshape(s, [2, 1, 1, ce]));
      h = tf.dropout(h, 0.2, undefined, 17) as tf.Tensor4D; // same seed → same mask on both backends
      const y = tf.conv2d(h, v.proj as tf.Tensor4D, 1, 'same');
      return tf.mean(tf.square(tf.sub(y, target))) as tf.Scalar;
    });
  const ref = gradsOn('cpu', loss, v);
  const got = gradsOn('wasm', loss, v);
  assertSameGrads(ref, got, 'MBConv block');
  tf.dispose([...Object.values(ref), ...Object.values(got), ...Object.values(v), x, target]);
});

test('training a small net on wasm keeps tf.memory().numTensors, the wasm backend buffers and its heap flat', async () => {
  tf.setBackend('wasm');
  const model = tf.sequential({
    layers: [
      tf.layers.conv2d({ inputShape: [16, 16, 3], filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }),
      tf.layers.batchNormalization(),
      tf.layers.depthwiseConv2d({ kernelSize: 3, padding: 'same', depthMultiplier: 2, depthwiseInitializer: tf.initializers.glorotUniform({ seed: 2 }) }),
      tf.layers.activation({ activation: 'swish' }),
      tf.layers.maxPooling2d({ poolSize: 2 }),
      // stride 1, 16 → 8 channels: forward, input and filter gradients on the kit's SIMD kernels
      tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: tf.initializers.glorotUniform({ seed: 5 }) }),
      tf.layers.globalAveragePooling2d({}),
      tf.layers.dropout({ rate: 0.2, seed: 3 }),
      tf.layers.dense({ units: 3, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 4 }) }),
    ],
  });
  model.compile({ optimizer: tf.train.adam(1e-2), loss: 'sparseCategoricalCrossentropy' });
  // A learnable task: the class shifts one colour channel, so the loss must fall.
  const labels = Array.from({ length: 48 }, (_, i) => i % 3);
  const ys = tf.tensor1d(labels, 'float32');
  const xs = tf.tidy(() =>
    tf.add(tf.randomNormal([48, 16, 16, 3], 0, 1, 'float32', 5), tf.reshape(tf.oneHot(tf.tensor1d(labels, 'int32'), 3), [48, 1, 1, 3])),
  );
  await model.fit(xs, ys, { epochs: 1, batchSize: 16, verbose: 0, shuffle: false }); // warm-up: optimizer slots, heap growth
  const tensors = tf.memory().numTensors;
  const heap = wasmHeapBytes();
  const buffers = wasmDataBuffers();
  assert.ok(heap > 0, 'wasm heap size is readable');
  const losses: number[] = [];
  for (let epoch = 0; epoch < quickOr(6, 3); epoch++) {
    const h = await model.fit(xs, ys, { epochs: 1, batchSize: 16, verbose: 0, shuffle: false });
    losses.push(h.history.loss[0] as number);
    assert.equal(tf.memory().numTensors, tensors, `epoch ${epoch}: tensor count grew`);
    assert.equal(wasmDataBuffers(), buffers, `epoch ${epoch}: buffers on the wasm backend grew (a kernel leaks)`);
    assert.equal(wasmHeapBytes(), heap, `epoch ${epoch}: wasm heap grew`);
  }
  assert.ok(losses[losses.length - 1] < losses[0], `loss should fall while training: ${losses.join(', ')}`);
  tf.dispose([xs, ys]);
  model.dispose();
});
