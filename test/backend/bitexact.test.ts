// The kit's kernels that replaced tfjs's on wasm compute the very same bits as the kernels they replaced (the same
// additions in the same order), so models trained before them — the shipped sources — still reproduce.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, registerWasmTrainingKernels, restoreWasmKernel } from '../../lib/backend';
import { setConv2DMode } from '../../lib/backend/kernels/conv2d';
import { setConv2DInputGradMode } from '../../lib/backend/kernels/conv2d_backprop_input';
import { setDepthwiseMode } from '../../lib/backend/kernels/depthwise_conv2d';
import { registerWasmGradients, restoreTfjsGradients } from '../../lib/backend/kernels/gradients';
import { setFastClone } from '../../lib/backend/engine';
import { Rng } from '../../lib/random';
import { quickOr } from '../../lib/config';
import { randomDepthwiseCase, relError, trainingBatchNorm } from './helpers';

before(async () => {
  await initBackend({ backend: 'wasm' });
});

/** Asserts that two tensors hold the same bits (so −0 ≠ +0 and NaN payloads count). */
function assertSameBits(a: tf.Tensor, b: tf.Tensor, what: string): void {
  assert.deepEqual(a.shape, b.shape, what);
  const [x, y] = [a.dataSync(), b.dataSync()];
  const [ux, uy] = [new Uint32Array(x.buffer, x.byteOffset, x.length), new Uint32Array(y.buffer, y.byteOffset, y.length)];
  for (let i = 0; i < ux.length; i++) if (ux[i] !== uy[i]) assert.fail(`${what}: element ${i} is ${y[i]}, the original gives ${x[i]}`);
}

/** `f` with the original formulation (`useOriginal` switches it on, the returned function off), then the kit's. */
function originalThenKit(useOriginal: () => () => void, f: () => tf.Tensor | tf.Tensor[]): [tf.Tensor[], tf.Tensor[]] {
  const back = useOriginal();
  let original: tf.Tensor[];
  try {
    original = [f()].flat();
  } finally {
    back();
  }
  return [original, [f()].flat()];
}

const xnnpackConv = () => {
  const old = setConv2DMode('xnnpack');
  return () => void setConv2DMode(old);
};
const xnnpackDepthwise = () => {
  const old = setDepthwiseMode('xnnpack');
  return () => void setDepthwiseMode(old);
};

test("Conv2D and FusedConv2D equal XNNPACK's bit for bit: 3–33 input channels, kernels 1–5, strides 1–2, bias, relu", () => {
  const rng = new Rng(31);
  for (let t = 0; t < quickOr(16, 40); t++) {
    const ci = t === 0 ? 3 : 1 + rng.int(33);
    const co = 4 * (1 + rng.int(8));
    const k = 1 + rng.int(5);
    const s = 1 + rng.int(2);
    const pad = (['same', 'valid'] as const)[rng.int(2)];
    const shape: [number, number, number, number] = [1 + rng.int(4), k + rng.int(10), k + rng.int(10), ci];
    tf.tidy(() => {
      const x = tf.randomNormal(shape, 0, 1, 'float32', t);
      const w = tf.randomNormal([k, k, ci, co], 0, 1, 'float32', t + 100) as tf.Tensor4D;
      const bias = tf.randomNormal([co], 0, 1, 'float32', t + 200) as tf.Tensor1D;
      const activation = (['linear', 'relu'] as const)[rng.int(2)];
      const what = `x [${shape}] k${k} s${s} ${pad} → ${co}, ${activation}`;
      const [a, b] = originalThenKit(xnnpackConv, () => [
        tf.conv2d(x as tf.Tensor4D, w, s, pad),
        tf.fused.conv2d({ x: x as tf.Tensor4D, filter: w, strides: s, pad, bias, activation }),
      ]);
      assertSameBits(a[0], b[0], `Conv2D ${what}`);
      assertSameBits(a[1], b[1], `FusedConv2D ${what}`);
    });
  }
});

test("Conv2DBackpropInput at strides 2–3 (the transposed kernel) equals the zero-dilated XNNPACK formulation bit for bit, and cpu", () => {
  const rng = new Rng(33);
  const xnnpackInputGrad = () => {
    const old = setConv2DInputGradMode('xnnpack');
    return () => void setConv2DInputGradMode(old);
  };
  for (let t = 0; t < quickOr(12, 30); t++) {
    const ci = t === 0 ? 3 : 1 + rng.int(13);
    const co = 1 + rng.int(20);
    const k = 1 + rng.int(5);
    const s = 2 + rng.int(2);
    const pad = (['same', 'valid'] as const)[rng.int(2)];
    const shape: [number, number, number, number] = [1 + rng.int(3), k + rng.int(12), k + rng.int(12), ci];
    tf.tidy(() => {
      const w = tf.randomNormal([k, k, ci, co], 0, 1, 'float32', t + 300) as tf.Tensor4D;
      const dy = tf.randomNormal(tf.conv2d(tf.zeros(shape) as tf.Tensor4D, w, s, pad).shape, 0, 1, 'float32', t + 400);
      const attrs = { strides: s, pad, dataFormat: 'NHWC', inputShape: shape } as unknown as tf.NamedAttrMap;
      const what = `x [${shape}] k${k} s${s} ${pad} ← ${co}`;
      const [a, b] = originalThenKit(xnnpackInputGrad, () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs) as tf.Tensor);
      assertSameBits(a[0], b[0], `Conv2DBackpropInput ${what}`);
      tf.setBackend('cpu');
      const ref = tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: w }, attrs) as tf.Tensor;
      tf.setBackend('wasm');
      assert.ok(relError(ref, b[0]) <= 1e-5, `${what}: rel. error ${relError(ref, b[0])} against cpu`);
    });
  }
});

test("DepthwiseConv2dNative and its input gradient equal XNNPACK's formulation bit for bit (strides, dilations, kernels 1–5)", () => {
  const rng = new Rng(32);
  for (let t = 0; t < quickOr(12, 30); t++) {
    const { c, k, s, d, pad, shape, what } = randomDepthwiseCase(rng, 10, 9);
    tf.tidy(() => {
      const x = tf.randomNormal(shape, 0, 1, 'float32', t) as tf.Tensor4D;
      const w = tf.randomNormal([k, k, c, 1], 0, 1, 'float32', t + 50) as tf.Tensor4D;
      const [a, b] = originalThenKit(xnnpackDepthwise, () => tf.depthwiseConv2d(x, w, s, pad, 'NHWC', d));
      assertSameBits(a[0], b[0], `DepthwiseConv2dNative ${what}`);
      const dy = tf.randomNormal(b[0].shape, 0, 1, 'float32', t + 60);
      const attrs = { strides: s, dilations: d, pad, inputShape: shape } as unknown as tf.NamedAttrMap;
      const [ga, gb] = originalThenKit(xnnpackDepthwise, () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, attrs) as tf.Tensor);
      assertSameBits(ga[0], gb[0], `DepthwiseConv2dNativeBackpropInput ${what}`);
    });
  }
});

test("FusedBatchNorm (forward) equals the backend's C++ kernel bit for bit", () => {
  for (const c of [4, 16, 24, 96]) {
    tf.tidy(() => {
      const x = tf.randomNormal([3, 5, 7, c], 0.5, 2, 'float32', c);
      const mean = tf.randomNormal([c], 0, 1, 'float32', c + 1);
      const variance = tf.randomUniform([c], 0.01, 4, 'float32', c + 2);
      const offset = tf.randomNormal([c], 0, 1, 'float32', c + 3);
      const scale = tf.randomNormal([c], 1, 0.5, 'float32', c + 4);
      const original = () => {
        restoreWasmKernel('FusedBatchNorm');
        return () => registerWasmTrainingKernels();
      };
      const [a, b] = originalThenKit(original, () => tf.batchNorm(x, mean, variance, offset, scale, 1e-3));
      assertSameBits(a[0], b[0], `FusedBatchNorm, ${c} channels`);
    });
  }
});

test('Tile is an exact copy (−0 and NaN kept); Multiply by a scalar 1 equals the product bit for bit', () => {
  const values = [-0, 0, 1.5, -2, Infinity, -Infinity, NaN, 3e-39];
  const x = tf.tensor4d(values.concat(values), [1, 2, 1, 8]);
  const reps = [3, 1, 4, 1];
  const expected: number[] = [];
  for (let r0 = 0; r0 < 3; r0++) for (let a = 0; a < 2; a++) for (let r2 = 0; r2 < 4; r2++) expected.push(...values);
  const tiled = tf.tile(x, reps);
  assertSameBits(tf.tensor(expected, tiled.shape), tiled, 'Tile');
  const original = () => {
    restoreWasmKernel('Multiply');
    return () => registerWasmTrainingKernels();
  };
  const [a, b] = originalThenKit(original, () => [tf.mul(x, tf.scalar(1)), tf.mul(tf.scalar(1), x), tf.mul(x, tf.scalar(-1))]);
  a.forEach((t, i) => assertSameBits(t, b[i], `Multiply ${i}`));
});

test("Multiply by a per-image channel vector (the squeeze-and-excitation gate) equals the backend's broadcasting product", () => {
  for (const [n, h, w, c] of [[32, 8, 8, 96], [3, 5, 7, 4], [2, 1, 3, 12], [1, 2, 2, 256]]) {
    tf.tidy(() => {
      const x = tf.randomNormal([n, h, w, c], 0, 2, 'float32', c);
      const g = tf.sigmoid(tf.randomNormal([n, 1, 1, c], 0, 3, 'float32', c + 1));
      const special = tf.tensor4d([NaN, -0, Infinity, -Infinity], [1, 1, 1, 4]).tile([n, 1, 1, c / 4]);
      const original = () => {
        restoreWasmKernel('Multiply');
        return () => registerWasmTrainingKernels();
      };
      const [a, b] = originalThenKit(original, () => [tf.mul(x, g), tf.mul(g, x), tf.mul(x, special)]);
      a.forEach((t, i) => assertSameBits(t, b[i], `Multiply [${n},${h},${w},${c}] ${i}`));
    });
  }
});

test("the kit's gradients (Mean, Sigmoid, Square, Relu, FusedBatchNorm) equal tfjs's bit for bit; second-order gradients still work", () => {
  const x = tf.randomNormal([4, 5, 6, 8], 0.3, 1.5, 'float32', 1) as tf.Tensor4D;
  const gamma = tf.randomNormal([8], 1, 0.3, 'float32', 2);
  const beta = tf.randomNormal([8], 0, 0.3, 'float32', 3);
  // A batch-norm layer as tfjs-layers trains it, then a swish and a global average pool.
  const loss = (xv: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const y = trainingBatchNorm(xv, g, b);
    return tf.add(tf.mean(tf.mul(tf.sigmoid(y), y), [1, 2]).square().sum(), tf.relu(y).sum());
  };
  const tfjs = () => {
    restoreTfjsGradients();
    return () => registerWasmGradients();
  };
  const [a, b] = originalThenKit(tfjs, () => tf.grads(loss)([x, gamma, beta]));
  ['x', 'gamma', 'beta'].forEach((name, i) => assertSameBits(a[i], b[i], `gradient of ${name}`));
  // ReLU's gradient where x is NaN, ±0 or ±∞ (the backend's Step passes NaN through).
  const special = tf.tensor1d([NaN, 0, -0, Infinity, -Infinity, 2, -3, 1e-40]);
  const dy = tf.tensor1d([1, -2, 3, -0, 5, Infinity, -1, 2]);
  const [ra, rb] = originalThenKit(tfjs, () => tf.grad((v: tf.Tensor) => tf.relu(v).mul(dy).sum())(special));
  assertSameBits(ra[0], rb[0], 'ReLU gradient at special values');
  // A gradient of a gradient runs with the tape on: tfjs's formulation, which matches cpu.
  const second = (v: tf.Tensor) => tf.grad((u: tf.Tensor) => tf.sigmoid(u).square().sum())(v).sum();
  const z = tf.randomNormal([6, 8], 0, 1, 'float32', 4);
  tf.setBackend('cpu');
  const ref = tf.grad(second)(z);
  tf.setBackend('wasm');
  assert.ok(relError(ref, tf.grad(second)(z)) <= 1e-5, 'second-order gradient through sigmoid');
});

test("the engine's cheap clones of saved tensors change no gradient bit and leave no tensor behind", () => {
  const x = tf.randomNormal([3, 6, 6, 8], 0, 1, 'float32', 9) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 8, 8], 0, 1, 'float32', 10) as tf.Tensor4D;
  const loss = (a: tf.Tensor, f: tf.Tensor) => tf.sigmoid(tf.mul(tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same'), a)).square().mean();
  const engineClone = () => {
    const old = setFastClone(false);
    return () => void setFastClone(old);
  };
  const [a, b] = originalThenKit(engineClone, () => tf.grads(loss)([x, w]));
  a.forEach((t, i) => assertSameBits(t, b[i], `gradient ${i}`));
  const before = tf.memory().numTensors;
  tf.dispose(tf.grads(loss)([x, w]));
  assert.equal(tf.memory().numTensors, before, 'tensors flat');
});
