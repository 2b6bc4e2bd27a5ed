// The kit's second-pass wasm kernels against tfjs's cpu kernels on randomized shapes (batch 1, odd sizes): Sum and
// Mean (JS reductions), Identity/Cast (shared buffers), MaxPoolGrad with ties, both paths of the depthwise filter gradient,
// Slice, the small pointwise convolution gradients.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend, wasmDataBuffers } from '../../lib/backend';
import { reductionView } from '../../lib/backend/kernels/reduce';
import { setDepthwiseFilterJsMaxMacs } from '../../lib/backend/kernels/depthwise_conv2d_backprop_filter';
import { setConv2DFilterGradMode, type FilterGradMode } from '../../lib/backend/kernels/conv2d_backprop_filter';
import { setConv2DInputGradMode, type InputGradMode } from '../../lib/backend/kernels/conv2d_backprop_input';
import { Rng } from '../../lib/random';
import { quickOr } from '../../lib/config';
import { onBoth, relError } from './helpers';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { fillOutput } from '../../lib/backend/kernels/compose';

const TOL = 1e-4;

before(async () => {
  await initBackend({ backend: 'wasm' });
});

test('reductionView finds [kept, reduced, kept] layouts and leaves the rest to the backend', () => {
  assert.deepEqual(reductionView([32, 16, 16, 64], [0, 1, 2]), { a: 1, r: 8192, b: 64 });
  assert.deepEqual(reductionView([32, 16, 16, 64], [1, 2]), { a: 32, r: 256, b: 64 });
  assert.deepEqual(reductionView([1, 5, 1, 3], [0, 1]), { a: 1, r: 5, b: 3 });
  assert.equal(reductionView([4, 5, 6], [2]), null); // innermost: the backend needs no transpose
  assert.equal(reductionView([4, 5, 6], [0, 2]), null); // interleaved
  assert.equal(reductionView([4, 5, 6], []), null);
});

test('Sum and Mean match the cpu kernels (leading, middle, innermost, interleaved axes; keepDims; int32)', () => {
  const rng = new Rng(21);
  const axesChoices = [[0, 1, 2], [1, 2], [0], [1], [-2], [3], [0, 2], null, [0, 1, 2, 3]];
  for (let t = 0; t < quickOr(40, 18); t++) {
    const shape = [t % 5 === 0 ? 1 : 1 + rng.int(9), 1 + rng.int(7), 1 + rng.int(7), 1 + rng.int(70)];
    const axis = axesChoices[t % axesChoices.length];
    const keepDims = rng.bernoulli(0.5);
    const dtype = t % 7 === 6 ? 'int32' : 'float32';
    tf.tidy(() => {
      tf.setBackend('cpu');
      const x = dtype === 'int32' ? tf.randomUniform(shape, -50, 50, 'int32', t) : tf.randomNormal(shape, 0.5, 2, 'float32', t);
      for (const kernel of ['Sum', 'Mean']) {
        const [ref, got] = onBoth(kernel, { x }, { axis, keepDims });
        assert.equal(got.dtype, ref.dtype, `${kernel} dtype`);
        const err = relError(ref, got);
        assert.ok(err <= TOL, `${kernel} [${shape}] axis ${JSON.stringify(axis)} keepDims ${keepDims} ${dtype}: rel. error ${err}`);
      }
    });
  }
  tf.setBackend('wasm');
});

test('Sum over the batch of a large activation (the batch-norm gradient shape) matches cpu', () => {
  tf.tidy(() => {
    tf.setBackend('cpu');
    const x = tf.randomNormal([32, 8, 8, 96], 1, 3, 'float32', 4);
    const [ref, got] = onBoth('Sum', { x }, { axis: [0, 1, 2], keepDims: false });
    assert.ok(relError(ref, got) <= TOL, `rel. error ${relError(ref, got)}`);
  });
  tf.setBackend('wasm');
});

test('Identity and same-dtype Cast share the buffer on wasm: values, dtype, and no buffer left behind', () => {
  tf.setBackend('wasm');
  const before = wasmDataBuffers();
  const x = tf.randomNormal([3, 5, 7], 0, 1, 'float32', 9);
  const expected = Array.from(x.dataSync());
  const y = tf.clone(x);
  const z = tf.cast(x, 'float32');
  const i = tf.cast(x, 'int32'); // a real conversion: the backend's kernel
  x.dispose(); // the aliases keep the data alive
  assert.deepEqual(Array.from(y.dataSync()), expected);
  assert.deepEqual(Array.from(z.dataSync()), expected);
  assert.equal(i.dtype, 'int32');
  assert.deepEqual(Array.from(i.dataSync()), expected.map((v) => Math.trunc(v) + 0));
  const w = tf.add(y, 1); // kernels reading an alias see the same values
  assert.ok(Math.abs(w.dataSync()[4] - (expected[4] + 1)) < 1e-6);
  tf.dispose([y, z, i, w]);
  assert.equal(wasmDataBuffers(), before, 'every buffer freed once all aliases are disposed');
});

test('MaxPoolGrad matches the cpu kernel exactly with ties (ReLU zeros, rounded values), batch 1, odd sizes', () => {
  const rng = new Rng(31);
  const configs: [number, number, 'same' | 'valid' | number][] = [[2, 2, 'valid'], [3, 2, 'same'], [3, 1, 'same'], [2, 1, 'valid'], [3, 2, 1]];
  for (let t = 0; t < quickOr(15, 10); t++) {
    const [k, s, pad] = configs[t % configs.length];
    const shape: [number, number, number, number] = [t % 3 === 0 ? 1 : 1 + rng.int(4), k + rng.int(9), k + rng.int(9), 1 + rng.int(7)];
    tf.tidy(() => {
      tf.setBackend('cpu');
      // relu(round(x)) has many exact ties, including all-zero windows: the first maximum must win.
      const input = tf.relu(tf.round(tf.randomNormal(shape, 0, 1.5, 'float32', t))) as tf.Tensor4D;
      const output = tf.maxPool(input, k, s, pad);
      const dy = tf.randomNormal(output.shape, 0, 1, 'float32', t + 70);
      const [ref, got] = onBoth('MaxPoolGrad', { dy, input, output }, { filterSize: k, strides: s, pad });
      assert.ok(relError(ref, got) <= 1e-6, `MaxPoolGrad [${shape}] k${k} s${s} pad ${pad}: rel. error ${relError(ref, got)}`);
    });
  }
  tf.setBackend('wasm');
});

test('DepthwiseConv2dNativeBackpropFilter: the JavaScript loop and the XNNPACK formulation both match cpu', () => {
  // kernels.test.ts covers small shapes (the JavaScript loop); here each case runs through both paths.
  const cases: [[number, number, number, number], number, number, number, 'same' | 'valid'][] = [
    [[1, 7, 9, 5], 3, 1, 2, 'same'],
    [[3, 10, 8, 4], 3, 2, 1, 'same'],
    [[2, 9, 9, 3], 5, 2, 2, 'valid'],
    [[2, 6, 7, 6], 1, 1, 1, 'valid'],
  ];
  const old = setDepthwiseFilterJsMaxMacs(0);
  try {
    for (const [shape, k, s, m, pad] of cases) {
      for (const limit of [0, Infinity]) {
        setDepthwiseFilterJsMaxMacs(limit);
        // the SIMD kernel (multiplier 1, c % 4 = 0) would take precedence over both: off here (simd.test.ts covers it)
        process.env.KIT_SIMD = '0';
        tf.tidy(() => {
          tf.setBackend('cpu');
          const x = tf.randomNormal(shape, 0, 1, 'float32', k * 10 + s) as tf.Tensor4D;
          const w = tf.randomNormal([k, k, shape[3], m], 0, 1, 'float32', 3) as tf.Tensor4D;
          const dy = tf.randomNormal(tf.depthwiseConv2d(x, w, s, pad).shape, 0, 1, 'float32', 4);
          const [ref, got] = onBoth('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { strides: s, dilations: 1, pad, filterShape: w.shape });
          const err = relError(ref, got);
          assert.ok(err <= TOL, `[${shape}] k${k} s${s} m${m} ${pad} (${limit === 0 ? 'XNNPACK' : 'JavaScript'}): rel. error ${err}`);
        });
      }
    }
  } finally {
    delete process.env.KIT_SIMD;
    setDepthwiseFilterJsMaxMacs(old);
    tf.setBackend('wasm');
  }
});

test('MaxPoolGrad: windows of −∞ and NaN give the cpu kernel\'s result (2×2 fast path and general path)', () => {
  const vals = [-Infinity, -Infinity, NaN, 2, -Infinity, -Infinity, 1, NaN, NaN, NaN, 0, 0, NaN, NaN, 0, 0];
  for (const [k, s] of [[2, 2], [3, 2]]) {
    tf.tidy(() => {
      tf.setBackend('cpu');
      const input = tf.tensor4d(vals, [1, 4, 4, 1]);
      const output = tf.maxPool(input, k, s, 'valid');
      const dy = tf.randomNormal(output.shape, 0, 1, 'float32', 5);
      const [ref, got] = onBoth('MaxPoolGrad', { dy, input, output }, { filterSize: k, strides: s, pad: 'valid' });
      assert.deepEqual(Array.from(got.dataSync()), Array.from(ref.dataSync()), `k${k} s${s}`);
    });
  }
  tf.setBackend('wasm');
});

test('Conv2DBackpropFilter: every formulation matches cpu on the reference CNN\'s shapes and frees its intermediates', () => {
  // kernels.test.ts covers small randomized shapes; here batch 4 of the reference net's layers at 16 px
  // (3, 16 and 32 input channels: both im2col variants are picked by 'auto'), plus a strided one.
  const cases: [[number, number, number, number], number, number][] = [
    [[4, 16, 16, 3], 16, 1],
    [[4, 16, 16, 16], 32, 1],
    [[4, 8, 8, 32], 64, 1],
    [[3, 15, 17, 12], 8, 2],
  ];
  for (const mode of ['auto', 'simd', 'conv', 'im2col', 'shifted', 'strided'] as FilterGradMode[]) {
    const old = setConv2DFilterGradMode(mode);
    try {
      for (const [shape, co, s] of cases) {
        tf.tidy(() => {
          tf.setBackend('cpu');
          const x = tf.randomNormal(shape, 0, 1, 'float32', shape[3]) as tf.Tensor4D;
          const w = tf.randomNormal([3, 3, shape[3], co], 0, 1, 'float32', 2) as tf.Tensor4D;
          const dy = tf.randomNormal(tf.conv2d(x, w, s, 'same').shape, 0, 1, 'float32', 3);
          const attrs = { strides: s, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape };
          const [ref, got] = onBoth('Conv2DBackpropFilter', { x, dy }, attrs);
          const err = relError(ref, got);
          assert.ok(err <= TOL, `[${shape}] → ${co} s${s} (${mode}): rel. error ${err}`);
          const buffers = wasmDataBuffers();
          tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap);
          assert.equal(wasmDataBuffers(), buffers + 1, `[${shape}] (${mode}): only the result stays on the wasm heap`);
        });
      }
    } finally {
      setConv2DFilterGradMode(old);
      tf.setBackend('wasm');
    }
  }
});

test('fillOutput (the clean-up of kernels that write their own output): the output is freed on an error, the scratch always', () => {
  tf.setBackend('wasm');
  const backend = tf.backend() as BackendWasm;
  const before = wasmDataBuffers();
  const out = backend.makeOutput([8], 'float32');
  const scratch = [backend.makeOutput([4], 'float32'), backend.makeOutput([2], 'float32')];
  assert.equal(wasmDataBuffers(), before + 3);
  assert.throws(() => fillOutput(backend, out, scratch, () => { throw new Error('kernel failed'); }), /kernel failed/);
  assert.equal(wasmDataBuffers(), before, 'output and scratch freed after the error');
  const ok = backend.makeOutput([8], 'float32');
  const tmp = backend.makeOutput([4], 'float32');
  const got = fillOutput(backend, ok, [tmp], () => (backend.typedArrayFromHeap(ok) as Float32Array).fill(3));
  assert.equal(got, ok);
  assert.equal(wasmDataBuffers(), before + 1, 'only the output stays');
  assert.deepEqual(Array.from(backend.typedArrayFromHeap(ok) as Float32Array), new Array(8).fill(3));
  backend.disposeData(ok.dataId);
  assert.equal(wasmDataBuffers(), before);
});

test('Slice matches the cpu kernel exactly: ranks 1–6, cut and whole dimensions, size −1, float32 / int32 / bool, empty', () => {
  const rng = new Rng(57);
  const cases: { shape: number[]; begin: number[]; size: number[] }[] = [
    { shape: [256, 4, 4, 3], begin: [32, 0, 0, 0], size: [32, -1, -1, -1] }, // a batch: one contiguous run
    { shape: [5, 6, 7], begin: [1, 2, 3], size: [3, 2, 4] }, // every dimension cut
    { shape: [5, 6, 7], begin: [0, 0, 0], size: [5, 6, 7] }, // all of it
    { shape: [4, 3], begin: [2, 1], size: [0, 2] }, // empty
  ];
  while (cases.length < quickOr(40, 15)) {
    const rank = 1 + rng.int(6);
    const shape = Array.from({ length: rank }, () => 1 + rng.int(5));
    const begin = shape.map((d) => rng.int(d));
    const size = shape.map((d, i) => (rng.bernoulli(0.3) ? -1 : rng.bernoulli(0.3) && begin[i] === 0 ? d : 1 + rng.int(d - begin[i])));
    cases.push({ shape, begin, size });
  }
  const dtypes = ['float32', 'int32', 'bool'] as const;
  for (const [k, { shape, begin, size }] of cases.entries()) {
    const dtype = dtypes[k % 3];
    const values = Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => (dtype === 'bool' ? Number((i * 7) % 3 === 0) : dtype === 'int32' ? i * 3 - 50 : i + 0.25));
    const what = `x [${shape}] ${dtype}, begin [${begin}], size [${size}]`;
    tf.setBackend('cpu');
    const xc = tf.tensor(values, shape, dtype);
    const ref = tf.engine().runKernel(tf.Slice, { x: xc }, { begin, size }) as tf.Tensor;
    tf.setBackend('wasm');
    const x = tf.tensor(values, shape, dtype);
    const buffers = wasmDataBuffers();
    const got = tf.engine().runKernel(tf.Slice, { x }, { begin, size }) as tf.Tensor;
    assert.deepEqual(got.shape, ref.shape, what);
    assert.equal(got.dtype, ref.dtype, what);
    assert.deepEqual(Array.from(got.dataSync()), Array.from(ref.dataSync()), what);
    got.dispose();
    assert.equal(wasmDataBuffers(), buffers, `${what}: the slice's buffer is freed with it`);
    tf.dispose([x, xc, ref]);
    x.dispose();
  }
});

test('Slice reads only the part it copies (the backend’s kernel copied all of x out of the heap with readSync first)', () => {
  tf.setBackend('wasm');
  const x = tf.randomNormal([64, 8, 8, 3], 0, 1, 'float32', 3);
  const backend = tf.backend() as BackendWasm;
  const readSync = backend.readSync.bind(backend);
  let read = 0;
  backend.readSync = (dataId, start, end) => {
    read++;
    return readSync(dataId, start, end);
  };
  try {
    const s = tf.slice(x, [16, 0, 0, 1], [8, -1, 4, 2]);
    assert.equal(read, 0, 'no readSync of the input');
    const all = x.arraySync() as number[][][][];
    assert.deepEqual(s.arraySync(), all.slice(16, 24).map((im) => im.map((row) => row.slice(0, 4).map((px) => px.slice(1, 3)))));
    s.dispose();
  } finally {
    backend.readSync = readSync;
    x.dispose();
  }
});

test('small pointwise convolution gradients (co or ci % 4 ≠ 0): bit for bit the XNNPACK formulations, near cpu, nothing left behind', () => {
  const rng = new Rng(33);
  // The MBConv source model's squeeze-and-excitation shapes, then random ones: batch 1–40, spatial up to 3×5.
  const fixed: [number, number, number, number, number][] = [[32, 1, 1, 160, 10], [32, 1, 1, 96, 6], [32, 1, 1, 10, 160], [32, 1, 1, 6, 96]];
  const cases = [...fixed];
  const notFour = () => 4 * rng.int(10) + 1 + rng.int(3);
  for (let t = 0; t < quickOr(24, 10); t++) {
    const [ci, co] = t % 2 ? [notFour(), 1 + rng.int(40)] : [1 + rng.int(40), notFour()];
    cases.push([1 + rng.int(40), 1 + rng.int(3), 1 + rng.int(5), ci, co]);
  }
  for (const [n, h, w, ci, co] of cases) {
    const what = `n ${n} ${h}×${w} ci ${ci} co ${co}`;
    const x = tf.randomNormal([n, h, w, ci], 0, 1, 'float32', n + ci) as tf.Tensor4D;
    const dy = tf.randomNormal([n, h, w, co], 0, 1, 'float32', h + co) as tf.Tensor4D;
    const filter = tf.randomNormal([1, 1, ci, co], 0, 1, 'float32', w) as tf.Tensor4D;
    const attrs = { strides: 1, pad: 'valid', dataFormat: 'NHWC' } as const;
    const filterGrad = () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [1, 1, ci, co] } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const inputGrad = () => tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: [n, h, w, ci] } as unknown as tf.NamedAttrMap) as tf.Tensor;
    const buffers = wasmDataBuffers();
    const [dw, dx] = [filterGrad(), inputGrad()];
    assert.equal(wasmDataBuffers(), buffers + 2, `${what}: only the two results stay`);
    const forced = <T>(set: (m: T) => T, mode: T, f: () => tf.Tensor) => {
      const old = set(mode);
      try {
        return f();
      } finally {
        set(old);
      }
    };
    const dwRef = forced(setConv2DFilterGradMode, 'shifted' as FilterGradMode, filterGrad);
    const dxRef = forced(setConv2DInputGradMode, 'xnnpack' as InputGradMode, inputGrad);
    // Where co (ci) % 4 = 0 the filter (input) gradient runs on the kit's convolution kernels instead, in their order.
    if (co % 4 !== 0) assert.deepEqual(new Uint32Array(dw.dataSync().buffer), new Uint32Array(dwRef.dataSync().buffer), `${what}: filter gradient`);
    if (ci % 4 !== 0) assert.deepEqual(new Uint32Array(dx.dataSync().buffer), new Uint32Array(dxRef.dataSync().buffer), `${what}: input gradient`);
    const fromCpu = [
      ...onBoth('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [1, 1, ci, co] }),
      ...onBoth('Conv2DBackpropInput', { dy, filter }, { ...attrs, inputShape: [n, h, w, ci] }),
    ];
    assert.ok(relError(fromCpu[0], dw) < TOL, `${what}: filter gradient against cpu`);
    assert.ok(relError(fromCpu[2], dx) < TOL, `${what}: input gradient against cpu`);
    tf.dispose([x, dy, filter, dw, dx, dwRef, dxRef, ...fromCpu]);
  }
});

test("Conv2DBackpropFilter at strides > 1 on the kit's kernel: bit for bit the im2col GEMM, signed zeros included", () => {
  const rng = new Rng(41);
  // The MBConv stem, then random strided shapes; x ≈ 60 % exact zeros, so some sums are sums of ±0 only.
  const cases: [number[], number, number, 'same' | 'valid', number][] = [[[32, 32, 32, 3], 3, 2, 'same', 16]];
  for (let t = 0; t < quickOr(30, 12); t++) {
    const shape = [1 + rng.int(6), 3 + rng.int(12), 3 + rng.int(12), 1 + rng.int(9)];
    cases.push([shape, 1 + rng.int(Math.min(5, shape[1], shape[2])), 2 + rng.int(2), rng.bernoulli(0.5) ? 'same' : 'valid', 4 * (1 + rng.int(6))]);
  }
  cases.forEach(([shape, k, s, pad, co], t) => {
    const what = `[${shape}] k${k} s${s} ${pad} → ${co}`;
    tf.tidy(() => {
      const x = tf.mul(tf.randomNormal(shape, 0, 1, 'float32', t + 1), tf.cast(tf.greater(tf.randomUniform(shape, 0, 1, 'float32', t + 3), 0.6), 'float32')) as tf.Tensor4D;
      const info = tf.backend_util.computeConv2DInfo(shape as [number, number, number, number], [k, k, shape[3], co], s, 1, pad);
      const dy = tf.randomNormal([shape[0], info.outHeight, info.outWidth, co], 0, 1, 'float32', t + 2);
      const attrs = { strides: s, pad, dataFormat: 'NHWC', filterShape: [k, k, shape[3], co] };
      const run = (mode: FilterGradMode) => {
        const old = setConv2DFilterGradMode(mode);
        try {
          return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
        } finally {
          setConv2DFilterGradMode(old);
        }
      };
      const [got, ref] = [run('auto'), run('im2col')];
      assert.deepEqual(new Uint32Array(got.dataSync().buffer), new Uint32Array(ref.dataSync().buffer), what);
      const [cpu] = onBoth('Conv2DBackpropFilter', { x, dy }, attrs);
      assert.ok(relError(cpu, got) <= TOL, `${what}: against cpu`);
    });
  });
});
