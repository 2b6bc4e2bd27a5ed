import * as fs from 'fs';
import * as path from 'path';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { repoRoot } from '../../config';
import { KernelPool, type RangeKernel, type SplitKernel } from './pool';

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
  // See assembly/kernels.ts. All pointers are byte offsets into the wasm heap; (lo, hi) is a range of work units.
  conv2dRows(
    lo: number, hi: number, xp: number, w: number, bias: number, out: number,
    hp: number, wp: number, ci: number, co: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, act: number,
  ): void;
  conv2dFilterGradImages(
    lo: number, hi: number, x: number, dy: number, out: number, slot: number, acc: number, block: number,
    h: number, w: number, ci: number, oh: number, ow: number, co: number,
    fh: number, fw: number, pt: number, pl: number,
  ): void;
  conv2dFilterGradStrided(
    lo: number, hi: number, x: number, dy: number, out: number,
    n: number, h: number, w: number, ci: number, oh: number, ow: number, co: number,
    fw: number, sh: number, sw: number, pt: number, pl: number,
  ): void;
  conv2dTransposeRows(
    lo: number, hi: number, dyp: number, wt: number, out: number, h: number, w: number, ci: number, oh: number, owp: number, co: number,
    fh: number, fw: number, sh: number, sw: number, pt: number, pl: number, padL: number,
  ): void;
  sumImages(lo: number, hi: number, src: number, out: number, slot: number, count: number, size: number): void;
  maxPoolGrad2x2Rows(lo: number, hi: number, x: number, dy: number, dx: number, h: number, w: number, c: number, oh: number, ow: number): void;
  depthwiseFilterGradChannels(
    lo: number, hi: number, x: number, dy: number, acc: number, out: number,
    n: number, h: number, w: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number,
  ): void;
  depthwiseConvRows(
    lo: number, hi: number, x: number, w: number, out: number,
    h: number, wd: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number,
  ): void;
  depthwiseInputGradRows(
    lo: number, hi: number, dy: number, w: number, dx: number,
    h: number, wd: number, c: number, oh: number, ow: number,
    fh: number, fw: number, sh: number, sw: number, dh: number, dw: number, pt: number, pl: number,
  ): void;
  sigmoidGrad(lo: number, hi: number, dy: number, y: number, dx: number, size: number): void;
  reluGrad(lo: number, hi: number, dy: number, x: number, dx: number, size: number): void;
  squareGrad(lo: number, hi: number, dy: number, x: number, dx: number, size: number): void;
  batchNormGrad(
    lo: number, hi: number, x: number, dy: number, mean: number, scale: number, r: number, m: number, nr: number,
    dx: number, acc: number, oMean: number, oVar: number, oScale: number, oOffset: number, rows: number, c: number,
  ): void;
  batchNormRows(lo: number, hi: number, x: number, mean: number, scale: number, offset: number, nf: number, out: number, c: number): void;
  channelSum(lo: number, hi: number, x: number, mean: number, k: number, acc: number, out: number, rows: number, c: number, kind: number, scale: number): void;
  batchNormFinishDx(lo: number, hi: number, x: number, mean: number, ds: number, dm: number, dx: number, c: number): void;
  swishGrad(lo: number, hi: number, dy: number, x: number, s: number, dx: number, size: number): void;
  sumMiddle(x: number, out: number, a: number, r: number, b: number, scale: number): void;
  addBiasRows(lo: number, hi: number, x: number, bias: number, out: number, c: number): void;
  adamUpdate(
    lo: number, hi: number, value: number, m: number, v: number, g: number, outValue: number, outM: number, outV: number, size: number,
    b1: number, ob1: number, b2: number, ob2: number, omb1: number, omb2: number, eps: number, nlr: number,
  ): void;
  channelScaleRows(lo: number, hi: number, x: number, s: number, out: number, pixels: number, c: number): void;
  sgdUpdate(lo: number, hi: number, value: number, g: number, out: number, size: number, c: number): void;
  pointwiseFilterGrad(x: number, dy: number, out: number, pixels: number, ci: number, co: number): void;
  pointwiseInputGrad(dy: number, w: number, wt: number, dx: number, pixels: number, ci: number, co: number): void;
  /**
   * Runs the split kernel `kernel` over `units` work units (`work` multiply-adds or element operations each) with
   * `args` after (lo, hi): on the calling thread, or in chunks on the kit's thread pool when it has more than one
   * thread and the job is large enough to pay for it. The result is the same bit for bit either way. `align`: chunks
   * hold a multiple of that many units (see chunkSize), for kernels whose threads would otherwise write the same
   * cache lines.
   */
  split(kernel: SplitKernel, units: number, work: number, args: number[], align?: number): void;
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

interface Loaded {
  memory: WasmMemory;
  kernels: SimdKernels | null;
  module: object | null;
  exports: Record<string, unknown> | null;
  pool: KernelPool | null;
}
let cache: Loaded | null = null;
let warned = false;
let threads = 1;

/**
 * Sets how many threads the kit's SIMD kernels compute with (the caller and threads − 1 workers). More than one
 * needs the wasm backend's shared heap (its threaded build); on an unshared heap the kernels stay on one thread.
 */
export function setSimdThreads(n: number): void {
  if (!Number.isInteger(n) || n < 1) throw new Error(`setSimdThreads: expected a whole number ≥ 1, got ${n}`);
  threads = n;
}

/** Threads the kit's SIMD kernels compute with on `backend` (1 unless its heap is shared). */
export function simdThreads(backend: BackendWasm): number {
  return threads > 1 && isShared(heapMemory(backend)) ? threads : 1;
}

function heapMemory(backend: BackendWasm): WasmMemory | null {
  // The threaded build creates its (shared) memory in JavaScript; the plain build exports its own.
  const wasm = (backend as unknown as { wasm: { wasmMemory?: WasmMemory; asm?: { memory?: WasmMemory } } }).wasm;
  return wasm.wasmMemory ?? wasm.asm?.memory ?? null;
}

function isShared(memory: WasmMemory | null): boolean {
  return memory != null && typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer;
}

function load(memory: WasmMemory): Loaded {
  const file = isShared(memory) ? simdBuildFiles().shared : simdBuildFiles().plain;
  try {
    const module = new WebAssemblyJs.Module(fs.readFileSync(file));
    const own = new WebAssemblyJs.Instance(module, { env: { memory } }).exports as Record<string, unknown>;
    const loaded: Loaded = { memory, kernels: null, module, exports: own, pool: null };
    const split = (kernel: SplitKernel, units: number, work: number, args: number[], align = 1) => runSplit(loaded, kernel, units, work, args, align);
    loaded.kernels = { ...(own as unknown as SimdKernels), split };
    return loaded;
  } catch (err) {
    if (!warned) {
      warned = true;
      console.warn(
        `lib/backend/simd: ${path.relative(process.cwd(), file)} could not be loaded (${(err as Error).message.split('\n')[0]}); ` +
          'training uses the slower JavaScript kernels. `npm run build` compiles it.',
      );
    }
    return { memory, kernels: null, module: null, exports: null, pool: null };
  }
}

/** The SIMD kernels bound to `backend`'s heap, or null when turned off or unavailable. */
export function simdKernels(backend: BackendWasm): SimdKernels | null {
  if (process.env.KIT_SIMD === '0') return null;
  const memory = heapMemory(backend);
  if (memory == null) return null;
  if (cache == null || cache.memory !== memory) {
    void cache?.pool?.close();
    cache = load(memory);
  }
  return cache.kernels;
}

/** How work is cut into chunks for the pool (see chunkCount). */
export interface SplitPolicy {
  /** Work (multiply-adds or element operations) below which a chunk costs more to hand out than it saves. */
  minChunkWork: number;
  /** Chunks per thread: many small chunks let the other threads finish the work of one that was descheduled. */
  chunksPerThread: number;
  /** Run jobs on the caller alone for a while when the workers stopped paying (see KernelPool.useful). */
  judge: boolean;
}
/** The default split policy (measured: see docs/backend.md, "Threads"). */
export const SPLIT_POLICY: Readonly<SplitPolicy> = { minChunkWork: 250_000, chunksPerThread: 8, judge: true };
let policy: SplitPolicy = { ...SPLIT_POLICY };

/** Replaces the split policy (tests force tiny chunks, benchmarks try others); returns the previous one. */
export function setSplitPolicy(next: Partial<SplitPolicy>): SplitPolicy {
  const old = policy;
  policy = { ...policy, ...next };
  return old;
}

/** How many chunks `units` units of `work` each are cut into on `size` threads (1 = run on the caller). */
export function chunkCount(units: number, work: number, size: number): number {
  if (size <= 1) return 1;
  return Math.max(1, Math.min(units, size * policy.chunksPerThread, Math.floor((units * work) / policy.minChunkWork)));
}

/**
 * Units per chunk when `units` are cut into at most `chunks` chunks of a multiple of `align` units each (the last
 * chunk takes the rest). The channel-split kernels (a unit = 4 channels) pass align 4: a chunk then covers whole
 * 64-byte lines of the float32 rows it reads and writes and whole lines of its float64 sums (kept 64-byte aligned),
 * so two threads never write the same cache line — unaligned chunks made the 2-thread depthwise filter gradient and
 * batch-norm gradient 2.1–2.6× slower than one thread (docs/backend.md, session 7).
 */
export function chunkSize(units: number, chunks: number, align = 1): number {
  const per = Math.ceil(units / Math.max(1, chunks));
  return Math.min(units, Math.ceil(per / align) * align);
}

/** Float32 elements to add to a float64 scratch buffer so that `alignedOffset` can start it on a 64-byte line. */
export const ALIGN_PAD_FLOATS = 16;

/** The first 64-byte-aligned heap offset at or after `offset` (scratch buffers allocated ALIGN_PAD_FLOATS longer). */
export function alignedOffset(offset: number): number {
  return Math.ceil(offset / 64) * 64;
}

/** Units (of 4 channels) in one 64-byte line of float32 channels: the `align` of the channel-split kernels. */
export const LINE_UNITS = 4;

/**
 * Zeroed scratch for `doubles` float64 sums on the wasm heap, starting on a 64-byte line: `info` to free
 * (backend.disposeData(info.dataId)), `offset` to hand the kernel.
 */
export function alignedSums(backend: BackendWasm, doubles: number): { info: ReturnType<BackendWasm['makeOutput']>; offset: number } {
  const info = backend.makeOutput([2 * doubles + ALIGN_PAD_FLOATS], 'float32');
  (backend.typedArrayFromHeap(info) as Float32Array).fill(0);
  return { info, offset: alignedOffset(heapOffset(backend, info)) };
}

/** Jobs the kit's thread pool has run on the current heap (tests check that the threaded paths ran). */
export function simdPoolJobs(): number {
  return cache?.pool?.jobs ?? 0;
}

/**
 * The kit's thread pool on the current heap: jobs it ran on its threads, and jobs it ran on the caller alone because
 * its workers had not paid for themselves in the window before (`KernelPool.useful`). `npm run bench -- --profile`
 * prints it.
 */
export function simdPoolStats(): { jobs: number; benched: number } {
  return { jobs: cache?.pool?.jobs ?? 0, benched: cache?.pool?.benched ?? 0 };
}

function runSplit(loaded: Loaded, kernel: SplitKernel, units: number, work: number, args: number[], align: number): void {
  if (units <= 0) return;
  const size = threads > 1 && isShared(loaded.memory) ? threads : 1;
  const per = chunkSize(units, chunkCount(units, work, size), align);
  const chunks = Math.ceil(units / per);
  if (chunks <= 1 || (loaded.pool != null && loaded.pool.size === size && !loaded.pool.useful(policy.judge))) {
    (loaded.exports![kernel] as RangeKernel)(0, units, ...args);
    return;
  }
  if (loaded.pool == null || loaded.pool.size !== size) {
    void loaded.pool?.close();
    loaded.pool = new KernelPool(loaded.module!, loaded.memory, loaded.exports!, size - 1);
  }
  loaded.pool.run(kernel, units, per, args);
}

/**
 * How a kernel that has both a SIMD and an XNNPACK implementation chooses (tests and benchmarks force one):
 * 'auto' and 'simd' = the SIMD kernel wherever it applies (it equals XNNPACK's bit for bit where both exist, and
 * runs on the kit's threads), 'xnnpack' = never the SIMD kernel.
 */
export type SimdOrXnnpack = 'auto' | 'simd' | 'xnnpack';

/** The SIMD kernels if `mode` lets this kernel use them on `backend` (see SimdOrXnnpack), else null. */
export function simdKernelsFor(backend: BackendWasm, mode: SimdOrXnnpack): SimdKernels | null {
  if (mode === 'xnnpack') return null;
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
