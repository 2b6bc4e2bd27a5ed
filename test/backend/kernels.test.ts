// The kit's wasm kernels against tfjs's own CPU kernels on randomized shapes (rel. error ≤ 1e-4).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { Rng } from '../../lib/random';
import { quickOr } from '../../lib/config';
import { onBoth, relError } from './helpers';
import { setConv2DFilterGradMode, type FilterGradMode } from '../../lib/backend/kernels/conv2d_backprop_filter';
import { setConv2DInputGradMode, type InputGradMode } from '../../lib/backend/kernels/conv2d_backprop_input';

const FILTER_GRAD_MODES: FilterGradMode[] = ['auto', 'simd', 'conv', 'im2col', 'shifted'];
const INPUT_GRAD_MODES: InputGradMode[] = ['auto', 'simd', 'xnnpack'];

const TOL = 1e-4;
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
  dilation: number;
  pad: Pad;
  seed: number;
}

const FIXED: Omit<ConvCase, 'seed'>[] = [
  { n: 1, h: 7, w: 5, ci: 3, co: 4, k: 3, stride: 1, dilation: 1, pad: 'same' },
  { n: 2, h: 9, w: 8, ci: 2, co: 3, k: 3, stride: 2, dilation: 1, pad: 'same' },
  { n: 3, h: 9, w: 10, ci: 3, co: 2, k: 3, stride: 2, dilation: 1, pad: 'valid' },
  { n: 1, h: 6, w: 5, ci: 2, co: 3, k: 3, stride: 1, dilation: 1, pad: [[0, 0], [1, 2], [0, 1], [0, 0]] },
  { n: 2, h: 11, w: 7, ci: 1, co: 5, k: 2, stride: 3, dilation: 1, pad: 'valid' },
  { n: 2, h: 8, w: 8, ci: 4, co: 4, k: 5, stride: 2, dilation: 1, pad: 'same' },
  { n: 1, h: 5, w: 5, ci: 3, co: 2, k: 1, stride: 1, dilation: 1, pad: 'valid' },
  { n: 2, h: 9, w: 7, ci: 3, co: 3, k: 3, stride: 1, dilation: 2, pad: 'same' },
  { n: 1, h: 10, w: 9, ci: 2, co: 2, k: 2, stride: 1, dilation: 3, pad: 'valid' },
];

function randomCases(count: number, seed: number): ConvCase[] {
  const rng = new Rng(seed);
  const out: ConvCase[] = FIXED.map((c, i) => ({ ...c, seed: 100 + i }));
  while (out.length < FIXED.length + count) {
    const k = [1, 2, 3, 3, 5][rng.int(5)];
    const stride = 1 + rng.int(3);
    const dilation = stride === 1 && rng.bernoulli(0.3) ? 2 : 1;
    const lo = rng.int(2);
    const pad: Pad = [['same', 'valid'][rng.int(2)] as 'same' | 'valid', [[0, 0], [lo, rng.int(3)], [rng.int(3), lo], [0, 0]] as Pad][rng.int(2)];
    const c: ConvCase = { n: 1 + rng.int(3), h: 4 + rng.int(9), w: 4 + rng.int(9), ci: 1 + rng.int(5), co: 1 + rng.int(6), k, stride, dilation, pad, seed: rng.int(1e6) };
    const eff = (k - 1) * dilation + 1;
    if (pad === 'valid' && (c.h < eff || c.w < eff)) continue;
    out.push(c);
  }
  return out;
}

const CASES = randomCases(quickOr(24, 8), 7);
const label = (c: ConvCase) => `x[${c.n},${c.h},${c.w},${c.ci}] k${c.k} s${c.stride} d${c.dilation} ${JSON.stringify(c.pad)}`;

before(async () => {
  await initBackend({ backend: 'wasm' });
});

test('Conv2DBackpropFilter and Conv2DBackpropInput match the cpu kernels', () => {
  for (const c of CASES.filter((c) => c.dilation === 1)) {
    tf.tidy(() => {
      tf.setBackend('cpu');
      const x = tf.randomNormal([c.n, c.h, c.w, c.ci], 0, 1, 'float32', c.seed) as tf.Tensor4D;
      const w = tf.randomNormal([c.k, c.k, c.ci, c.co], 0, 1, 'float32', c.seed + 1) as tf.Tensor4D;
      const y = tf.conv2d(x, w, c.stride, c.pad);
      const dy = tf.randomNormal(y.shape, 0, 1, 'float32', c.seed + 2);
      const common = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' };
      // Every formulation of the filter gradient (the shape-based choice, then each one forced).
      for (const mode of FILTER_GRAD_MODES) {
        const old = setConv2DFilterGradMode(mode);
        try {
          const [fRef, fGot] = onBoth('Conv2DBackpropFilter', { x, dy }, { ...common, filterShape: w.shape });
          assert.ok(relError(fRef, fGot) <= TOL, `filter grad (${mode}) ${label(c)}: rel. error ${relError(fRef, fGot)}`);
        } finally {
          setConv2DFilterGradMode(old);
        }
      }
      for (const mode of INPUT_GRAD_MODES) {
        const old = setConv2DInputGradMode(mode);
        try {
          const [iRef, iGot] = onBoth('Conv2DBackpropInput', { dy, filter: w }, { ...common, inputShape: x.shape });
          assert.ok(relError(iRef, iGot) <= TOL, `input grad (${mode}) ${label(c)}: rel. error ${relError(iRef, iGot)}`);
        } finally {
          setConv2DInputGradMode(old);
        }
      }
    });
  }
});

/** The filter with (d − 1) zeros between taps: a dilated conv equals an undilated one with this filter. */
function dilateFilter(w: tf.Tensor4D, d: number): tf.Tensor4D {
  if (d === 1) return w;
  const [kh, kw, c, m] = w.shape;
  const buf = tf.buffer([(kh - 1) * d + 1, (kw - 1) * d + 1, c, m]);
  const src = w.bufferSync();
  for (let i = 0; i < kh; i++)
    for (let j = 0; j < kw; j++) for (let a = 0; a < c; a++) for (let b = 0; b < m; b++) buf.set(src.get(i, j, a, b), i * d, j * d, a, b);
  return buf.toTensor() as tf.Tensor4D;
}

test('DepthwiseConv2dNativeBackpropFilter/Input match the cpu kernels (multipliers, strides, dilations)', () => {
  // tfjs's cpu backprop kernels ignore `dilations`, so the dilated reference runs the undilated cpu kernel
  // on the zero-dilated filter (and, for the filter gradient, keeps every d-th tap).
  CASES.forEach((c, i) => {
    const m = 1 + (i % 3);
    tf.tidy(() => {
      tf.setBackend('cpu');
      const x = tf.randomNormal([c.n, c.h, c.w, c.ci], 0, 1, 'float32', c.seed) as tf.Tensor4D;
      const w = tf.randomNormal([c.k, c.k, c.ci, m], 0, 1, 'float32', c.seed + 1) as tf.Tensor4D;
      const wd = dilateFilter(w, c.dilation);
      const y = tf.depthwiseConv2d(x, wd, c.stride, c.pad);
      const dy = tf.randomNormal(y.shape, 0, 1, 'float32', c.seed + 2);
      const refAttrs = { strides: c.stride, dilations: 1, pad: c.pad };
      const fRefFull = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...refAttrs, filterShape: wd.shape }) as tf.Tensor4D;
      const fRef = tf.stridedSlice(fRefFull, [0, 0, 0, 0], wd.shape, [c.dilation, c.dilation, 1, 1]);
      const iRef = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: wd }, { ...refAttrs, inputShape: x.shape }) as tf.Tensor;
      fRef.dataSync();
      iRef.dataSync();
      tf.setBackend('wasm');
      const attrs = { strides: c.stride, dilations: c.dilation, pad: c.pad };
      const fGot = tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x, dy }, { ...attrs, filterShape: w.shape }) as tf.Tensor;
      const iGot = tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy, filter: w }, { ...attrs, inputShape: x.shape }) as tf.Tensor;
      assert.ok(relError(fRef, fGot) <= TOL, `depthwise filter grad ${label(c)} m${m}: rel. error ${relError(fRef, fGot)}`);
      assert.ok(relError(iRef, iGot) <= TOL, `depthwise input grad ${label(c)} m${m}: rel. error ${relError(iRef, iGot)}`);
    });
  });
});

test('MaxPoolGrad matches the cpu kernel (tie-free inputs; overlapping windows; same/valid)', () => {
  const rng = new Rng(11);
  const cases: [number, number, 'same' | 'valid'][] = [[2, 2, 'valid'], [2, 2, 'same'], [3, 2, 'same'], [3, 1, 'same'], [3, 2, 'valid']];
  for (let t = 0; t < quickOr(12, 6); t++) {
    const [k, s, pad] = cases[t % cases.length];
    const shape: [number, number, number, number] = [1 + rng.int(3), k + rng.int(8), k + rng.int(8), 1 + rng.int(4)];
    tf.tidy(() => {
      tf.setBackend('cpu');
      // Negative values included: the wasm argmax kernel starts at FLT_MIN, which the kit's kernel works around.
      const input = tf.randomNormal(shape, -1, 1, 'float32', t) as tf.Tensor4D;
      const output = tf.maxPool(input, k, s, pad);
      const dy = tf.randomNormal(output.shape, 0, 1, 'float32', t + 50);
      const [ref, got] = onBoth('MaxPoolGrad', { dy, input, output }, { filterSize: k, strides: s, pad });
      assert.ok(relError(ref, got) <= TOL, `MaxPoolGrad [${shape}] k${k} s${s} ${pad}: rel. error ${relError(ref, got)}`);
    });
  }
});

test('Tile matches the cpu kernel (float32 via broadcasting; int32 falls back)', () => {
  const rng = new Rng(5);
  for (let t = 0; t < 10; t++) {
    const rank = 1 + rng.int(4);
    const shape = Array.from({ length: rank }, () => 1 + rng.int(4));
    const reps = Array.from({ length: rank }, () => 1 + rng.int(3));
    const dtype = t % 4 === 3 ? 'int32' : 'float32';
    tf.tidy(() => {
      tf.setBackend('cpu');
      const x = tf.randomUniform(shape, -5, 5, dtype, t);
      const [ref, got] = onBoth('Tile', { x }, { reps });
      assert.equal(got.dtype, dtype);
      assert.ok(relError(ref, got) === 0, `Tile [${shape}] × [${reps}] ${dtype} differs`);
    });
  }
  tf.setBackend('wasm');
});
