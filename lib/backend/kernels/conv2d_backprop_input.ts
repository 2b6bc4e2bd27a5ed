import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, padNHWCInto, simdKernelsFor, type SimdKernels, type SimdOrXnnpack } from '../simd';
import { assertNHWC, modeSwitch, pair, runProgram } from './compose';
import { rowsOf } from './conv2d';

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
 * ≈ 1.2–1.5× faster than XNNPACK's on one thread, and bit for bit XNNPACK's result); otherwise on XNNPACK.
 */
export const conv2DBackpropInputConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropInput,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { dy, filter } = inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } = attrs as unknown as tf.Conv2DBackpropInputAttrs;
    assertNHWC('Conv2DBackpropInput', dataFormat);
    const info = tf.backend_util.computeConv2DInfo(
      inputShape,
      filter.shape as [number, number, number, number],
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
    );
    const [sh, sw] = pair(strides);
    const { filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
    if (dy.shape[1] !== oh || dy.shape[2] !== ow) {
      throw new Error(`Conv2DBackpropInput (wasm): dy [${dy.shape}] does not match the output ${oh}×${ow} of input [${inputShape}]`);
    }
    const float = dy.dtype === 'float32' && filter.dtype === 'float32';
    const unit = sh === 1 && sw === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
    const simd = float && unit && info.inChannels % 4 === 0 ? simdKernelsFor(backend as BackendWasm, mode.get()) : null;
    if (simd) return simdInputGrad(backend as BackendWasm, simd, dy, filter, info);
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
  },
};

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
