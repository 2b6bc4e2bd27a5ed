import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, type SimdKernels } from '../simd';

/**
 * The two gradients of a small pointwise convolution (1×1 filter, stride 1, no padding: a product of the
 * [pixels, ci] input with the [ci, co] filter) where the kit's other SIMD kernels do not apply — co % 4 ≠ 0 for the
 * filter gradient, ci % 4 ≠ 0 for the input gradient — on two small SIMD kernels (`pointwiseFilterGrad`,
 * `pointwiseInputGrad` in assembly/kernels.ts). The MBConv source model's squeeze-and-excitation convolutions are
 * such (96 or 160 channels to 6 or 10 and back, on [32, 1, 1, c]): on the XNNPACK formulations the four of them took
 * ≈ 1.3 ms per training step, 0.05–0.5 ms per call for 20–50 k multiply-adds, mostly setting up and packing XNNPACK
 * operators for one use.
 *
 * Each output is summed over its terms in sequence from +0, each product and each sum rounded to float32 — the
 * order in which XNNPACK's GEMM adds them (its microkernels run along K one step at a time) — so the results are the
 * formulations' bit for bit (test/backend/fast_kernels.test.ts compares them on many shapes).
 */

/** Multiply-adds up to which the small kernels run (one thread; beyond, XNNPACK's packing pays for itself). */
export const POINTWISE_MAX_MACS = 1 << 18;

/** Whether a gradient of `info` is a pointwise convolution small enough for the kernels here. */
export function smallPointwise(info: tf.backend_util.Conv2DInfo): boolean {
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw, padInfo } = info;
  if (fh !== 1 || fw !== 1 || sh !== 1 || sw !== 1 || dh !== 1 || dw !== 1) return false;
  if (padInfo.top !== 0 || padInfo.left !== 0 || padInfo.bottom !== 0 || padInfo.right !== 0) return false;
  return info.batchSize * info.outHeight * info.outWidth * info.inChannels * info.outChannels <= POINTWISE_MAX_MACS;
}

/** dW [1, 1, ci, co] = xᵀ · dy over the pixels, in pixel order. */
export function pointwiseFilterGrad(backend: BackendWasm, simd: SimdKernels, x: tf.TensorInfo, dy: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { inChannels: ci, outChannels: co } = info;
  const out = backend.makeOutput([1, 1, ci, co], 'float32');
  simd.pointwiseFilterGrad(heapOffset(backend, x), heapOffset(backend, dy), heapOffset(backend, out), info.batchSize * info.outHeight * info.outWidth, ci, co);
  return out;
}

/** dx [n, h, w, ci] = dy · Wᵀ, each pixel's ci sums over the co channels in order. */
export function pointwiseInputGrad(backend: BackendWasm, simd: SimdKernels, dy: tf.TensorInfo, filter: tf.TensorInfo, info: tf.backend_util.Conv2DInfo): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outChannels: co } = info;
  const wt = backend.makeOutput([co, ci], 'float32');
  const out = backend.makeOutput([n, h, w, ci], 'float32');
  try {
    simd.pointwiseInputGrad(heapOffset(backend, dy), heapOffset(backend, filter), heapOffset(backend, wt), heapOffset(backend, out), n * h * w, ci, co);
  } finally {
    backend.disposeData(wt.dataId);
  }
  return out;
}
