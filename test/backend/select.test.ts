// Backend selection: native when tfjs-native loads (faked here both ways), else wasm, KIT_BACKEND forcing.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { describeBackend, initBackend, resetBackendSelection, setNativeLoader } from '../../lib/backend';

const absent = () => {
  throw new Error("Cannot find module 'tfjs-native'");
};

/** A stand-in for tfjs-native: registers a backend named 'tensorflow' that is tfjs's cpu backend underneath. */
let fakeLoads = 0;
const fakePresent = () => {
  fakeLoads++;
  if (tf.findBackendFactory('tensorflow') != null) return;
  tf.registerBackend('tensorflow', () => new MathBackendCPU(), 3);
  for (const k of tf.getKernelsForBackend('cpu')) tf.registerKernel({ ...k, backendName: 'tensorflow' });
};

afterEach(() => {
  delete process.env.KIT_BACKEND;
  setNativeLoader(null);
  resetBackendSelection();
  if (tf.findBackendFactory('tensorflow') != null) {
    for (const k of tf.getKernelsForBackend('tensorflow')) tf.unregisterKernel(k.kernelName, 'tensorflow');
    tf.removeBackend('tensorflow');
  }
});

test('importing the library registers the training kernels on wasm (no initBackend needed)', async () => {
  const { WASM_TRAINING_KERNELS } = await import('../../lib/backend');
  for (const config of WASM_TRAINING_KERNELS) {
    assert.equal(tf.getKernel(config.kernelName, 'wasm')?.kernelFunc, config.kernelFunc, config.kernelName);
  }
});

test('without tfjs-native the kit picks wasm (with its training kernels), and says why', async () => {
  setNativeLoader(absent);
  const info = await initBackend();
  assert.equal(info.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  // information, not an error text: a missing optional package is the normal case off-line
  assert.equal(info.reason, "native TensorFlow not installed; using wasm with the kit's training kernels");
  assert.doesNotMatch(describeBackend(), /Cannot find module|unavailable|error/i);
  assert.ok(info.kitKernels.includes('Conv2DBackpropFilter'));
  assert.equal(info.tfjsVersion, tf.version_core);
  assert.ok(info.threads >= 1);
  assert.match(describeBackend(), /^wasm \(.*thread.*\) · tfjs \d+\.\d+\.\d+ — /);
  assert.equal(info.kitSimd, true, "the kit's SIMD kernels are built and load");
  assert.match(describeBackend(), /the kit's SIMD kernels/);
});

test('a native package that is installed but fails to load is reported with its error', async () => {
  setNativeLoader(() => {
    throw new Error('libtensorflow.so.2: cannot open shared object file');
  });
  const info = await initBackend();
  assert.equal(info.backend, 'wasm');
  assert.match(info.reason, /^tfjs-native unavailable \(libtensorflow\.so\.2: cannot open shared object file\); using wasm/);
});

test('initBackend is idempotent: a second call returns the first result without choosing again', async () => {
  setNativeLoader(absent);
  const first = await initBackend();
  setNativeLoader(fakePresent); // would now select 'tensorflow' if it chose again
  const second = await initBackend();
  assert.equal(second, first);
  assert.equal(tf.getBackend(), 'wasm');
});

test('when tfjs-native loads, the native backend is chosen and computes', async () => {
  fakeLoads = 0;
  setNativeLoader(fakePresent);
  const info = await initBackend();
  assert.equal(fakeLoads, 1);
  assert.equal(info.backend, 'tensorflow');
  assert.equal(tf.getBackend(), 'tensorflow');
  assert.match(info.reason, /native/);
  assert.deepEqual(Array.from(tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).dataSync()), [4, 6]);
});

test('KIT_BACKEND forces a backend even when a faster one loads', async () => {
  setNativeLoader(fakePresent);
  process.env.KIT_BACKEND = 'cpu';
  const info = await initBackend();
  assert.equal(info.backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.match(info.reason, /KIT_BACKEND=cpu/);
});

test('an explicit option wins over KIT_BACKEND', async () => {
  setNativeLoader(absent);
  process.env.KIT_BACKEND = 'cpu';
  const info = await initBackend({ backend: 'wasm' });
  assert.equal(info.backend, 'wasm');
});

test('forcing a backend that cannot load is a clear error (and a later call may retry)', async () => {
  setNativeLoader(absent);
  process.env.KIT_BACKEND = 'tensorflow';
  await assert.rejects(initBackend(), /backend "tensorflow" cannot load: Cannot find module 'tfjs-native'/);
  process.env.KIT_BACKEND = 'tpu';
  await assert.rejects(initBackend(), /unknown backend "tpu" \(from KIT_BACKEND\), expected one of tensorflow, wasm, cpu/);
  delete process.env.KIT_BACKEND;
  assert.equal((await initBackend()).backend, 'wasm');
});

test('initBackend({ backend }) switches when another backend than the active one is forced, and stays cached otherwise', async () => {
  const a = await initBackend();
  const cpu = await initBackend({ backend: 'cpu' });
  assert.equal(cpu.backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(await initBackend(), cpu); // cached
  const back = await initBackend({ backend: a.backend });
  assert.equal(back.backend, a.backend);
  assert.equal(tf.getBackend(), a.backend);
});
