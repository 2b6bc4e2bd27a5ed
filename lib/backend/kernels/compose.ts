import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/**
 * Composition helpers for the kit's wasm kernels: a kernel here is a short program of the wasm backend's own
 * kernels (Conv2D, Transpose, …) called directly on TensorInfos, so no engine bookkeeping is involved and
 * every intermediate is freed on the backend before the result is handed back.
 */

type TensorInfo = tf.TensorInfo;
type Attrs = Record<string, unknown>;

/** Pads of a convolution on each side; negative values crop the input. */
export interface Pads {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/**
 * Runs wasm kernels and owns every TensorInfo they return; `finish(result)` frees all but `result`.
 * Reshape on wasm returns the same dataId with its ref count raised, so freeing both the source and the
 * reshaped view is balanced.
 */
export class WasmProgram {
  private readonly owned: TensorInfo[] = [];

  constructor(readonly backend: BackendWasm) {}

  /** One call of the wasm backend's kernel `name`. */
  run(name: string, inputs: Record<string, TensorInfo>, attrs: Attrs = {}): TensorInfo {
    const kernel = tf.getKernel(name, 'wasm');
    if (kernel == null) throw new Error(`lib/backend/kernels: the wasm backend has no kernel ${name}`);
    const out = kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: this.backend }) as TensorInfo;
    this.owned.push(out);
    return out;
  }

  /** One call of a wasm kernel with several outputs (all owned). */
  runMulti(name: string, inputs: Record<string, TensorInfo>, attrs: Attrs = {}): TensorInfo[] {
    const kernel = tf.getKernel(name, 'wasm');
    if (kernel == null) throw new Error(`lib/backend/kernels: the wasm backend has no kernel ${name}`);
    const out = kernel.kernelFunc({ inputs, attrs: attrs as tf.NamedAttrMap, backend: this.backend }) as TensorInfo[];
    this.owned.push(...out);
    return out;
  }

  /** Takes ownership of a TensorInfo made outside `run` (e.g. by `backend.makeOutput`), so `finish` frees it. */
  own(x: TensorInfo): TensorInfo {
    this.owned.push(x);
    return x;
  }

  reshape(x: TensorInfo, shape: number[]): TensorInfo {
    return this.run('Reshape', { x }, { shape });
  }

  transpose(x: TensorInfo, perm: number[]): TensorInfo {
    return this.run('Transpose', { x }, { perm });
  }

  sum(x: TensorInfo, axis: number[]): TensorInfo {
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  /** Crops an NHWC tensor by the negative parts of `pads` and returns the non-negative rest. */
  crop(x: TensorInfo, pads: Pads): { x: TensorInfo; pads: Pads } {
    const ct = Math.max(0, -pads.top);
    const cb = Math.max(0, -pads.bottom);
    const cl = Math.max(0, -pads.left);
    const cr = Math.max(0, -pads.right);
    const rest = {
      top: Math.max(0, pads.top),
      bottom: Math.max(0, pads.bottom),
      left: Math.max(0, pads.left),
      right: Math.max(0, pads.right),
    };
    if (ct + cb + cl + cr === 0) return { x, pads: rest };
    const [n, h, w, c] = x.shape;
    const size = [n, h - ct - cb, w - cl - cr, c];
    if (size[1] <= 0 || size[2] <= 0) {
      throw new Error(`lib/backend/kernels: cropping [${x.shape}] by ${JSON.stringify(pads)} leaves nothing`);
    }
    return { x: this.run('Slice', { x }, { begin: [0, ct, cl, 0], size }), pads: rest };
  }

  /**
   * A forward convolution (`Conv2D` or `DepthwiseConv2dNative`) with explicit pads that may be negative.
   * XNNPACK accepts strides and dilations > 1 together, which the filter gradient of a strided conv needs.
   */
  conv(
    kind: 'Conv2D' | 'DepthwiseConv2dNative',
    x: TensorInfo,
    filter: TensorInfo,
    strides: [number, number],
    dilations: [number, number],
    pads: Pads,
  ): TensorInfo {
    const cropped = this.crop(x, pads);
    const p = cropped.pads;
    const pad =
      p.top + p.bottom + p.left + p.right === 0
        ? 'valid'
        : [
            [0, 0],
            [p.top, p.bottom],
            [p.left, p.right],
            [0, 0],
          ];
    const attrs: Attrs = { strides, dilations, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
    return this.run(kind, { x: cropped.x, filter }, attrs);
  }

  /**
   * Inserts `stride - 1` zeros between the rows and columns of an NHWC tensor (the "dilated dy" of a
   * strided convolution's input gradient). The result has `(h - 1) * sh + 1` rows plus `sh - 1` trailing
   * zero rows (same for columns): callers account for them as negative bottom/right pads.
   */
  dilate(x: TensorInfo, strides: [number, number]): TensorInfo {
    const [sh, sw] = strides;
    if (sh === 1 && sw === 1) return x;
    const [n, h, w, c] = x.shape;
    const x6 = this.reshape(x, [n * h, 1, w, 1, c]);
    const padded = this.run(
      'PadV2',
      { x: x6 },
      {
        paddings: [
          [0, 0],
          [0, sh - 1],
          [0, 0],
          [0, sw - 1],
          [0, 0],
        ],
        constantValue: 0,
      },
    );
    return this.reshape(padded, [n, h * sh, w * sw, c]);
  }

  /** Frees every intermediate except `result` and returns it. */
  finish(result: TensorInfo): TensorInfo {
    for (const info of this.owned) {
      if (info !== result) this.backend.disposeData(info.dataId);
    }
    this.owned.length = 0;
    return result;
  }

  /** Frees every intermediate (on error). */
  abort(): void {
    for (const info of this.owned) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }
}

/** The wasm backend's own kernels that the kit replaced (fallbacks for cases the kit's version skips). */
export const REPLACED_WASM_KERNELS = new Map<string, tf.KernelConfig>();

/** The wasm backend's original kernel `name`, whether or not the kit replaced it. */
export function originalWasmKernel(name: string): tf.KernelConfig {
  const kernel = REPLACED_WASM_KERNELS.get(name) ?? tf.getKernel(name, 'wasm');
  if (kernel == null) throw new Error(`lib/backend/kernels: the wasm backend has no kernel ${name}`);
  return kernel;
}

/** What a kit kernel's body receives: its inputs by name, the wasm backend, its attributes, and tfjs's call (for a fallback). */
export interface WasmCall<I, A> {
  inputs: I;
  backend: BackendWasm;
  attrs: A;
  args: Parameters<tf.KernelFunc>[0];
}

/**
 * A wasm kernel config: `kernelName` on the wasm backend runs `body` with its inputs and attributes typed as the
 * kernel declares them (`I`, `A`), so every kernel file states what it takes once instead of re-casting tfjs's call.
 */
export function wasmKernel<I = Record<string, TensorInfo>, A = Record<string, never>>(
  kernelName: string,
  body: (call: WasmCall<I, A>) => TensorInfo | TensorInfo[],
): tf.KernelConfig {
  return {
    kernelName,
    backendName: 'wasm',
    kernelFunc: (args) =>
      body({ inputs: args.inputs as unknown as I, backend: args.backend as BackendWasm, attrs: args.attrs as unknown as A, args }),
  };
}

/**
 * Frees `out` (one output or several) if `body` throws and every tensor of `scratch` in any case: the clean-up
 * around a kernel that writes into outputs it made itself with the help of scratch buffers.
 */
export function fillOutput<T extends TensorInfo | TensorInfo[]>(backend: BackendWasm, out: T, scratch: TensorInfo[], body: () => void): T {
  try {
    body();
  } catch (err) {
    for (const t of Array.isArray(out) ? out : [out]) backend.disposeData(t.dataId);
    throw err;
  } finally {
    for (const t of scratch) backend.disposeData(t.dataId);
  }
  return out;
}

/** Runs `body` with a fresh WasmProgram, freeing intermediates whether it succeeds or throws. */
export function runProgram(backend: unknown, body: (p: WasmProgram) => TensorInfo): TensorInfo {
  const program = new WasmProgram(backend as unknown as BackendWasm);
  try {
    return program.finish(body(program));
  } catch (err) {
    program.abort();
    throw err;
  }
}

/**
 * A kernel's switch between its formulations (tests and benchmarks force one): `get()` reads it, `set(next)`
 * changes it and returns the previous value, so callers can restore it in a `finally`.
 */
export function modeSwitch<T>(initial: T): { get(): T; set(next: T): T } {
  let value = initial;
  return {
    get: () => value,
    set: (next: T) => {
      const old = value;
      value = next;
      return old;
    },
  };
}

/** Normalises a stride/dilation attribute (number or pair) to a pair. */
export function pair(v: number | [number, number] | number[] | undefined, fallback = 1): [number, number] {
  if (v == null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  return [v[0], v[1]];
}

/** Throws unless the data format is channels-last (the only one the wasm backend supports). */
export function assertNHWC(kernel: string, dataFormat: unknown): void {
  if (dataFormat != null && dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`${kernel} (wasm, lib/backend/kernels): dataFormat ${String(dataFormat)} unsupported, expected NHWC`);
  }
}

export type Shape4 = [number, number, number, number];

/**
 * Conv2DInfo of a convolution's gradient kernel (dilation 1, channels-last) for input `xShape` and filter
 * `filterShape`; throws an error naming the kernel and the shapes when dy is not the convolution's output size.
 */
export function conv2DGradInfo(
  kernel: string,
  xShape: Shape4,
  filterShape: Shape4,
  dyShape: number[],
  attrs: { strides: number | [number, number]; pad: tf.backend_util.ExplicitPadding | 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil'; dataFormat?: unknown },
): tf.backend_util.Conv2DInfo {
  assertNHWC(kernel, attrs.dataFormat);
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false);
  if (dyShape[1] !== info.outHeight || dyShape[2] !== info.outWidth) {
    throw new Error(`${kernel} (wasm): dy [${dyShape}] does not match the output ${info.outHeight}×${info.outWidth} of input [${xShape}]`);
  }
  return info;
}

/** The geometry both depthwise backprop kernels need, with dy's shape checked against it. */
export interface DepthwiseGeometry {
  info: tf.backend_util.Conv2DInfo;
  sh: number; sw: number; dh: number; dw: number;
  fh: number; fw: number; oh: number; ow: number; h: number; w: number;
  n: number; c: number; m: number;
}

/**
 * Conv geometry of a depthwise convolution with input `xShape` and filter `filterShape`; throws an error naming
 * the kernel and both shapes when dy is not [n, oh, ow, c·m].
 */
export function depthwiseGeometry(
  kernel: string,
  xShape: [number, number, number, number],
  filterShape: [number, number, number, number],
  dyShape: number[],
  attrs: { strides: number | [number, number]; dilations: number | [number, number]; pad: tf.backend_util.ExplicitPadding | 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' },
): DepthwiseGeometry {
  const { strides, dilations, pad, dimRoundingMode } = attrs;
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode, true);
  const [sh, sw] = pair(strides);
  const [dh, dw] = pair(dilations);
  const { filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
  const [n, , , c] = xShape;
  const m = filterShape[3];
  if (dyShape[1] !== oh || dyShape[2] !== ow || dyShape[3] !== c * m) {
    throw new Error(`${kernel} (wasm): dy [${dyShape}] does not match [${n}, ${oh}, ${ow}, ${c * m}] for input [${xShape}]`);
  }
  return { info, sh, sw, dh, dw, fh, fw, oh, ow, h, w, n, c, m };
}
