import * as tf from '@tensorflow/tfjs';
import { heapOffset, simdKernelsFor, type SimdOrXnnpack } from '../simd';
import { modeSwitch, originalWasmKernel, wasmKernel } from './compose';

/** See SimdOrXnnpack (lib/backend/simd). */
export type DepthwiseMode = SimdOrXnnpack;
const mode = modeSwitch<DepthwiseMode>('auto');

/**
 * Square filter sizes for which the kit's tap order is XNNPACK's (checked bit for bit). XNNPACK picks its depthwise
 * microkernel by the number of taps, and for other sizes (4×4, 7×7, 2×3, …) adds them in another order.
 */
export const XNNPACK_ORDER_SIZES: readonly number[] = [1, 2, 3, 5];

/** Whether the kit's depthwise kernels reproduce XNNPACK's results for a filter of fh × fw. */
export function depthwiseSizeFits(fh: number, fw: number): boolean {
  return fh === fw && XNNPACK_ORDER_SIZES.includes(fh);
}

/** Forces the depthwise forward (and input-gradient) implementation (tests and benchmarks); returns the previous mode. */
export const setDepthwiseMode = mode.set;
/** The current depthwise mode (read by the input gradient). */
export const depthwiseMode = mode.get;

/**
 * DepthwiseConv2dNative (forward) for wasm on the kit's SIMD kernel (`depthwiseConvRows`): multiplier 1, c % 4 = 0,
 * float32 NHWC, filters of 1×1, 2×2, 3×3 or 5×5, any stride, dilation and padding; x read where it lies (taps outside
 * it are skipped). It sums the
 * taps column by column from +0 as XNNPACK does, so the results are XNNPACK's bit for bit, on the kit's threads.
 * Other cases use XNNPACK's kernel.
 */
type DepthwiseInputs = { x: tf.TensorInfo; filter: tf.TensorInfo };

export const depthwiseConv2dNativeConfig = wasmKernel<DepthwiseInputs, tf.DepthwiseConv2dNativeAttrs>(tf.DepthwiseConv2dNative, (call) => {
  const { inputs: { x, filter }, attrs: { strides, pad, dilations, dimRoundingMode, dataFormat }, backend, args } = call;
  const [fh0, fw0, c, m] = filter.shape;
  const nhwc = dataFormat == null || dataFormat === 'NHWC';
  const fits = nhwc && m === 1 && c % 4 === 0 && x.dtype === 'float32' && filter.dtype === 'float32' && x.shape[3] === c && depthwiseSizeFits(fh0, fw0);
  const simd = fits ? simdKernelsFor(backend, mode.get()) : null;
  if (simd == null) return originalWasmKernel(tf.DepthwiseConv2dNative).kernelFunc(args);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], filter.shape as [number, number, number, number], strides, dilations ?? 1, pad, dimRoundingMode, true,
  );
  const { batchSize: n, inHeight: h, inWidth: w, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
  const { strideHeight: sh, strideWidth: sw, dilationHeight: dh, dilationWidth: dw } = info;
  const out = backend.makeOutput([n, oh, ow, c], 'float32');
  simd.split('depthwiseConvRows', n * oh, ow * c * fh * fw, [
    heapOffset(backend, x), heapOffset(backend, filter), heapOffset(backend, out),
    h, w, c, oh, ow, fh, fw, sh, sw, dh, dw, info.padInfo.top, info.padInfo.left,
  ]);
  return out;
});
