import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, padNHWCInto, simdKernelsFor, type SimdKernels, type SimdOrXnnpack } from '../simd';
import { conv2DGradInfo, modeSwitch, pair, runProgram, wasmKernel, type Shape4 } from './compose';
import { rowsOf } from './conv2d';
import { pointwiseInputGrad, smallPointwise } from './pointwise';

/** See SimdOrXnnpack (lib/backend/simd). */
export type InputGradMode = SimdOrXnnpack;
const mode = modeSwitch<InputGradMode>('auto');

/** Forces the input-gradient formulation (tests and benchmarks); returns the previous mode. */
export const setConv2DInputGradMode = mode.set;

/**
 * Conv2DBackpropInput for wasm, replacing the backend's own (≈ 8× slower) kernel.
 *
 * dx[n, h, w, ci] = Σ_{i,j,co} dy[n, y, x, co] · W[i, j, ci, co] with h = y·s + i − pt is a forward
 * convolution of dy — dilated with s − 1 zeros when s > 1 — by the filter flipped in space with in/out
 * channels swapped ([fh, fw, co, ci]), stride 1, pads (fh − 1 − pt) on top and whatever makes the output H.
 * At stride 1 (ci % 4 = 0, float32) that convolution runs on the kit's SIMD kernel and threads (`simdInputGrad`,
 * ≈ 1.2–1.5× faster than XNNPACK's on one thread, and bit for bit XNNPACK's result); a small pointwise one with
 * ci % 4 ≠ 0 as a direct loop (lib/backend/kernels/pointwise.ts); otherwise on XNNPACK.
 */
type InputGradInputs = { dy: tf.TensorInfo; filter: tf.TensorInfo };

export const conv2DBackpropInputConfig = wasmKernel<InputGradInputs, tf.Conv2DBackpropInputAttrs>(tf.Conv2DBackpropInput, (call) => {
  const { inputs: { dy, filter }, attrs, backend } = call;
  const info = conv2DGradInfo('Conv2DBackpropInput', attrs.inputShape, filter.shape as Shape4, dy.shape, attrs);
  const [sh, sw] = pair(attrs.strides);
  const { filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const float = dy.dtype === 'float32' && filter.dtype === 'float32';
  const unit = sh === 1 && sw === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
  const simd = float && info.dilationHeight === 1 && info.dilationWidth === 1 ? simdKernelsFor(backend, mode.get()) : null;
  if (simd && unit && info.inChannels % 4 === 0) return simdInputGrad(backend, simd, dy, filter, info);
  if (simd && mode.get() === 'auto' && smallPointwise(info)) return pointwiseInputGrad(backend, simd, dy, filter, info);
  if (simd && !unit) return simdTransposedInputGrad(backend, simd, dy, filter, info);
  return runProgram(backend, (p) => {
    const flipped = p.run('Reverse', { x: filter }, { dims: [0, 1] });
    const wt = p.transpose(flipped, [0, 1, 3, 2]); // [fh, fw, co, ci]
    const dyd = p.dilate(dy, [sh, sw]); // [n, oh·sh, ow·sw, co]
    const top = fh - 1 - info.padInfo.top;
    const left = fw - 1 - info.padInfo.left;
    return p.conv('Conv2D', dyd, wt, [1, 1], [1, 1], {
      top,
      left,
      bottom: h + fh - 1 - top - oh * sh,
      right: w + fw - 1 - left - ow * sw,
    });
  });
});

/**
 * Stride 1 on the kit's SIMD kernel: dy copied into a zero border of fh − 1 − pt rows on top (fw − 1 − pl columns
 * on the left), to [n, h + fh − 1, w + fw − 1, co], then ONE 'valid' convolution with the filter flipped in
 * space and its channels swapped ([fh, fw, co, ci]). Rows or columns of dy that only ever met padding do not
 * reach dx and are not copied.
 */
function simdInputGrad(
  backend: BackendWasm,
  simd: SimdKernels,
  dy: tf.TensorInfo,
  filter: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co, filterHeight: fh, filterWidth: fw } = info;
  const hp = h + fh - 1;
  const wp = w + fw - 1;
  const top = fh - 1 - info.padInfo.top; // dyp row of dy row 0 (may be negative)
  const left = fw - 1 - info.padInfo.left;
  // A 1×1 filter without padding convolves dy where it lies.
  const direct = fh === 1 && fw === 1 && top === 0 && left === 0;
  return runProgram(backend, (p) => {
    const dyp = direct ? dy : p.own(backend.makeOutput([n, hp, wp, co], 'float32'));
    const wt = p.own(backend.makeOutput([fh, fw, co, ci], 'float32'));
    const out = backend.makeOutput([n, h, w, ci], 'float32');
    p.own(out);
    // Views after the last makeOutput (allocating may grow and move the heap).
    const heap = new Float32Array((backend.typedArrayFromHeap(wt) as Float32Array).buffer);
    if (!direct) padNHWCInto(heap, heapOffset(backend, dy) >> 2, heapOffset(backend, dyp) >> 2, n, oh, ow, co, hp, wp, top, left);
    const fv = backend.typedArrayFromHeap(filter) as Float32Array;
    const wv = backend.typedArrayFromHeap(wt) as Float32Array;
    for (let i = 0; i < fh; i++) {
      for (let j = 0; j < fw; j++) {
        const src = ((fh - 1 - i) * fw + (fw - 1 - j)) * ci * co;
        const dst = (i * fw + j) * co * ci;
        for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) wv[dst + o * ci + c] = fv[src + c * co + o];
      }
    }
    const g = rowsOf(n, hp, wp, h, w, fh, fw, 1, 1);
    simd.split('conv2dRows', g.rows, g.ow * ci * fh * fw * co, [
      heapOffset(backend, dyp), heapOffset(backend, wt), 0, heapOffset(backend, out), g.hp, g.wp, co, ci, g.oh, g.ow, fh, fw, 1, 1, 0,
    ]);
    return out;
  });
}

/**
 * Strided, on the kit's `conv2dTransposeRows`: dy's rows copied with zero columns on both sides (so every column a
 * tap reads lies inside), the filter transposed to [fh, fw, co, ci] with ci rounded up to 4 (zero channels, dropped
 * from the result), then each dx pixel summed over the taps that reach it. ≈ 10× less work than convolving the
 * zero-dilated dy, and the same bits.
 */
function simdTransposedInputGrad(backend: BackendWasm, simd: SimdKernels, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const { top: pt, left: pl } = info.padInfo;
  const ci4 = Math.ceil(ci / 4) * 4;
  const padL = Math.max(0, -Math.ceil((pl - (fw - 1)) / sw));
  const padR = Math.max(0, Math.floor((w - 1 + pl) / sw) + 3 - (ow - 1));
  const owp = ow + padL + padR;
  return runProgram(backend, (p) => {
    const dyp = p.own(backend.makeOutput([n, oh, owp, co], 'float32'));
    const wt = p.own(backend.makeOutput([fh, fw, co, ci4], 'float32'));
    const wide = p.own(backend.makeOutput([n, h, w, ci4], 'float32'));
    const out = ci4 === ci ? wide : p.own(backend.makeOutput([n, h, w, ci], 'float32'));
    // Views after the last makeOutput (allocating may grow and move the heap).
    const heap = new Float32Array((backend.typedArrayFromHeap(wt) as Float32Array).buffer);
    padNHWCInto(heap, heapOffset(backend, dy) >> 2, heapOffset(backend, dyp) >> 2, n, oh, ow, co, oh, owp, 0, padL);
    const fv = backend.typedArrayFromHeap(filter) as Float32Array;
    const wv = backend.typedArrayFromHeap(wt) as Float32Array;
    wv.fill(0);
    for (let t = 0; t < fh * fw; t++) {
      for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) wv[(t * co + o) * ci4 + c] = fv[(t * ci + c) * co + o];
    }
    simd.split('conv2dTransposeRows', n * h, Math.ceil((w * ci4 * fh * fw * co) / (sh * sw)), [
      heapOffset(backend, dyp), heapOffset(backend, wt), heapOffset(backend, wide), h, w, ci4, oh, owp, co, fh, fw, sh, sw, pt, pl, padL,
    ]);
    if (out !== wide) {
      const src = backend.typedArrayFromHeap(wide) as Float32Array;
      const dst = backend.typedArrayFromHeap(out) as Float32Array;
      for (let k = 0, s = 0; k < dst.length; s += ci4) for (let c = 0; c < ci; c++) dst[k++] = src[s + c];
    }
    return out;
  });
}
