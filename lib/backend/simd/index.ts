import * as fs from 'fs';
import * as path from 'path';
import { getThreadsCount, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { repoRoot } from '../../config';

/**
 * The kit's own WebAssembly SIMD kernels (source: ./assembly/kernels.ts, AssemblyScript; compiled by
 * scripts/build-simd.mjs into dist/simd at install). The module is instantiated on the wasm backend's own
 * memory, so kernels take byte offsets of tensors on tfjs's heap and copy nothing in or out. Two builds: one for
 * the plain wasm backend, one importing shared memory for its threaded build.
 *
 * `KIT_SIMD=0` turns them off (the kernels then run their JavaScript versions); a missing build does the
 * same, with one warning.
 */
export interface SimdKernels {
  /** See assembly/kernels.ts. All pointers are byte offsets; `out` must be zero. */
  conv2dFilterGrad(
    x: number, dy: number, out: number,
    n: number, h: number, w: number, ci: number,
    oh: number, ow: number, co: number,
    fh: number, fw: number, pt: number, pl: number,
  ): void;
  conv2dValid(xp: number, w: number, out: number, n: number, hp: number, wp: number, ci: number, co: number, fh: number, fw: number): void;
  sumMiddle(x: number, out: number, a: number, r: number, b: number, scale: number): void;
  addBias(x: number, bias: number, out: number, rows: number, c: number): void;
  depthwiseFilterGrad(
    x: number, dy: number, acc: number, out: number,
    n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number,
  ): void;
  maxPoolGrad2x2(x: number, dy: number, dx: number, n: number, h: number, w: number, c: number, oh: number, ow: number): void;
}

/** Where the compiled modules live (plain and shared-memory builds). */
export function simdBuildFiles(): { plain: string; shared: string } {
  const dir = path.join(repoRoot(), 'dist', 'simd');
  return { plain: path.join(dir, 'kernels.wasm'), shared: path.join(dir, 'kernels-shared.wasm') };
}

/** The parts of the WebAssembly API used here (the kit compiles without the DOM library, which declares it). */
interface WasmMemory {
  readonly buffer: ArrayBufferLike;
}
interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const WebAssemblyJs = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly;

let cache: { memory: WasmMemory; kernels: SimdKernels | null } | null = null;
let warned = false;

/** The SIMD kernels bound to `backend`'s heap, or null when turned off or unavailable. */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  if (process.env.KIT_SIMD === '0') return null;
  // The threaded build creates its (shared) memory in JavaScript; the plain build exports its own.
  const wasm = (backend as unknown as { wasm: { wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory } } }).wasm;
  const memory = wasm.wasmMemory ?? wasm.asm?.memory;
  if (memory == null) return null;
  if (cache != null && cache.memory === memory) return cache.kernels;
  let kernels: SimdKernels | null = null;
  const shared = typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
  const file = shared ? simdBuildFiles().shared : simdBuildFiles().plain;
  try {
    const module = new WebAssemblyJs.Module(fs.readFileSync(file));
    kernels = new WebAssemblyJs.Instance(module, { env: { memory } }).exports as unknown as SimdKernels;
  } catch (err) {
    if (!warned) {
      warned = true;
      console.warn(
        `lib/backend/simd: ${path.relative(process.cwd(), file)} could not be loaded (${(err as Error).message.split('\n')[0]}); ` +
          'training uses the slower JavaScript kernels. `npm run build` compiles it.',
      );
    }
  }
  cache = { memory, kernels };
  return kernels;
}

/**
 * How a kernel that has both a SIMD and an XNNPACK implementation chooses (tests and benchmarks force one):
 * 'auto' = the SIMD kernel on a 1-thread backend (XNNPACK's threads beat one core when the backend has them),
 * 'simd' = the SIMD kernel wherever it applies, 'xnnpack' = never the SIMD kernel.
 */
export type SimdOrXnnpack = 'auto' | 'simd' | 'xnnpack';

/** The SIMD kernels if `mode` lets this kernel use them on `backend` (see SimdOrXnnpack), else null. */
export function simdKernelsFor(backend: BackendWasm, mode: SimdOrXnnpack): SimdKernels | null {
  if (mode === 'xnnpack' || (mode === 'auto' && getThreadsCount() > 1)) return null;
  return simdKernels(backend);
}

/** Byte offset of a tensor on the wasm heap. */
export function heapOffset(backend: BackendWasm, info: { dataId: object }): number {
  return (backend as unknown as { dataIdMap: { get(id: object): { memoryOffset: number } } }).dataIdMap.get(info.dataId).memoryOffset;
}

/**
 * Copies an NHWC tensor [n, rows, cols, ch] at heap element `src` into a zeroed [n, hp, wp, ch] at `dst`, its
 * row 0 at row `top` and column 0 at column `left` (either may be negative); what falls outside is dropped.
 */
export function padNHWCInto(
  heap: Float32Array, src: number, dst: number,
  n: number, rows: number, cols: number, ch: number,
  hp: number, wp: number, top: number, left: number,
): void {
  heap.fill(0, dst, dst + n * hp * wp * ch);
  const c0 = Math.max(0, -left);
  const c1 = Math.min(cols, wp - left);
  if (c1 <= c0) return;
  for (let b = 0; b < n; b++) {
    for (let r = Math.max(0, -top); r < Math.min(rows, hp - top); r++) {
      const from = src + ((b * rows + r) * cols + c0) * ch;
      heap.copyWithin(dst + ((b * hp + r + top) * wp + c0 + left) * ch, from, from + (c1 - c0) * ch);
    }
  }
}
