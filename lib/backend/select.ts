import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, type BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, WASM_TRAINING_KERNELS } from './kernels';
import { setSimdThreads, simdKernels, simdThreads } from './simd';
import { defaultWasmThreads } from './cores';
import { finishWasmThreads, prepareWasmThreads, threadsFromEnv } from './threads';

/**
 * Backend selection: the native TensorFlow backend (optional package `tfjs-native`, an alias of
 * @tensorflow/tfjs-node) when it loads, else wasm with the kit's training kernels, else plain-JS cpu.
 * `KIT_BACKEND=cpu|wasm|tensorflow` (or `initBackend({backend})`) forces one.
 */

/** The backends the kit knows, fastest first. */
export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow', 'wasm', 'cpu'];

/** Options of `initBackend`. */
export interface InitBackendOptions {
  /** Force a backend (overrides KIT_BACKEND); an error if it cannot load. */
  backend?: BackendName;
  /**
   * Threads for the kit's kernels on wasm (default: KIT_WASM_THREADS, else `defaultWasmThreads()`; see
   * docs/backend.md). More than 1 needs the threaded wasm build, so it only takes effect if wasm was not
   * initialised yet (single-threaded); ignored by other backends.
   */
  threads?: number;
  /** Print the one-line description once selected. */
  verbose?: boolean;
}

/** What `initBackend` chose and why. */
export interface BackendInfo {
  /** The active tfjs backend. */
  backend: BackendName;
  /** Threads the backend computes with. */
  threads: number;
  /** Version of @tensorflow/tfjs-core in use. */
  tfjsVersion: string;
  /** Why this backend was chosen (which faster ones were unavailable). */
  reason: string;
  /** Whether the wasm backend runs its SIMD build (false on other backends). */
  simd: boolean;
  /** The kit's own kernels registered on this backend (wasm training kernels). */
  kitKernels: string[];
  /** Whether the kit's WebAssembly SIMD kernels (lib/backend/simd) run on this backend (wasm only; KIT_SIMD=0 turns them off). */
  kitSimd: boolean;
  /** Logical CPU cores of this machine. */
  cores: number;
}

/** Loads the optional native package (registers the 'tensorflow' backend); throws when absent. */
export type NativeLoader = () => unknown;

const defaultNativeLoader: NativeLoader = () => require('tfjs-native');
let nativeLoader: NativeLoader = defaultNativeLoader;
let nativeLoadError: string | null = null;
let wasmPathsSet = false;
let selected: Promise<BackendInfo> | null = null;
let current: BackendInfo | null = null;

/** Replaces how `tfjs-native` is loaded (tests fake its absence and presence); `null` restores the default. */
export function setNativeLoader(loader: NativeLoader | null): void {
  nativeLoader = loader ?? defaultNativeLoader;
  nativeLoadError = null;
}

/** Forgets the cached selection so the next `initBackend` chooses again (tests, benchmarks). */
export function resetBackendSelection(): void {
  selected = null;
  current = null;
}

/** The folder holding the wasm binaries shipped by @tensorflow/tfjs-backend-wasm (with a trailing slash). */
export function wasmBinaryDir(): string {
  return path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm')) + path.sep;
}

function tryLoadNative(): boolean {
  if (tf.findBackendFactory('tensorflow') != null) return true;
  try {
    nativeLoader();
  } catch (err) {
    nativeLoadError = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return false;
  }
  if (tf.findBackendFactory('tensorflow') == null) {
    nativeLoadError = 'tfjs-native loaded but registered no "tensorflow" backend';
    return false;
  }
  return true;
}

function wasmInitialised(): boolean {
  return (tf.findBackend('wasm') as unknown) != null;
}

async function activate(name: BackendName, threads?: number): Promise<void> {
  let wanted = 1;
  if (name === 'tensorflow' && !tryLoadNative()) {
    throw new Error(`backend "tensorflow" cannot load: ${nativeLoadError} (install the optional package tfjs-native)`);
  }
  if (name === 'wasm') {
    if (!wasmPathsSet) {
      setWasmPaths(wasmBinaryDir());
      wasmPathsSet = true;
    }
    registerWasmTrainingKernels();
    wanted = threads ?? threadsFromEnv() ?? defaultWasmThreads();
    if (wanted > 1 && !wasmInitialised()) prepareWasmThreads(wanted);
  }
  if (name === 'cpu') {
    // The cpu backend greets Node users once with an advert for tfjs-node; the kit already says why.
    const cpu = tf.findBackend('cpu') as unknown as { firstUse?: boolean } | null;
    if (cpu != null) cpu.firstUse = false;
  }
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } finally {
    if (name === 'wasm') finishWasmThreads();
  }
  if (!ok) throw new Error(`backend "${name}" failed to initialise (tf.setBackend returned false)`);
  await tf.ready();
  // The kit's kernels use `wanted` threads where the heap is shared (else one: see simdThreads).
  if (name === 'wasm') setSimdThreads(wanted);
  if (name === 'cpu') {
    const cpu = tf.backend() as unknown as { firstUse?: boolean };
    cpu.firstUse = false;
  }
}

async function describeActive(name: BackendName, reason: string): Promise<BackendInfo> {
  const simd = name === 'wasm' ? Boolean(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) : false;
  const cores = os.cpus().length;
  return {
    backend: name,
    threads: name === 'wasm' ? simdThreads(tf.backend() as BackendWasm) : name === 'tensorflow' ? cores : 1,
    tfjsVersion: tf.version_core,
    reason,
    simd,
    kitKernels: name === 'wasm' ? WASM_TRAINING_KERNELS.map((k) => k.kernelName) : [],
    kitSimd: name === 'wasm' && simdKernels(tf.backend() as BackendWasm) != null,
    cores,
  };
}

function requested(opts: InitBackendOptions): BackendName | undefined {
  const raw = opts.backend ?? process.env.KIT_BACKEND;
  if (raw == null || raw === '') return undefined;
  const name = raw.trim().toLowerCase() as BackendName;
  if (!BACKEND_NAMES.includes(name)) {
    throw new Error(`initBackend: unknown backend "${raw}" (from ${opts.backend ? 'options' : 'KIT_BACKEND'}), expected one of ${BACKEND_NAMES.join(', ')}`);
  }
  return name;
}

async function choose(opts: InitBackendOptions): Promise<BackendInfo> {
  const forced = requested(opts);
  if (forced != null) {
    const source = opts.backend ? 'initBackend({backend})' : 'KIT_BACKEND';
    await activate(forced, opts.threads);
    return describeActive(forced, `forced by ${source}=${forced}`);
  }
  if (tryLoadNative()) {
    await activate('tensorflow');
    return describeActive('tensorflow', 'native TensorFlow (tfjs-native) loaded');
  }
  const why = /Cannot find module 'tfjs-native'/.test(nativeLoadError ?? '') ? 'native TensorFlow not installed' : `tfjs-native unavailable (${nativeLoadError})`;
  try {
    await activate('wasm', opts.threads);
    return describeActive('wasm', `${why}; using wasm with the kit's training kernels`);
  } catch (err) {
    const msg = err instanceof Error ? err.message : String(err);
    await activate('cpu');
    return describeActive('cpu', `${why}; wasm failed (${msg}); plain-JS cpu (slow)`);
  }
}

/**
 * Selects and initialises the fastest available backend (native → wasm → cpu), or the one forced by
 * `opts.backend` / KIT_BACKEND. Idempotent: later calls return the first call's result — except a call that forces
 * another backend than the one active, which switches to it now (benchmarks, comparisons).
 */
export async function initBackend(opts: InitBackendOptions = {}): Promise<BackendInfo> {
  if (selected != null && opts.backend != null && current != null && current.backend !== opts.backend) selected = null;
  if (selected == null) {
    selected = choose(opts).then((info) => {
      current = info;
      if (opts.verbose) console.log(describeBackend());
      return info;
    });
    selected.catch(() => {
      selected = null;
    });
  }
  return selected;
}

/**
 * @internal for the benchmarks (not in the notebook API: `initBackend({ backend })` switches too): activates `name`
 * now without touching `initBackend`'s cached choice.
 */
export async function useBackend(name: BackendName, threads?: number): Promise<BackendInfo> {
  await activate(name, threads);
  return describeActive(name, `selected by useBackend("${name}")`);
}

/** Which of the kit's backends can load here (tries each; leaves the active backend unchanged). */
export async function availableBackends(): Promise<BackendName[]> {
  const before = tf.getBackend();
  const out: BackendName[] = [];
  for (const name of BACKEND_NAMES) {
    try {
      await activate(name);
      out.push(name);
    } catch {
      /* not available here */
    }
  }
  if (before != null) await tf.setBackend(before);
  return out;
}

/** A short human description of the selected backend, e.g. "wasm (SIMD, 1 thread) · tfjs 4.22.0 — …". */
export function describeBackend(info: BackendInfo | null = current): string {
  if (info == null) return `not initialised (tfjs ${tf.version_core} on ${tf.getBackend() ?? 'no backend'}); call initBackend()`;
  const extras = [info.simd ? 'SIMD' : null, `${info.threads} thread${info.threads === 1 ? '' : 's'}`, info.kitSimd ? "the kit's SIMD kernels" : null].filter(Boolean);
  return `${info.backend} (${extras.join(', ')}) · tfjs ${info.tfjsVersion} — ${info.reason}`;
}
