import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, padNHWCInto, simdKernelsFor, type SimdOrXnnpack } from '../simd';
import { modeSwitch, originalWasmKernel } from './compose';

/** See SimdOrXnnpack (lib/backend/simd). */
export type Conv2DMode = SimdOrXnnpack;
const mode = modeSwitch<Conv2DMode>('auto');

/** Forces the forward-convolution implementation (tests and benchmarks); returns the previous mode. */
export const setConv2DMode = mode.set;

/**
 * Conv2D (forward) for wasm, replacing XNNPACK's at stride 1 on a 1-thread backend: x copied into its zero
 * padding, then the kit's SIMD 'valid' convolution (lib/backend/simd/assembly), ≈ 1.2× faster than XNNPACK's
 * per call on the reference CNN's layers. Strided, dilated, non-float32 or threaded cases use XNNPACK's kernel.
 */
export const conv2DConfig: tf.KernelConfig = {
  kernelName: tf.Conv2D,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, attrs } = args;
    const backend = args.backend as BackendWasm;
    const { x, filter } = inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = attrs as unknown as tf.Conv2DAttrs;
    const nhwc = dataFormat == null || dataFormat === 'NHWC' || (dataFormat as string) === 'channelsLast';
    const float = x.dtype === 'float32' && filter.dtype === 'float32';
    const [, , ci0, co] = filter.shape;
    // Below 8 input channels (an RGB first layer) XNNPACK's kernel is as fast or faster.
    const simd = nhwc && float && co % 4 === 0 && ci0 >= 8 ? simdKernelsFor(backend, mode.get()) : null;
    if (simd == null) return originalWasmKernel(tf.Conv2D).kernelFunc(args);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number],
      strides,
      dilations,
      pad,
      dimRoundingMode,
      false,
    );
    const unit = info.strideHeight === 1 && info.strideWidth === 1 && info.dilationHeight === 1 && info.dilationWidth === 1;
    if (!unit) return originalWasmKernel(tf.Conv2D).kernelFunc(args);
    const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, filterHeight: fh, filterWidth: fw } = info;
    const hp = oh + fh - 1;
    const wp = ow + fw - 1;
    // No padding (1×1 or 'valid' filters): convolve x where it lies.
    const padded = hp !== h || wp !== w || info.padInfo.top !== 0 || info.padInfo.left !== 0;
    const xp = padded ? backend.makeOutput([n, hp, wp, ci], 'float32') : x;
    const out = backend.makeOutput([n, oh, ow, co], 'float32');
    try {
      if (padded) {
        // Views after the last makeOutput (allocating may grow and move the heap).
        const heap = new Float32Array((backend.typedArrayFromHeap(xp) as Float32Array).buffer);
        padNHWCInto(heap, heapOffset(backend, x) >> 2, heapOffset(backend, xp) >> 2, n, h, w, ci, hp, wp, info.padInfo.top, info.padInfo.left);
      }
      simd.conv2dValid(heapOffset(backend, xp), heapOffset(backend, filter), heapOffset(backend, out), n, hp, wp, ci, co, fh, fw);
    } catch (err) {
      backend.disposeData(out.dataId);
      throw err;
    } finally {
      if (padded) backend.disposeData(xp.dataId);
    }
    return out;
  },
};
