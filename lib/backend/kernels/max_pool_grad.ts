import * as tf from '@tensorflow/tfjs';
import { heapOffset, simdKernels } from '../simd';
import { originalWasmKernel, wasmKernel } from './compose';

/**
 * MaxPoolGrad for wasm, replacing the backend's own kernel (the largest single cost of a training step of
 * the reference CNN once the convolution gradients were fast).
 *
 * One pass in JavaScript over the input on the wasm heap: for each output position, the first maximum of
 * its window (strictly greater, scanning rows then columns, from −∞ — exactly tfjs's cpu kernel, ties
 * included) receives dy, summed where overlapping windows pick the same input. Channels are the inner loop,
 * so reads are contiguous. ≈ 5× faster than the previous composition of the wasm kernels
 * MaxPoolWithArgmax + ScatterNd (whose argmax starts at FLT_MIN and needed a shifted copy of the input),
 * and ≈ 10× faster than the backend's own kernel. Non-float32 inputs use the backend's kernel.
 */
type MaxPoolGradInputs = { dy: tf.TensorInfo; input: tf.TensorInfo };

export const maxPoolGradConfig = wasmKernel<MaxPoolGradInputs, tf.MaxPoolGradAttrs>(tf.MaxPoolGrad, ({ inputs, attrs, backend, args }) => {
  const { dy, input } = inputs;
  const { filterSize, strides, pad, dimRoundingMode } = attrs;
  if (input.dtype !== 'float32' || dy.dtype !== 'float32' || input.shape.length !== 4) {
    return originalWasmKernel(tf.MaxPoolGrad).kernelFunc(args);
  }
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  if (dy.shape.join() !== info.outShape.join()) {
    throw new Error(`MaxPoolGrad (wasm, lib/backend/kernels): dy [${dy.shape}] does not match the pooled shape [${info.outShape}] of x [${input.shape}]`);
  }
  const out = backend.makeOutput(input.shape, 'float32');
  // Heap views after makeOutput (allocating may grow and move the heap).
  const xv = backend.typedArrayFromHeap(input) as Float32Array;
  const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
  const dx = backend.typedArrayFromHeap(out) as Float32Array;
  const tiled = info.filterHeight === 2 && info.filterWidth === 2 && info.strideHeight === 2 && info.strideWidth === 2;
  const inside = info.padInfo.top === 0 && info.padInfo.left === 0 && info.outHeight * 2 <= info.inHeight && info.outWidth * 2 <= info.inWidth;
  const simd = tiled && inside && info.inChannels % 4 === 0 ? simdKernels(backend) : null;
  if (simd) {
    if (info.outHeight * 2 !== info.inHeight || info.outWidth * 2 !== info.inWidth) dx.fill(0);
    const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth } = info;
    simd.split('maxPoolGrad2x2Rows', batchSize * outHeight, outWidth * inChannels * 4, [
      heapOffset(backend, input), heapOffset(backend, dy), heapOffset(backend, out), inHeight, inWidth, inChannels, outHeight, outWidth,
    ]);
  } else if (tiled && inside) {
    maxPoolGrad2x2(xv, dyv, dx, info);
  } else {
    dx.fill(0);
    maxPoolGradLoop(xv, dyv, dx, info);
  }
  return out;
});

/**
 * The common 2×2, stride-2 pool with every window inside x. The windows are disjoint, so every covered element
 * of dx is written exactly once, in order (dy or 0): no zero-fill pass and no scattered adds (≈ 3× faster than
 * the general loop). Rows or columns no window covers (odd sizes) are zeroed separately.
 */
function maxPoolGrad2x2(xv: Float32Array, dyv: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const row = w * c;
  if (oh * 2 !== h || ow * 2 !== w) dx.fill(0);
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oy = 0; oy < oh; oy++) {
      let b00 = (n * h + 2 * oy) * row;
      for (let ox = 0; ox < ow; ox++, o += c, b00 += 2 * c) {
        const b01 = b00 + c;
        const b10 = b00 + row;
        const b11 = b10 + c;
        for (let k = 0; k < c; k++) {
          // The first maximum in row-major window order wins ties, as in tfjs's cpu kernel; from −∞ with
          // strict comparisons, so NaN and −∞ never win (a window of only those gets no gradient).
          const v00 = xv[b00 + k];
          const v01 = xv[b01 + k];
          const v10 = xv[b10 + k];
          const v11 = xv[b11 + k];
          let at = v00 > -Infinity ? 0 : -1;
          let best = at === 0 ? v00 : -Infinity;
          if (v01 > best) {
            best = v01;
            at = 1;
          }
          if (v10 > best) {
            best = v10;
            at = 2;
          }
          if (v11 > best) at = 3;
          const g = dyv[o + k];
          dx[b00 + k] = at === 0 ? g : 0;
          dx[b01 + k] = at === 1 ? g : 0;
          dx[b10 + k] = at === 2 ? g : 0;
          dx[b11 + k] = at === 3 ? g : 0;
        }
      }
    }
  }
}

/** dx += dy scattered to each window's first maximum of x (NHWC, float32), per tfjs's cpu semantics. */
function maxPoolGradLoop(xv: Float32Array, dyv: Float32Array, dx: Float32Array, info: tf.backend_util.Conv2DInfo): void {
  const { batchSize, inHeight: h, inWidth: w, inChannels: c, outHeight: oh, outWidth: ow } = info;
  const { strideHeight: sh, strideWidth: sw, effectiveFilterHeight: fh, effectiveFilterWidth: fw } = info;
  const { top, left } = info.padInfo;
  const best = new Float32Array(c);
  const where = new Int32Array(c);
  let o = 0;
  for (let n = 0; n < batchSize; n++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - top;
      const yMin = Math.max(0, y0);
      const yMax = Math.min(h, y0 + fh);
      for (let ox = 0; ox < ow; ox++, o += c) {
        const x0 = ox * sw - left;
        const xMin = Math.max(0, x0);
        const xMax = Math.min(w, x0 + fw);
        best.fill(-Infinity);
        where.fill(-1);
        for (let y = yMin; y < yMax; y++) {
          for (let x = xMin; x < xMax; x++) {
            const base = ((n * h + y) * w + x) * c;
            for (let k = 0; k < c; k++) {
              const v = xv[base + k];
              if (v > best[k]) {
                best[k] = v;
                where[k] = base + k;
              }
            }
          }
        }
        for (let k = 0; k < c; k++) {
          const at = where[k];
          if (at >= 0) dx[at] += dyv[o + k];
        }
      }
    }
  }
}
