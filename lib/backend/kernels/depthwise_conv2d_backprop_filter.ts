import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { alignedSums, heapOffset, LINE_UNITS, simdKernels, type SimdKernels } from '../simd';
import { depthwiseGeometry, runProgram, wasmKernel, type Shape4 } from './compose';

/**
 * DepthwiseConv2dNativeBackpropFilter for wasm (missing from the backend).
 *
 * dW[i, j, c, m] = Σ_{n,y,x} x[n, y·s + i·d − pt, x·s + j·d − pl, c] · dy[n, y, x, c·M + m]
 * is ONE depthwise convolution over C·N channels with batch and channels swapped: input x as
 * [1, H, W, C·N], filter dy as [oh, ow, C·N, M], stride d, dilation s; the output [1, fh, fw, C·N·M] is
 * summed over n. That conv is cheap in arithmetic but XNNPACK packs the huge "filter" dy each call and the
 * two transposes move every element, so small problems (≤ JS_MAX_MACS multiply-adds, i.e. every layer of
 * the kit's MBConv nets at 32–64 px) run instead as a direct loop in JavaScript on the wasm heap
 * (`depthwiseFilterGradJs`, 3–5× faster there; float64 accumulation). With multiplier 1 and c % 4 = 0 the kit's
 * SIMD kernel runs that loop at any size (the same float64 products and sums in the same order: identical
 * results, ≈ 7× faster than the JavaScript on the MBConv source model's layers).
 */
type Inputs = { x: tf.TensorInfo; dy: tf.TensorInfo };

export const depthwiseConv2dNativeBackpropFilterConfig = wasmKernel<Inputs, tf.DepthwiseConv2dNativeBackpropFilterAttrs>(
  tf.DepthwiseConv2dNativeBackpropFilter,
  ({ inputs: { x, dy }, attrs, backend }) => {
    const g = depthwiseGeometry('DepthwiseConv2dNativeBackpropFilter', x.shape as Shape4, attrs.filterShape, dy.shape, attrs);
    const { info, sh, sw, dh, dw, fh, fw, oh, ow, h, w, n, c, m } = g;
    const { top, left } = info.padInfo;
    const float = x.dtype === 'float32' && dy.dtype === 'float32';
    const simd = float && m === 1 && c % 4 === 0 ? simdKernels(backend) : null;
    if (simd) return depthwiseFilterGradSimd(backend, simd, x, dy, info, [fh, fw, c, m]);
    if (float && n * oh * ow * fh * fw * c * m <= jsMaxMacs) return depthwiseFilterGradJs(backend, x, dy, info, [fh, fw, c, m]);
    return runProgram(backend, (p) => {
      const xt = p.reshape(p.transpose(x, [1, 2, 3, 0]), [1, h, w, c * n]);
      const dy5 = p.reshape(dy, [n, oh, ow, c, m]);
      const dyt = p.reshape(p.transpose(dy5, [1, 2, 3, 0, 4]), [oh, ow, c * n, m]);
      const out = p.conv('DepthwiseConv2dNative', xt, dyt, [dh, dw], [sh, sw], {
        top,
        left,
        bottom: (fh - 1) * dh + (oh - 1) * sh + 1 - h - top,
        right: (fw - 1) * dw + (ow - 1) * sw + 1 - w - left,
      }); // [1, fh, fw, c·n·m]
      if (n === 1) return p.reshape(out, [fh, fw, c, m]);
      return p.sum(p.reshape(out, [fh, fw, c, n, m]), [3]);
    });
  },
);

/** Multiply-adds up to which the direct JavaScript loop beats the XNNPACK formulation (measured, see docs). */
export const JS_MAX_MACS = 8e6;
let jsMaxMacs = JS_MAX_MACS;

/** Sets the JavaScript/XNNPACK threshold of DepthwiseConv2dNativeBackpropFilter (tests, benchmarks); returns the old one. */
export function setDepthwiseFilterJsMaxMacs(macs: number): number {
  const old = jsMaxMacs;
  jsMaxMacs = macs;
  return old;
}

/** `depthwiseFilterGradJs` with multiplier 1 on the kit's SIMD kernel (float64 sums in scratch heap memory). */
function depthwiseFilterGradSimd(
  backend: BackendWasm,
  simd: SimdKernels,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  filterShape: [number, number, number, number],
): tf.TensorInfo {
  const [fh, fw, c] = filterShape;
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const acc = alignedSums(backend, fh * fw * c);
  const out = backend.makeOutput(filterShape, 'float32');
  try {
    // Split by groups of 4 channels: each group's sums run over every pixel in the same order on any thread;
    // chunks of whole 16-channel lines (LINE_UNITS), so no two threads write one cache line of the sums.
    simd.split('depthwiseFilterGradChannels', c / 4, n * oh * ow * fh * fw * 4, [
      heapOffset(backend, x), heapOffset(backend, dy), acc.offset, heapOffset(backend, out),
      n, h, w, c, oh, ow, fh, fw, sh, sw, dh, dw, top, left,
    ], LINE_UNITS);
  } finally {
    backend.disposeData(acc.info.dataId);
  }
  return out;
}

/** dW by direct summation over (n, oy, ox, tap), channels innermost (contiguous in x, dy and dW). */
function depthwiseFilterGradJs(
  backend: BackendWasm,
  x: tf.TensorInfo,
  dy: tf.TensorInfo,
  info: tf.backend_util.Conv2DInfo,
  filterShape: [number, number, number, number],
): tf.TensorInfo {
  const [fh, fw, c, m] = filterShape;
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = info;
  const { dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const cm = c * m;
  const acc = new Float64Array(fh * fw * cm);
  const out = backend.makeOutput(filterShape, 'float32');
  // Heap views after makeOutput (allocating may grow and move the heap).
  const xv = backend.typedArrayFromHeap(x) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  // The taps i (j) whose row (column) lies inside x, in increasing order: the loop below skips no other term.
  const taps = (o: number, s: number, d: number, pad: number, size: number, f: number): [number, number] =>
    [Math.max(0, Math.ceil((pad - o * s) / d)), Math.min(f, Math.floor((size - 1 + pad - o * s) / d) + 1)];
  for (let b = 0; b < n; b++) {
    for (let oy = 0; oy < oh; oy++) {
      const [i0, i1] = taps(oy, sh, dh, top, h, fh);
      for (let i = i0; i < i1; i++) {
        const y = oy * sh + i * dh - top;
        for (let ox = 0; ox < ow; ox++) {
          const db = ((b * oh + oy) * ow + ox) * cm;
          const [j0, j1] = taps(ox, sw, dw, left, w, fw);
          for (let j = j0; j < j1; j++) {
            const xb = ((b * h + y) * w + (ox * sw + j * dw - left)) * c;
            const ab = (i * fw + j) * cm;
            if (m === 1) {
              for (let k = 0; k < c; k++) acc[ab + k] += xv[xb + k] * dyv[db + k];
            } else {
              for (let k = 0; k < c; k++) {
                const xval = xv[xb + k];
                for (let q = 0; q < m; q++) acc[ab + k * m + q] += xval * dyv[db + k * m + q];
              }
            }
          }
        }
      }
    }
  }
  (backend.typedArrayFromHeap(out) as Float32Array).set(acc);
  return out;
}
