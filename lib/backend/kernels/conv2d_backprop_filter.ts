import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { chunkCount, heapOffset, simdKernels, simdThreads } from '../simd';
import { conv2DGradInfo, fillOutput, modeSwitch, pair, runProgram, wasmKernel, type Shape4 } from './compose';
import { pointwiseFilterGrad, smallPointwise } from './pointwise';

type Conv2DInfo = tf.backend_util.Conv2DInfo;
/** h, w, ci, oh, ow, co, fh, fw, pt, pl of conv2dFilterGradImages. */
type Geometry = [number, number, number, number, number, number, number, number, number, number];

/**
 * Which formulation the kernel uses: 'auto' (by shape, see `pickMode`), or one forced (tests, benchmarks):
 * 'simd' (the kit's own wasm SIMD kernel where it applies, else as 'auto'), 'conv' (one XNNPACK forward conv),
 * 'im2col' (patches gathered run by run), 'shifted' (stride 1 only, else 'im2col': patches as whole shifted runs
 * of padded x, see `im2colFilterGrad`); 'strided' is what 'auto' picks at strides > 1 where the kit's strided
 * kernel applies (`stridedFilterGrad`).
 */
export type FilterGradMode = 'auto' | 'simd' | 'conv' | 'im2col' | 'shifted' | 'strided';
const mode = modeSwitch<FilterGradMode>('auto');

/** Forces the filter-gradient formulation (tests and benchmarks); returns the previous mode. */
export const setConv2DFilterGradMode = mode.set;

/**
 * Conv2DBackpropFilter for wasm (the backend ships none, so training any conv net failed there).
 *
 * dW[i, j, ci, co] = Σ_{n,y,x} x[n, y·s + i·d − pt, x·s + j·d − pl, ci] · dy[n, y, x, co]
 *
 * Three formulations (and, in 'auto' mode, a small pointwise convolution with co % 4 ≠ 0 as a direct loop: see
 * lib/backend/kernels/pointwise.ts):
 * - **the kit's SIMD kernel** (default at stride 1, dilation 1, co % 4 = 0, float32; lib/backend/simd): straight
 *   from x and dy where they lie, 4 input × 8 output channels per register tile — 2–4× faster than the next one
 *   inside a training step, mostly because XNNPACK packs dy anew for every product.
 * - **im2col + GEMM** (other float32 cases): the transposed patch matrix Pᵀ [fh·fw·ci, n·oh·ow] is built in
 *   JavaScript on the wasm heap, then ONE wasm BatchMatMul Pᵀ · dy [n·oh·ow, co] → [fh·fw·ci, co], which
 *   is [fh, fw, ci, co] as it lies in memory.
 * - **one forward conv** with batch and channels swapped: input x as [ci, H, W, n], filter dy as
 *   [oh, ow, n, co], stride d, dilation s (the forward stride), pads so the output is exactly
 *   [ci, fh, fw, co]; then transposed to [fh, fw, ci, co]. XNNPACK re-packs dy as a huge spatial filter
 *   every call, and oh·ow taps of only n channels run at about half a forward conv's speed.
 *
 * Tried and dropped (second pass): folding the width into the channels (fw column-shifted copies of x as
 * [ci, H, fw, ow·n], dy as [oh, 1, ow·n, co]) so XNNPACK's GEMM sees oh taps of ow·n channels instead of
 * oh·ow taps of n: 1.3× less CPU per isolated call with ci ≥ 16, but no faster inside a training step.
 */
type FilterGradInputs = { x: tf.TensorInfo; dy: tf.TensorInfo };

export const conv2DBackpropFilterConfig = wasmKernel<FilterGradInputs, tf.Conv2DBackpropFilterAttrs>(tf.Conv2DBackpropFilter, (call) => {
  const { inputs: { x, dy }, attrs, backend } = call;
  const info = conv2DGradInfo('Conv2DBackpropFilter', x.shape as Shape4, attrs.filterShape, dy.shape, attrs);
  const float = x.dtype === 'float32' && dy.dtype === 'float32';
  const small = float && mode.get() === 'auto' && info.outChannels % 4 !== 0 && smallPointwise(info) ? simdKernels(backend) : null;
  if (small) return pointwiseFilterGrad(backend, small, x, dy, info);
  const chosen = mode.get() === 'auto' || mode.get() === 'simd' ? pickMode(info, backend) : mode.get();
  if (float && chosen === 'simd') return simdFilterGrad(backend, x, dy, info);
  if (float && chosen === 'strided' && kitKernelsFit(info, backend)) return stridedFilterGrad(backend, x, dy, info);
  if (float && chosen !== 'conv') return im2colFilterGrad(backend, x, dy, info, chosen === 'shifted');
  return convFilterGrad(backend, x, dy, info, pair(attrs.strides));
});

/**
 * Shape-based choice, measured inside training steps of the reference CNN (32 px, batch 32; per-call times
 * in isolation misled: there the gathered im2col won the 3-channel layer, in a step the shifted runs did):
 * stride 1 → shifted runs (3.7–4.1 / 5.0 / 4.3 ms per layer against 5.9–6.1 / 5.7 / 4.6 for the forward-
 * conv formulation); strided → gathered im2col (1.1–1.2× less CPU per isolated call than the conv). Where the
 * kit's kernels apply (co % 4 = 0, dilation 1) they run instead: 'simd' at stride 1, 'strided' above it.
 */
function pickMode(info: Conv2DInfo, backend: BackendWasm): FilterGradMode {
  const unit = info.strideHeight === 1 && info.strideWidth === 1;
  if (kitKernelsFit(info, backend)) return unit ? 'simd' : 'strided';
  return unit ? 'shifted' : 'im2col';
}

/** Whether the kit's filter-gradient kernels (either stride) apply: dilation 1, co % 4 = 0, the SIMD build loaded. */
function kitKernelsFit(info: Conv2DInfo, backend: BackendWasm): boolean {
  return info.dilationHeight === 1 && info.dilationWidth === 1 && info.outChannels % 4 === 0 && simdKernels(backend) != null;
}

/**
 * Strides > 1 on the kit's `conv2dFilterGradStrided`: each element summed over all n·oh·ow output pixels in order,
 * the padding's zero products included — the order of the im2col matrix times dy on XNNPACK's GEMM (the formulation
 * it replaces, whose results it reproduces bit for bit), from x and dy where they lie: no patch matrix. The MBConv
 * stem (3 channels, 32 px, stride 2): ≈ 1 ms → ≈ 0.3 ms per step. Split by taps on the kit's threads.
 */
function stridedFilterGrad(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo {
  const simd = simdKernels(backend);
  if (simd == null) throw new Error('Conv2DBackpropFilter (wasm): the SIMD kernels are not loaded');
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const out = backend.makeOutput([fh, fw, ci, co], 'float32');
  simd.split('conv2dFilterGradStrided', fh * fw, n * oh * ow * ci * co, [
    heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out), n, h, w, ci, oh, ow, co, fw, sh, sw, info.padInfo.top, info.padInfo.left,
  ]);
  return out;
}

/**
 * Stride 1 on the kit's SIMD kernel (lib/backend/simd/assembly): straight from x and dy where they lie, no
 * patch matrix and no XNNPACK operator (whose packing of a long dy alone cost more than the kernel does).
 *
 * One thread adds each image's partial sums P_b into the result in turn. On several threads the images are
 * shared out (the kernel keeps one image's x and dy in cache for all taps): each P_b goes to a scratch slot of its
 * own, then `sumImages` adds the slots in image order, element by element — the same additions in the same order,
 * so the result is the one-thread result bit for bit.
 */
function simdFilterGrad(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: Conv2DInfo): tf.TensorInfo {
  const simd = simdKernels(backend);
  if (simd == null) throw new Error('Conv2DBackpropFilter (wasm): the SIMD kernels are not loaded');
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw } = info;
  const size = fh * fw * ci * co;
  const perImage = oh * ow * size;
  // A 1×1 filter without padding: each image's pixels as one row (the same sums in the same order, longer runs).
  const flat = fh === 1 && fw === 1 && info.padInfo.top === 0 && info.padInfo.left === 0 && oh === h && ow === w;
  const [gh, gw] = flat ? [1, h * w] : [h, w];
  const geometry = [gh, gw, ci, flat ? 1 : oh, flat ? h * w : ow, co, fh, fw, info.padInfo.top, info.padInfo.left];
  // Rows of dy per block: the block's rows of x and dy (≈ 48 KB) stay in cache for every tap (see the kernel).
  const block = Math.max(1, Math.floor(49152 / ((geometry[4] * co + geometry[1] * ci) * 4)));
  const out = backend.makeOutput([fh, fw, ci, co], 'float32');
  const single = chunkCount(n, perImage, simdThreads(backend)) <= 1;
  // One thread: P_b is built in a scratch buffer and added into out image by image; several: each in its own slot.
  const scratch = backend.makeOutput([single ? size : n * size], 'float32');
  return fillOutput(backend, out, [scratch], () => {
    const [xo, dyo, so] = [heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, scratch)];
    if (single) {
      (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
      simd.conv2dFilterGradImages(0, n, xo, dyo, heapOffset(backend, out), 0, so, block, ...(geometry as Geometry));
    } else {
      const slot = size * 4;
      simd.split('conv2dFilterGradImages', n, perImage, [xo, dyo, so, slot, 0, block, ...geometry]);
      simd.split('sumImages', Math.ceil(size / 16), 16 * n, [so, heapOffset(backend, out), slot, n, size]);
    }
  });
}

/**
 * The filter gradient as the transposed im2col matrix Pᵀ [fh·fw·ci, n·oh·ow] (JavaScript) times dy
 * [n·oh·ow, co] (one wasm BatchMatMul). Pᵀ is built already transposed because only the untransposed
 * BatchMatMul runs on XNNPACK: with transposeA the wasm backend uses a naive loop ≈ 10× slower.
 */
function im2colFilterGrad(backend: BackendWasm, x: tf.TensorInfo, dy: tf.TensorInfo, info: Conv2DInfo, shifted: boolean): tf.TensorInfo {
  const { batchSize: n, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw, inChannels: ci, outChannels: co } = info;
  const k = fh * fw * ci;
  const hp = oh + fh - 1;
  const wp = ow + fw - 1;
  const { top, left } = info.padInfo;
  const unit = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
  const bottom = hp - info.inHeight - top;
  const right = wp - info.inWidth - left;
  if (shifted && unit && top >= 0 && left >= 0 && bottom >= 0 && right >= 0) {
    return runProgram(backend, (p) => {
      // Stride 1: x transposed and padded, xp [ci, n, hp, wp]. Row (i, j, c) of Pᵀ restricted to batch b is
      // then ONE contiguous run of xp starting at (i, j), if the output grid is widened to wp columns:
      // column (b, oy, xx) reads xp[c, b, oy + i, xx + j]. The wp − ow extra columns hold shifted values of x
      // and meet zero columns of dy padded to [n, oh, wp, co], so they add nothing (unless x holds ±∞/NaN).
      const mw = n * oh * wp;
      const xp = p.own(backend.makeOutput([ci, n, hp, wp], 'float32'));
      const dyp = p.own(backend.makeOutput([1, mw, co], 'float32'));
      const patches = p.own(backend.makeOutput([1, k, mw], 'float32'));
      // Heap views after the last makeOutput (allocating may grow and move the heap).
      const xv = backend.typedArrayFromHeap(x) as Float32Array;
      const dyv = backend.typedArrayFromHeap(dy) as Float32Array;
      const outView = backend.typedArrayFromHeap(patches) as Float32Array;
      const heap = new Float32Array(outView.buffer); // one view: copyWithin is a memmove, no per-run objects
      const s0 = (backend.typedArrayFromHeap(xp) as Float32Array).byteOffset >> 2;
      padTranspose(xv, heap, s0, info, hp, wp);
      padDy(dyv, heap, (backend.typedArrayFromHeap(dyp) as Float32Array).byteOffset >> 2, n * oh, ow * co, wp * co);
      const plane = hp * wp;
      const run = oh * wp;
      let o = outView.byteOffset >> 2;
      for (let i = 0; i < fh; i++) {
        for (let j = 0; j < fw; j++) {
          const shift = i * wp + j;
          const len = Math.min(run, plane - shift); // the last j − 1 columns would read past the plane
          for (let c = 0; c < ci; c++) {
            for (let b = 0; b < n; b++, o += run) {
              const from = s0 + (c * n + b) * plane + shift;
              heap.copyWithin(o, from, from + len);
              for (let t = o + len; t < o + run; t++) heap[t] = 0;
            }
          }
        }
      }
      const grad = p.run('BatchMatMul', { a: patches, b: dyp }, { transposeA: false, transposeB: false });
      return p.reshape(grad, [fh, fw, ci, co]);
    });
  }
  const m = n * oh * ow;
  return runProgram(backend, (p) => {
    const xt = p.transpose(x, [3, 0, 1, 2]); // [ci, n, h, w]: every copied run is contiguous in x too
    const patches = p.own(backend.makeOutput([1, k, m], 'float32'));
    // Heap views after makeOutput (allocating may grow and move the heap).
    fillPatchesT(backend.typedArrayFromHeap(xt) as Float32Array, backend.typedArrayFromHeap(patches) as Float32Array, info);
    const dy3 = p.reshape(dy, [1, m, co]);
    const grad = p.run('BatchMatMul', { a: patches, b: dy3 }, { transposeA: false, transposeB: false });
    return p.reshape(grad, [fh, fw, ci, co]);
  });
}

/** x [n, h, w, ci] → heap[at…] as [ci, n, hp, wp], x at row `top`, column `left`, zeros around. */
function padTranspose(xv: Float32Array, heap: Float32Array, at: number, info: Conv2DInfo, hp: number, wp: number): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci } = info;
  const { top, left } = info.padInfo;
  const cStride = n * hp * wp;
  heap.fill(0, at, at + ci * cStride);
  let r = 0;
  for (let b = 0; b < n; b++) {
    for (let y = 0; y < h; y++) {
      let d = at + (b * hp + y + top) * wp + left;
      for (let xx = 0; xx < w; xx++, d++) {
        for (let c = 0, e = d; c < ci; c++, e += cStride) heap[e] = xv[r++];
      }
    }
  }
}

/** dy as `rows` rows of `len` values → heap[at…] as rows of `padded` values, zeros after each row. */
function padDy(dyv: Float32Array, heap: Float32Array, at: number, rows: number, len: number, padded: number): void {
  const from = dyv.byteOffset >> 2;
  for (let r = 0; r < rows; r++) {
    const o = at + r * padded;
    heap.copyWithin(o, from + r * len, from + (r + 1) * len);
    for (let t = o + len; t < o + padded; t++) heap[t] = 0;
  }
}

/**
 * Writes the transposed im2col matrix of x into `out` [fh·fw·ci, n·oh·ow], from x transposed to
 * xt [ci, n, h, w]: row (i, j, c), column (b, oy, ox) holds x[b, oy·sh − pt + i·dh, ox·sw − pl + j·dw, c],
 * zero outside x. Each (row, b, oy) is one run along ox, contiguous in both arrays when sw = 1.
 */
export function fillPatchesT(xt: Float32Array, out: Float32Array, info: Conv2DInfo): void {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const { top, left } = info.padInfo;
  const plane = h * w;
  let o = 0;
  for (let i = 0; i < fh; i++) {
    for (let j = 0; j < fw; j++) {
      const xOff = j * dw - left; // input column of ox = 0
      // Output columns ox with 0 ≤ ox·sw + xOff < w.
      const oxMin = Math.min(ow, xOff >= 0 ? 0 : Math.ceil(-xOff / sw));
      const oxMax = Math.max(oxMin, Math.min(ow, Math.ceil((w - xOff) / sw)));
      const run = oxMax - oxMin;
      for (let c = 0; c < ci; c++) {
        for (let b = 0; b < n; b++) {
          const base = (c * n + b) * plane + oxMin * sw + xOff;
          for (let oy = 0; oy < oh; oy++, o += ow) {
            const y = oy * sh - top + i * dh;
            // Zeros by plain loops: TypedArray.fill costs more per call than these few stores.
            if (y < 0 || y >= h) {
              for (let t = o; t < o + ow; t++) out[t] = 0;
              continue;
            }
            for (let t = o; t < o + oxMin; t++) out[t] = 0;
            for (let t = o + oxMax; t < o + ow; t++) out[t] = 0;
            const src = base + y * w;
            const dst = o + oxMin;
            if (sw === 1) {
              for (let t = 0; t < run; t++) out[dst + t] = xt[src + t];
            } else {
              for (let t = 0; t < run; t++) out[dst + t] = xt[src + t * sw];
            }
          }
        }
      }
    }
  }
}

/** The filter gradient as one XNNPACK forward conv with batch and channels swapped (see above). */
function convFilterGrad(backend: unknown, x: tf.TensorInfo, dy: tf.TensorInfo, info: Conv2DInfo, strides: [number, number]): tf.TensorInfo {
  const [sh, sw] = strides;
  const { filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const { top, left } = info.padInfo;
  return runProgram(backend, (p) => {
    const xt = p.transpose(x, [3, 1, 2, 0]); // [ci, H, W, n]
    const dyt = p.transpose(dy, [1, 2, 0, 3]); // [oh, ow, n, co]
    const out = p.conv('Conv2D', xt, dyt, [1, 1], [sh, sw], {
      top,
      left,
      bottom: (fh - 1) + (oh - 1) * sh + 1 - h - top,
      right: (fw - 1) + (ow - 1) * sw + 1 - w - left,
    }); // [ci, fh, fw, co]
    return p.transpose(out, [1, 2, 0, 3]);
  });
}
