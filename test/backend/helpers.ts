import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import type { Rng } from '../../lib/random';
import { wasmDataBuffers } from '../../lib/backend';

/** Largest absolute difference over largest absolute reference value (0 when both are zero). */
export function relError(ref: tf.Tensor, got: tf.Tensor): number {
  if (ref.shape.join() !== got.shape.join()) throw new Error(`shape [${got.shape}] differs from reference [${ref.shape}]`);
  const a = ref.dataSync();
  const b = got.dataSync();
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(a[i]));
  }
  return den === 0 ? num : num / den;
}

/** Runs a kernel on the cpu backend (the reference), then on wasm, and returns both results (cpu, wasm). */
export function onBoth(kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): [tf.Tensor, tf.Tensor] {
  tf.setBackend('cpu');
  const ref = tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  ref.dataSync();
  tf.setBackend('wasm');
  const got = tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  return [ref, got];
}

/** Runs `f` on cpu then on wasm (same inputs), returning both results' tensors. */
export function bothBackends<T extends tf.Tensor | tf.Tensor[]>(f: () => T): [T, T] {
  tf.setBackend('cpu');
  const ref = f();
  tf.setBackend('wasm');
  const got = f();
  return [ref, got];
}

/** A random depthwise case: c = 4·(1..groups) channels, kernel 1–5, stride 1–2, dilation 2 on 30 % of stride-1 cases, either padding, input ≥ the dilated kernel (+ 0..extra − 1). */
export function randomDepthwiseCase(rng: Rng, groups: number, extra: number) {
  const c = 4 * (1 + rng.int(groups));
  const k = 1 + rng.int(5);
  const s = 1 + rng.int(2);
  const d = s === 1 && rng.bernoulli(0.3) ? 2 : 1;
  const pad = (['same', 'valid'] as const)[rng.int(2)];
  const e = (k - 1) * d + 1;
  const shape: [number, number, number, number] = [1 + rng.int(3), e + rng.int(extra), e + rng.int(extra), c];
  return { c, k, s, d, pad, shape, what: `x [${shape}] k${k} s${s} d${d} ${pad}` };
}

/** A batch-norm layer as tfjs-layers trains it: the batch's moments over N, H, W, then normalisation with ε = 1e-3. */
export function trainingBatchNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  return tf.batchNorm(x, mean, variance, beta, gamma, 1e-3);
}

/** The raw bits of float32 tensors (weights, predictions, optimizer state), copied out. */
export function rawBits(tensors: tf.Tensor[]): Uint32Array[] {
  return tensors.map((t) => new Uint32Array((t.dataSync() as Float32Array).slice().buffer));
}

/** Asserts two lists of raw bits (see rawBits) are the same, naming the first tensor that differs. */
export function assertSameBitLists(a: Uint32Array[], b: Uint32Array[], what: string): void {
  assert.equal(a.length, b.length, `${what}: as many tensors`);
  a.forEach((w, i) => assert.deepEqual(b[i], w, `${what}: tensor ${i} differs`));
}

/**
 * Asserts that training steps (softmax cross-entropy on xs, ys with `opt`) leave tf.memory()'s tensors and the wasm
 * heap's buffers flat, after one first step (optimizers make their state then).
 */
export function assertStepsLeakNothing(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor, opt: tf.Optimizer, what: string): void {
  const step = () => tf.tidy(() => { opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar); });
  step();
  const [tensors, buffers] = [tf.memory().numTensors, wasmDataBuffers()];
  for (let i = 0; i < 3; i++) step();
  assert.equal(tf.memory().numTensors, tensors, `${what}: tensors`);
  assert.equal(wasmDataBuffers(), buffers, `${what}: wasm buffers`);
}
