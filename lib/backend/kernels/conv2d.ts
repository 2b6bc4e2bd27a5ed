import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { heapOffset, padNHWCInto, simdKernelsFor, type SimdKernels, type SimdOrXnnpack } from '../simd';
import { modeSwitch, originalWasmKernel, wasmKernel, type Shape4 } from './compose';

/** See SimdOrXnnpack (lib/backend/simd). */
export type Conv2DMode = SimdOrXnnpack;
const mode = modeSwitch<Conv2DMode>('auto');

/** Forces the forward-convolution implementation (tests and benchmarks); returns the previous mode. */
export const setConv2DMode = mode.set;

/** Activations the kit's convolution applies itself (FusedConv2D's `activation`); others use XNNPACK's kernel. */
const ACTIVATIONS: Record<string, number> = { linear: 0, relu: 1 };

/**
 * Conv2D and FusedConv2D (forward) for wasm on the kit's SIMD kernel (`conv2dRows`), float32 NHWC, dilation 1, any
 * stride, co % 4 = 0, bias of [co] and linear or relu activation: x copied into its zero padding (not at all for
 * 1×1 or unpadded filters), then the products summed from the bias in XNNPACK's order, so the results are
 * XNNPACK's bit for bit — on the kit's threads, and ≈ 1.1–1.2× faster on one. Every other case is XNNPACK's.
 */
type ConvInputs = { x: tf.TensorInfo; filter: tf.TensorInfo } & Partial<Record<'bias' | 'preluActivationWeights', tf.TensorInfo>>;

function convKernel(name: typeof tf.Conv2D | typeof tf.FusedConv2D): tf.KernelConfig {
  return wasmKernel<ConvInputs, tf.FusedConv2DAttrs>(name, ({ inputs, attrs: a, backend, args }) => {
    const { x, filter, bias, preluActivationWeights } = inputs;
    const act = ACTIVATIONS[a.activation ?? 'linear'];
    const nhwc = a.dataFormat == null || a.dataFormat === 'NHWC' || (a.dataFormat as string) === 'channelsLast';
    const co = filter.shape[3];
    const fits =
      nhwc && act != null && preluActivationWeights == null && x.dtype === 'float32' && filter.dtype === 'float32' && co % 4 === 0 &&
      (bias == null || (bias.dtype === 'float32' && bias.shape.length === 1 && bias.shape[0] === co));
    const simd = fits ? simdKernelsFor(backend, mode.get()) : null;
    if (simd == null) return originalWasmKernel(name).kernelFunc(args);
    const info = tf.backend_util.computeConv2DInfo(x.shape as Shape4, filter.shape as Shape4, a.strides, a.dilations, a.pad, a.dimRoundingMode, false);
    if (info.dilationHeight !== 1 || info.dilationWidth !== 1) return originalWasmKernel(name).kernelFunc(args);
    return simdConv(backend, simd, x, filter, bias ?? null, info, act);
  });
}

/** The convolution `info` of x by filter (+ bias, then act) on the kit's `conv2dRows`; returns the new output. */
export function simdConv(
  backend: BackendWasm,
  simd: SimdKernels,
  x: tf.TensorInfo,
  filter: tf.TensorInfo,
  bias: tf.TensorInfo | null,
  info: tf.backend_util.Conv2DInfo,
  act: number,
): tf.TensorInfo {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const { filterHeight: fh, filterWidth: fw, strideHeight: sh, strideWidth: sw } = info;
  const hp = (oh - 1) * sh + fh;
  const wp = (ow - 1) * sw + fw;
  const { top, left } = info.padInfo;
  // Unpadded (1×1 or 'valid' filters): convolve x where it lies (rows or columns past the last window go unread).
  const padded = top !== 0 || left !== 0 || hp > h || wp > w;
  const xp = padded ? backend.makeOutput([n, hp, wp, ci], 'float32') : x;
  const out = backend.makeOutput([n, oh, ow, co], 'float32');
  try {
    if (padded) {
      // Views after the last makeOutput (allocating may grow and move the heap).
      const heap = new Float32Array((backend.typedArrayFromHeap(xp) as Float32Array).buffer);
      padNHWCInto(heap, heapOffset(backend, x) >> 2, heapOffset(backend, xp) >> 2, n, h, w, ci, hp, wp, top, left);
    }
    const g = rowsOf(n, padded ? hp : h, padded ? wp : w, oh, ow, fh, fw, sh, sw);
    simd.split('conv2dRows', g.rows, g.ow * co * fh * fw * ci, [
      heapOffset(backend, xp), heapOffset(backend, filter), bias ? heapOffset(backend, bias) : 0, heapOffset(backend, out),
      g.hp, g.wp, ci, co, g.oh, g.ow, fh, fw, sh, sw, act,
    ]);
  } catch (err) {
    backend.disposeData(out.dataId);
    throw err;
  } finally {
    if (padded) backend.disposeData(xp.dataId);
  }
  return out;
}

/** Pixels per row when a 1×1, stride-1 convolution is viewed as one long image: 4-pixel tiles even for tiny images. */
const FLAT_ROW = 16;

/**
 * The rows `conv2dRows` works through: the image geometry as it is, or — for a 1×1 filter at stride 1 over x where it
 * lies, a plain product of the [n·h·w, ci] pixels with the filter — rows of FLAT_ROW pixels (images of one row), so
 * the 4-pixel register tile applies even to 2×2 or 1×1 images. Every output element is the same sum either way.
 */
export function rowsOf(n: number, hp: number, wp: number, oh: number, ow: number, fh: number, fw: number, sh: number, sw: number) {
  const pixels = n * oh * ow;
  const flat = fh === 1 && fw === 1 && sh === 1 && sw === 1 && hp === oh && wp === ow && ow < FLAT_ROW && pixels % FLAT_ROW === 0;
  if (flat) return { rows: pixels / FLAT_ROW, hp: 1, wp: FLAT_ROW, oh: 1, ow: FLAT_ROW };
  return { rows: n * oh, hp, wp, oh, ow };
}

/** Conv2D (forward): see `convKernel`. */
export const conv2DConfig: tf.KernelConfig = convKernel(tf.Conv2D);

/**
 * FusedConv2D: tfjs-layers runs every conv layer with a linear or relu activation through it (in training only
 * the linear ones: tfjs unfuses relu under a gradient tape). See `convKernel`.
 */
export const fusedConv2DConfig: tf.KernelConfig = convKernel(tf.FusedConv2D);
