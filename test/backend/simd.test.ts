// The kit's own WebAssembly SIMD kernels (lib/backend/simd): built, loaded on the wasm backend's heap, and equal
// to tfjs's cpu kernels on the shapes their register tiles find hardest (channel counts that are not multiples
// of the tile, batch 1, odd sizes, every padding), ties and non-finite values included.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { initBackend, wasmDataBuffers } from '../../lib/backend';
import { simdBuildFiles, simdKernels } from '../../lib/backend/simd';
import { setConv2DFilterGradMode } from '../../lib/backend/kernels/conv2d_backprop_filter';
import { setConv2DInputGradMode } from '../../lib/backend/kernels/conv2d_backprop_input';
import { setConv2DMode } from '../../lib/backend/kernels/conv2d';
import { setDepthwiseFilterJsMaxMacs } from '../../lib/backend/kernels/depthwise_conv2d_backprop_filter';
import { Rng } from '../../lib/random';
import { quickOr } from '../../lib/config';
import { onBoth, randomDepthwiseCase, relError } from './helpers';

before(async () => {
  await initBackend({ backend: 'wasm' });
});

test('both SIMD builds exist, define no data segment, and load on the wasm backend', () => {
  const { plain, shared } = simdBuildFiles();
  for (const file of [plain, shared]) assert.ok(fs.existsSync(file), `${file} is built at install (npm run build)`);
  const kernels = simdKernels(tf.backend() as BackendWasm);
  assert.ok(kernels, 'the plain build instantiates on the backend memory');
  assert.equal(typeof kernels.conv2dFilterGradImages, 'function');
});

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];
type Shape = [number, number, number, number];
/** x's shape, output channels, filter size, padding. */
type ConvCase = [Shape, number, number, Pad];

/** The fixed cases, then `count` random ones: filter 1–5, any padding (explicit pads up to 3), channels from `channels`. */
function convCases(seed: number, fixed: ConvCase[], channels: (rng: Rng) => [number, number]): ConvCase[] {
  const rng = new Rng(seed);
  const cases = [...fixed];
  for (let t = 0; t < quickOr(12, 30); t++) {
    const k = 1 + rng.int(5);
    const pad: Pad = rng.bernoulli(0.5) ? (['same', 'valid'] as const)[rng.int(2)] : [[0, 0], [rng.int(4), rng.int(4)], [rng.int(4), rng.int(4)], [0, 0]];
    const [ci, co] = channels(rng);
    cases.push([[1 + rng.int(3), k + rng.int(8), k + rng.int(8), ci], co, k, pad]);
  }
  return cases;
}

/** `kernel` on wasm equals the cpu kernel (relative error ≤ 1e-5) and leaves only its result on the wasm heap. */
function expectMatchesCpu(kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>, what: string): void {
  const [ref, got] = onBoth(kernel, inputs, attrs);
  const err = relError(ref, got);
  assert.ok(err <= 1e-5, `${kernel} ${what}: rel. error ${err}`);
  const buffers = wasmDataBuffers();
  tf.engine().runKernel(kernel, inputs, attrs as unknown as tf.NamedAttrMap);
  assert.equal(wasmDataBuffers(), buffers + 1, `${kernel} ${what}: only the result stays allocated`);
}

/** Runs every case with `mode` forced through `set`, on cpu tensors made by `inputs`. */
function checkCases<M>(set: (m: M) => M, mode: M, cases: ConvCase[], run: (c: ConvCase, what: string) => void): void {
  const old = set(mode);
  try {
    for (const c of cases) {
      tf.tidy(() => {
        tf.setBackend('cpu');
        run(c, `x [${c[0]}] ↔ ${c[1]} channels, k${c[2]} ${JSON.stringify(c[3])}`);
      });
    }
  } finally {
    set(old);
    tf.setBackend('wasm');
  }
}

test('Conv2DBackpropFilter on the SIMD kernel matches cpu: channel counts around the 4×8 tile, kernels 1–5, every padding', () => {
  const fixed: ConvCase[] = [
    [[1, 7, 5, 3], 4, 3, 'same'],
    [[2, 9, 8, 1], 8, 3, 'valid'],
    [[1, 6, 9, 5], 12, 2, 'same'],
    [[3, 5, 5, 13], 20, 1, 'valid'],
    [[2, 8, 7, 8], 16, 5, 'same'],
    [[1, 6, 5, 4], 4, 3, [[0, 0], [2, 0], [0, 1], [0, 0]]],
    [[2, 4, 4, 6], 24, 3, [[0, 0], [0, 3], [3, 0], [0, 0]]],
    [[4, 16, 16, 16], 32, 3, 'same'],
  ];
  checkCases(setConv2DFilterGradMode, 'simd', convCases(11, fixed, (rng) => [1 + rng.int(10), 4 * (1 + rng.int(6))]), ([shape, co, k, pad], what) => {
    const x = tf.randomNormal(shape, 0, 1, 'float32', shape[3] + k) as tf.Tensor4D;
    const dy = tf.randomNormal(tf.conv2d(x, tf.zeros([k, k, shape[3], co]) as tf.Tensor4D, 1, pad).shape, 0, 1, 'float32', co);
    expectMatchesCpu('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad, dataFormat: 'NHWC', filterShape: [k, k, shape[3], co] }, what);
  });
});

test('Conv2DBackpropInput on the SIMD kernel matches cpu: rows narrower than the 4-pixel tile, pads past the filter, 4·k channels', () => {
  const fixed: ConvCase[] = [
    [[1, 5, 3, 4], 4, 3, 'same'],
    [[2, 9, 8, 8], 1, 3, 'valid'],
    [[1, 6, 9, 12], 5, 2, 'same'],
    [[3, 5, 5, 4], 20, 1, 'valid'],
    [[2, 8, 7, 16], 8, 5, 'same'],
    [[1, 6, 5, 4], 3, 3, [[0, 0], [3, 0], [0, 4], [0, 0]]],
    [[2, 4, 6, 8], 6, 3, [[0, 0], [0, 3], [3, 1], [0, 0]]],
    [[4, 8, 8, 32], 64, 3, 'same'],
  ];
  checkCases(setConv2DInputGradMode, 'simd', convCases(12, fixed, (rng) => [4 * (1 + rng.int(5)), 1 + rng.int(12)]), ([shape, co, k, pad], what) => {
    const w = tf.randomNormal([k, k, shape[3], co], 0, 1, 'float32', co + k) as tf.Tensor4D;
    const dy = tf.randomNormal(tf.conv2d(tf.zeros(shape) as tf.Tensor4D, w, 1, pad).shape, 0, 1, 'float32', shape[3]);
    expectMatchesCpu('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad, dataFormat: 'NHWC', inputShape: shape }, what);
  });
});

test('Conv2D (forward) on the SIMD kernel matches cpu: 1×1 and unpadded filters read x in place, padded ones copy it', () => {
  const fixed: ConvCase[] = [
    [[1, 5, 3, 8], 4, 3, 'same'],
    [[2, 9, 8, 8], 8, 1, 'valid'],
    [[1, 6, 9, 12], 12, 2, 'same'],
    [[3, 5, 5, 16], 20, 1, 'same'],
    [[2, 8, 7, 9], 16, 5, 'valid'],
    [[1, 6, 5, 8], 4, 3, [[0, 0], [3, 0], [0, 4], [0, 0]]],
    [[4, 8, 8, 32], 64, 3, 'same'],
  ];
  checkCases(setConv2DMode, 'simd', convCases(13, fixed, (rng) => [8 + rng.int(12), 4 * (1 + rng.int(5))]), ([shape, co, k, pad], what) => {
    const x = tf.randomNormal(shape, 0, 1, 'float32', co) as tf.Tensor4D;
    const w = tf.randomNormal([k, k, shape[3], co], 0, 1, 'float32', k) as tf.Tensor4D;
    expectMatchesCpu('Conv2D', { x, filter: w }, { strides: 1, pad, dataFormat: 'NHWC', dilations: 1 }, what);
  });
});

test('MaxPoolGrad 2×2 on the SIMD kernel equals cpu exactly: ties, NaN and −∞ per lane, odd sizes', () => {
  const rng = new Rng(5);
  for (let t = 0; t < quickOr(8, 20); t++) {
    const c = 4 * (1 + rng.int(4));
    const shape: [number, number, number, number] = [t % 3 === 0 ? 1 : 1 + rng.int(3), 2 + rng.int(9), 2 + rng.int(9), c];
    tf.tidy(() => {
      tf.setBackend('cpu');
      // relu(round(x)) gives exact ties; a few −∞ and NaN land in random lanes.
      const values = tf.relu(tf.round(tf.randomNormal(shape, 0, 1.5, 'float32', t))).dataSync().slice();
      for (let i = 0; i < values.length; i++) {
        const u = rng.next();
        if (u < 0.05) values[i] = NaN;
        else if (u < 0.1) values[i] = -Infinity;
      }
      const input = tf.tensor4d(values, shape);
      const output = tf.maxPool(input, 2, 2, 'valid');
      const dy = tf.randomNormal(output.shape, 0, 1, 'float32', t + 70);
      const [ref, got] = onBoth('MaxPoolGrad', { dy, input, output }, { filterSize: 2, strides: 2, pad: 'valid' });
      assert.deepEqual(Array.from(got.dataSync()), Array.from(ref.dataSync()), `[${shape}]`);
    });
  }
  tf.setBackend('wasm');
});

test('Sum and Mean over the leading axes (bias and batch-norm gradients) on the SIMD kernel match cpu; widths ≡ 4 mod 8 too', () => {
  const rng = new Rng(14);
  for (let t = 0; t < quickOr(10, 25); t++) {
    const c = 4 * (1 + rng.int(6));
    const shape = [1 + rng.int(4), 1 + rng.int(9), 1 + rng.int(9), c];
    tf.tidy(() => {
      tf.setBackend('cpu');
      const x = tf.randomNormal(shape, 0, 1, 'float32', t);
      for (const [kernel, axis] of [['Sum', [0, 1, 2]], ['Mean', [0, 1, 2]], ['Sum', [1, 2]], ['Mean', [1, 2]]] as const) {
        const attrs = { axis: [...axis], keepDims: false };
        const [ref, got] = onBoth(kernel, { x }, attrs);
        const err = relError(ref, got);
        assert.ok(err <= 1e-6, `${kernel} [${shape}] over [${axis}]: rel. error ${err}`);
        // …and bit for bit what the JavaScript loop gives (the same float64 additions in the same order)
        process.env.KIT_SIMD = '0';
        const js = tf.engine().runKernel(kernel, { x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
        delete process.env.KIT_SIMD;
        assert.deepEqual(Array.from(got.dataSync()), Array.from(js.dataSync()), `${kernel} [${shape}] over [${axis}]: SIMD and JavaScript differ`);
      }
    });
  }
  tf.setBackend('wasm');
});

test('Add of a bias over the last axis on the SIMD kernel equals cpu exactly; other broadcasts keep the backend kernel', () => {
  const cases: [number[], number[]][] = [
    [[32, 8, 8, 16], [16]],
    [[2, 3, 5, 12], [1, 1, 1, 12]],
    [[7, 4], [4]],
    [[3, 5, 20], [1, 20]],
    [[2, 3, 6], [6]], // 6 channels: the backend's kernel
    [[4, 8], [4, 8]], // no broadcast: the backend's kernel
    [[4, 1, 8], [3, 1]], // broadcast both ways: the backend's kernel
  ];
  for (const [sa, sb] of cases) {
    tf.tidy(() => {
      tf.setBackend('cpu');
      const a = tf.randomNormal(sa, 0, 1, 'float32', sa.length);
      const b = tf.randomNormal(sb, 0, 1, 'float32', sb.length + 7);
      const [ref, got] = onBoth('Add', { a, b }, {});
      assert.deepEqual(got.shape, ref.shape);
      assert.deepEqual(Array.from(got.dataSync()), Array.from(ref.dataSync()), `[${sa}] + [${sb}]`);
    });
  }
  tf.setBackend('wasm');
});

test('DepthwiseConv2dNativeBackpropFilter (multiplier 1) on the SIMD kernel: matches cpu, and bit for bit the JavaScript loop', () => {
  const rng = new Rng(15);
  for (let t = 0; t < quickOr(10, 25); t++) {
    const { c, k, s, d, pad, shape, what } = randomDepthwiseCase(rng, 5, 8);
    tf.tidy(() => {
      tf.setBackend('cpu');
      const x = tf.randomNormal(shape, 0, 1, 'float32', t) as tf.Tensor4D;
      const dy = tf.randomNormal(tf.depthwiseConv2d(x, tf.zeros([(k - 1) * d + 1, (k - 1) * d + 1, c, 1]) as tf.Tensor4D, s, pad).shape, 0, 1, 'float32', t + 1);
      const attrs = { strides: s, dilations: d, pad, filterShape: [k, k, c, 1] };
      tf.setBackend('wasm');
      const got = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      if (d === 1) {
        // tfjs's cpu kernel ignores dilations, so it is the reference for d = 1 only (kernels.test.ts covers d > 1)
        tf.setBackend('cpu');
        const ref = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
        assert.ok(relError(ref, got) <= 1e-5, `${what}: rel. error ${relError(ref, got)}`);
        tf.setBackend('wasm');
      }
      process.env.KIT_SIMD = '0';
      const old = setDepthwiseFilterJsMaxMacs(Infinity);
      const js = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
      setDepthwiseFilterJsMaxMacs(old);
      delete process.env.KIT_SIMD;
      assert.deepEqual(Array.from(got.dataSync()), Array.from(js.dataSync()), `${what}: SIMD and JavaScript differ`);
    });
  }
  tf.setBackend('wasm');
});

test('KIT_SIMD=0 turns the SIMD kernels off', () => {
  const old = process.env.KIT_SIMD;
  process.env.KIT_SIMD = '0';
  try {
    assert.equal(simdKernels(tf.backend() as BackendWasm), null);
  } finally {
    if (old === undefined) delete process.env.KIT_SIMD;
    else process.env.KIT_SIMD = old;
  }
  assert.ok(simdKernels(tf.backend() as BackendWasm));
});
