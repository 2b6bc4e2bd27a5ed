// Experimental multi-threaded wasm under Node (opt-in): it starts 2 threads and computes the same results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../../lib/backend';
import { simdKernels } from '../../lib/backend/simd';
import { relError } from './helpers';

test('initBackend({threads: 2}) runs wasm with 2 threads, restores its patches, and conv gradients match cpu', async () => {
  const cores = os.cpus().length;
  const info = await initBackend({ backend: 'wasm', threads: 2 });
  assert.equal(info.backend, 'wasm');
  assert.equal(info.threads, 2);
  assert.equal(os.cpus().length, cores, 'os.cpus() is restored');
  assert.ok(!URL.createObjectURL.toString().includes('kitText'), 'URL.createObjectURL is restored');
  assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('kit-wasm-threads-')), [], 'temporary scripts removed');
  const x = tf.randomNormal([4, 12, 12, 8], 0, 1, 'float32', 1) as tf.Tensor4D;
  const w = tf.randomNormal([3, 3, 8, 16], 0, 1, 'float32', 2) as tf.Tensor4D;
  assert.ok(simdKernels(tf.backend() as BackendWasm), 'the shared-memory SIMD build loads on the threaded heap');
  // Strided (XNNPACK + JavaScript) and stride 1 + 2×2 max pool (the SIMD kernels on the shared heap).
  const f = (v: tf.Tensor) => tf.conv2d(x, v as tf.Tensor4D, 2, 'same').square().sum();
  const g = (v: tf.Tensor) => tf.maxPool(tf.relu(tf.conv2d(x, v as tf.Tensor4D, 1, 'same')), 2, 2, 'valid').square().sum();
  for (const loss of [f, g]) {
    tf.setBackend('cpu');
    const ref = tf.grad(loss)(w);
    tf.setBackend('wasm');
    const got = tf.grad(loss)(w);
    assert.ok(relError(ref, got) <= 1e-4, `rel. error ${relError(ref, got)}`);
  }
});
