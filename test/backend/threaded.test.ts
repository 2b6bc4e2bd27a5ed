// The kit's SIMD kernels on the kit's thread pool (2 threads on the threaded build's shared heap): every split
// kernel gives the one-thread result bit for bit, agrees with tfjs's cpu kernels, frees what it allocates, and a
// chunk that fails in a worker is an error, not a hang.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend, wasmDataBuffers, wasmHeapBytes } from '../../lib/backend';
import { ALIGN_PAD_FLOATS, alignedOffset, chunkSize, setSimdThreads, setSplitPolicy, simdKernels, simdPoolJobs, SPLIT_POLICY } from '../../lib/backend/simd';
import { BENCH_JOBS, BENCH_MIN_JOBS, JUDGE_JOBS, jobGain, KernelPool } from '../../lib/backend/simd/pool';
import { buildEfficientNet } from '../../lib/models';
import { Rng } from '../../lib/random';
import { relError, trainingBatchNorm } from './helpers';

before(async () => {
  const info = await initBackend({ backend: 'wasm', threads: 2 });
  assert.equal(info.threads, 2, 'the threaded build started with 2 threads for the kit');
  // Tiny test shapes still cut into many chunks, so every chunk boundary is exercised.
  setSplitPolicy({ minChunkWork: 1, judge: false });
});
after(() => {
  setSplitPolicy(SPLIT_POLICY);
  setSimdThreads(2);
});

/** `f` on 1 thread and on 2 (same inputs): the outputs' values, and how many pool jobs the 2-thread run made. */
function oneAndTwo(f: () => tf.Tensor | tf.Tensor[]): { one: Float32Array[]; two: Float32Array[]; jobs: number } {
  const run = (threads: number) => {
    setSimdThreads(threads);
    return tf.tidy(() => [f()].flat().map((t) => t.dataSync() as Float32Array));
  };
  const one = run(1);
  const before = simdPoolJobs();
  const two = run(2);
  setSimdThreads(2);
  return { one, two, jobs: simdPoolJobs() - before };
}

function assertSameBits(what: string, f: () => tf.Tensor | tf.Tensor[]): void {
  const { one, two, jobs } = oneAndTwo(f);
  assert.ok(jobs > 0, `${what}: the 2-thread run used the pool`);
  one.forEach((a, i) => {
    const b = two[i];
    assert.equal(b.length, a.length);
    const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
    const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
    for (let k = 0; k < ua.length; k++) if (ua[k] !== ub[k]) assert.fail(`${what}, output ${i}: element ${k} is ${b[k]} on 2 threads, ${a[k]} on 1`);
  });
}

test('convolutions (forward with bias and relu, strided, 1×1; both gradients) give the same bits on 1 and 2 threads', () => {
  const rng = new Rng(21);
  for (let t = 0; t < 6; t++) {
    const [ci, co, k, s] = [[3, 16, 3, 2], [16, 32, 3, 1], [24, 96, 1, 1], [8, 12, 5, 1], [13, 20, 2, 2], [32, 64, 3, 1]][t];
    const n = 1 + rng.int(4);
    const x = tf.randomNormal([n, 6 + rng.int(10), 6 + rng.int(10), ci], 0, 1, 'float32', t) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, ci, co], 0, 1, 'float32', t + 9) as tf.Tensor4D;
    const b = tf.randomNormal([co], 0, 1, 'float32', t + 3) as tf.Tensor1D;
    const what = `x [${x.shape}] k${k} s${s} → ${co}`;
    assertSameBits(`Conv2D ${what}`, () => tf.conv2d(x, w, s, 'same'));
    assertSameBits(`FusedConv2D relu ${what}`, () => tf.fused.conv2d({ x, filter: w, strides: s, pad: 'same', bias: b, activation: 'relu' }));
    if (s === 1) {
      const loss = (xv: tf.Tensor, wv: tf.Tensor) => tf.conv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, 1, 'same').square().sum();
      assertSameBits(`conv gradients ${what}`, () => tf.grads(loss)([x, w]));
    }
  }
});

test('MaxPoolGrad, depthwise forward and both depthwise gradients give the same bits on 1 and 2 threads', () => {
  // 40 channels: the depthwise filter gradient's chunks are whole 16-channel lines (align 4), so 40 = 16 + 16 + 8
  // gives it three chunks, the last a partial one.
  const x = tf.relu(tf.randomNormal([3, 12, 10, 40], 0, 1, 'float32', 1)) as tf.Tensor4D;
  assertSameBits('MaxPoolGrad', () => tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid').square().sum())(x));
  for (const [k, s, d] of [[3, 1, 1], [5, 2, 1], [3, 1, 2], [3, 2, 1]]) {
    const w = tf.randomNormal([k, k, 40, 1], 0, 1, 'float32', k) as tf.Tensor4D;
    const loss = (xv: tf.Tensor, wv: tf.Tensor) => tf.depthwiseConv2d(xv as tf.Tensor4D, wv as tf.Tensor4D, s, 'same', 'NHWC', d).square().sum();
    assertSameBits(`depthwise k${k} s${s} d${d}`, () => tf.depthwiseConv2d(x, w, s, 'same', 'NHWC', d));
    if (d === 1) {
      assertSameBits(`depthwise gradients k${k} s${s}`, () => tf.grads(loss)([x, w]));
      continue;
    }
    // tfjs's depthwise gradient refuses dilations > 1; the kernels themselves take them.
    const dy = tf.randomNormal(tf.depthwiseConv2d(x, w, s, 'same', 'NHWC', d).shape, 0, 1, 'float32', 8);
    const attrs = { strides: s, dilations: d, pad: 'same' } as unknown as tf.NamedAttrMap;
    assertSameBits(`depthwise input gradient k${k} d${d}`, () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor);
    assertSameBits(`depthwise filter gradient k${k} d${d}`, () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor);
  }
});

test('aligned chunks: whole multiples of align units, covering every unit; scratch offsets on 64-byte lines', () => {
  for (const [units, chunks, align, per] of [[10, 4, 4, 4], [10, 16, 4, 4], [6, 2, 4, 4], [4, 8, 4, 4], [40, 16, 4, 4], [64, 3, 4, 24], [10, 4, 1, 3], [7, 100, 1, 1], [3, 2, 4, 3]]) {
    const got = chunkSize(units, chunks, align);
    assert.equal(got, per, `chunkSize(${units}, ${chunks}, ${align})`);
    assert.ok(got === units || got % align === 0, 'a multiple of align unless it is all the units');
    assert.ok(Math.ceil(units / got) <= Math.max(1, chunks), 'no more chunks than asked for');
  }
  for (let off = 0; off < 256; off += 4) {
    const a = alignedOffset(off);
    assert.ok(a % 64 === 0 && a >= off && a - off <= ALIGN_PAD_FLOATS * 4 - 4, `alignedOffset(${off}) = ${a}`);
  }
});

test('batch norm (forward and its fused gradient), sigmoid and square gradients give the same bits on 1 and 2 threads', () => {
  const x = tf.randomNormal([4, 6, 6, 24], 1, 2, 'float32', 5) as tf.Tensor4D;
  const gamma = tf.randomNormal([24], 1, 0.3, 'float32', 6);
  const beta = tf.randomNormal([24], 0, 0.3, 'float32', 7);
  const loss = (xv: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sigmoid(trainingBatchNorm(xv, g, b)).square().sum();
  assertSameBits('batch norm forward', () => trainingBatchNorm(x, gamma, beta));
  assertSameBits('batch norm, sigmoid and square gradients', () => tf.grads(loss)([x, gamma, beta]));
});

test('the threaded kernels agree with tfjs\'s cpu kernels', () => {
  const x = tf.randomNormal([2, 9, 7, 8], 0, 1, 'float32', 11) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 8, 12], 0, 1, 'float32', 12) as tf.Tensor4D;
  const dw = tf.randomNormal([3, 3, 8, 1], 0, 1, 'float32', 13) as tf.Tensor4D;
  const b = tf.randomNormal([12], 0, 1, 'float32', 14) as tf.Tensor1D;
  const cases: [string, () => tf.Tensor | tf.Tensor[]][] = [
    ['FusedConv2D s2 relu', () => tf.fused.conv2d({ x, filter: w, strides: 2, pad: 'same', bias: b, activation: 'relu' })],
    ['conv gradients', () => tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, f as tf.Tensor4D, 1, 'same').square().sum())([x, w])],
    ['depthwise s2 and gradients', () => tf.grads((a: tf.Tensor, f: tf.Tensor) => tf.depthwiseConv2d(a as tf.Tensor4D, f as tf.Tensor4D, 2, 'same').square().sum())([x, dw])],
  ];
  for (const [what, f] of cases) {
    tf.setBackend('cpu');
    const ref = [f()].flat();
    tf.setBackend('wasm');
    const got = [f()].flat();
    ref.forEach((r, i) => assert.ok(relError(r, got[i]) <= 1e-5, `${what} output ${i}: rel. error ${relError(r, got[i])}`));
  }
});

test('threaded kernels free what they allocate: one result per call, and a training loop keeps tensors, buffers and heap flat', async () => {
  const x = tf.randomNormal([4, 16, 16, 16], 0, 1, 'float32', 3) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 16, 32], 0, 1, 'float32', 4) as tf.Tensor4D;
  const dy = tf.randomNormal([4, 16, 16, 32], 0, 1, 'float32', 5);
  for (const [kernel, inputs, attrs] of [
    ['Conv2D', { x, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 1 }],
    ['Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: [3, 3, 16, 32] }],
    ['Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [4, 16, 16, 16] }],
  ] as const) {
    const buffers = wasmDataBuffers();
    const before = simdPoolJobs();
    const out = tf.engine().runKernel(kernel, inputs as unknown as tf.NamedTensorMap, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
    assert.ok(simdPoolJobs() > before, `${kernel} ran on the pool`);
    assert.equal(wasmDataBuffers(), buffers + 1, `${kernel}: only the result stays allocated`);
    out.dispose();
  }
  const model = buildEfficientNet({ phi: 0, numClasses: 3, seed: 1, inputShape: [16, 16, 3] });
  const xs = tf.randomUniform([8, 16, 16, 3], 0, 1, 'float32', 2);
  const ys = tf.oneHot(tf.tensor1d([0, 1, 2, 0, 1, 2, 0, 1], 'int32'), 3);
  const opt = tf.train.adam(1e-3);
  const step = () => tf.tidy(() => { opt.minimize(() => tf.losses.softmaxCrossEntropy(ys, model.apply(xs, { training: true }) as tf.Tensor) as tf.Scalar); });
  for (let i = 0; i < 2; i++) step();
  await model.getWeights()[0].data();
  const [tensors, buffers, heap] = [tf.memory().numTensors, wasmDataBuffers(), wasmHeapBytes()];
  const jobs = simdPoolJobs();
  for (let i = 0; i < 3; i++) step();
  await model.getWeights()[0].data();
  assert.ok(simdPoolJobs() > jobs, 'the MBConv steps used the pool');
  assert.equal(tf.memory().numTensors, tensors, 'tf.memory().numTensors stays flat');
  assert.equal(wasmDataBuffers(), buffers, 'wasm buffers stay flat');
  assert.equal(wasmHeapBytes(), heap, 'the wasm heap does not grow');
  model.dispose();
  opt.dispose();
  tf.dispose([x, w, dy, xs, ys]);
});

test('a chunk that fails in a worker is an error naming the kernel, and the pool keeps working', async () => {
  const backend = tf.backend() as BackendWasm;
  const wasm = (backend as unknown as { wasm: { wasmMemory: object } }).wasm;
  const simd = simdKernels(backend)!;
  const exports = { ...(simd as unknown as Record<string, unknown>) };
  const module = new WebAssembly.Module(require('fs').readFileSync(require('../../lib/backend/simd').simdBuildFiles().shared));
  const pool = new KernelPool(module, wasm.wasmMemory, exports, 1);
  try {
    // Offsets far past the heap trap in whichever thread takes the chunk.
    const far = 2 ** 31 - 64;
    assert.throws(() => pool.run('maxPoolGrad2x2Rows', 64, 1, [far, far, far, 2, 2, 4, 1, 1]), /maxPoolGrad2x2Rows failed/);
    const x = tf.randomNormal([8, 4, 4, 4], 0, 1, 'float32', 1);
    const y = tf.grad((v: tf.Tensor) => tf.maxPool(v as tf.Tensor4D, 2, 2, 'valid').sum())(x);
    assert.equal(y.shape.join(), x.shape.join(), 'the backend still computes afterwards');
  } finally {
    await pool.close();
  }
});

test('the pool benches its workers for a while (longer after each further loss) when waiting for them cost more than they saved', async () => {
  assert.equal(jobGain(8, 4, 2, 0.1), 2 - 0.1, 'the workers did half at the caller\'s pace');
  assert.equal(jobGain(8, 8, 4, 0), 0, 'the caller did everything');
  assert.equal(jobGain(8, 7, 3.5, 3), 0.5 - 3, 'a descheduled worker held a chunk for 3 ms');
  assert.equal(jobGain(8, 0, 0, 2), 0, 'the workers did everything');
  const backend = tf.backend() as BackendWasm;
  const memory = (backend as unknown as { wasm: { wasmMemory: object } }).wasm.wasmMemory;
  const module = new WebAssembly.Module(require('fs').readFileSync(require('../../lib/backend/simd').simdBuildFiles().shared));
  const pool = new KernelPool(module, memory, { ...(simdKernels(backend) as unknown as Record<string, unknown>) }, 1);
  try {
    const lose = () => {
      for (let i = 0; i < JUDGE_JOBS; i++) pool.book(8, 7, 3.5, 3);
    };
    const win = () => {
      for (let i = 0; i < JUDGE_JOBS; i++) pool.book(8, 4, 2, 0.1);
    };
    const benchedFor = () => {
      let benched = 0;
      while (!pool.useful()) benched++;
      return benched;
    };
    lose();
    assert.equal(pool.useful(), true, 'the first window (the workers starting up) is not judged');
    win();
    assert.equal(pool.useful(), true, 'a window that paid keeps the workers');
    lose();
    assert.equal(pool.useful(false), true, 'unless judging is off');
    assert.equal(benchedFor(), BENCH_MIN_JOBS, 'a window that lost runs the next jobs on the caller alone');
    const lengths = [];
    for (let k = 0; k < 6; k++) {
      lose();
      lengths.push(benchedFor());
    }
    assert.deepEqual(lengths, [2, 4, 8, 16, 16, 16].map((f) => Math.min(f * BENCH_MIN_JOBS, BENCH_JOBS)), 'each further loss doubles the bench, up to BENCH_JOBS');
    win();
    lose();
    assert.equal(benchedFor(), BENCH_MIN_JOBS, 'a window that paid resets it');
    assert.equal(pool.benched, BENCH_MIN_JOBS * (1 + 2 + 4 + 8 + 16 + 16 + 16 + 1), 'the benched jobs are counted (simdPoolStats)');
  } finally {
    await pool.close();
  }
});

/**
 * In a fresh Node process in the repository (KIT_WASM_THREADS unset): the compiled library's `initBackend(init)`,
 * then `body` (JavaScript with `tf`, `backend`, `info` in scope) whose value is returned (as JSON).
 */
function withDistBackend<T>(init: object, body: string): T {
  const { spawnSync } = require('child_process') as typeof import('child_process');
  const root = require('../../lib/config').repoRoot() as string;
  const script = [
    "const tf = require('@tensorflow/tfjs');",
    "const backend = require('./dist/lib/backend');",
    `backend.initBackend(${JSON.stringify(init)}).then((info) => {`,
    `  console.log(JSON.stringify((() => { ${body} })())); process.exit(0);`,
    '});',
  ].join('\n');
  const res = spawnSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8', env: { ...process.env, KIT_WASM_THREADS: '' } });
  assert.equal(res.status, 0, res.stderr);
  return JSON.parse(res.stdout.trim().split('\n').pop()!) as T;
}

test('the compiled library (dist/, what notebooks import) runs the pool too', () => {
  const out = withDistBackend<{ threads: number; jobs: number }>(
    { backend: 'wasm', threads: 2 },
    "const x = tf.randomNormal([8, 16, 16, 16]); const w = tf.randomNormal([3, 3, 16, 32]);" +
      "tf.grads((a, b) => tf.conv2d(a, b, 1, 'same').square().sum())([x, w]);" +
      "return { threads: info.threads, jobs: require('./dist/lib/backend/simd').simdPoolJobs() };",
  );
  assert.equal(out.threads, 2);
  assert.ok(out.jobs > 0, 'pool jobs ran in the compiled library');
});

test('by default (no threads option, KIT_WASM_THREADS unset) wasm runs threadsFor(available cores) threads: one core spare, at most 2', () => {
  const out = withDistBackend<{ threads: number; cores: number }>(
    { backend: 'wasm' },
    "return { threads: info.threads, cores: require('./dist/lib/backend/cores').availableCores() };",
  );
  assert.equal(out.threads, Math.max(1, Math.min(2, out.cores - 1)));
});
