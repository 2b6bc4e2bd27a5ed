import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import type { Worker as WorkerThread, WorkerOptions } from 'worker_threads';

/**
 * Threads for the kit's SIMD kernels (`initBackend({threads})` or KIT_WASM_THREADS). They need the wasm backend's
 * heap to be shared memory, i.e. its threaded build; XNNPACK itself is kept at one thread there (its own pool
 * waits for its slowest thread, which a busy core made 1.5× slower than one thread), while the kit's kernels split
 * their work over the kit's own pool (lib/backend/simd/pool.ts).
 *
 * tfjs-backend-wasm ships a threaded SIMD build but refuses it under Node, for three reasons worked around
 * here, only while the backend initialises:
 * 1. the WASM_HAS_MULTITHREAD_SUPPORT flag is hard-wired to false when IS_NODE — we set it to true;
 * 2. its pthread workers are started from Blob URLs, which Node's Worker cannot load — Blob and
 *    URL.createObjectURL are wrapped so the worker and main scripts are written to a temporary folder
 *    (the main script needs the bundle's `require$$N`/`commonjsGlobal` names defined before it);
 * 3. it caps threads at os.cpus().length / 2 (it assumes 2 hyper-threads per core), i.e. 1 on 2 cores —
 *    os.cpus() reports each core twice during initialisation.
 */
export function prepareWasmThreads(threads: number): void {
  if (!(threads >= 2)) return;
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(xnnpackThreads());
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-wasm-threads-'));
  const RealBlob = globalThis.Blob;
  const realCreate = URL.createObjectURL;
  let mainPath: string | null = null;
  let count = 0;
  class TextBlob extends RealBlob {
    readonly kitText: string;
    constructor(parts: ConstructorParameters<typeof Blob>[0] & unknown[], options?: ConstructorParameters<typeof Blob>[1]) {
      super(parts, options);
      this.kitText = parts.map(String).join('');
      if (this.kitText.startsWith('var WasmBackendModuleThreadedSimd')) {
        mainPath = path.join(dir, 'main.js');
        const prelude =
          "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks')," +
          "require$$4=require('os'),commonjsGlobal=globalThis;\n";
        fs.writeFileSync(mainPath, prelude + this.kitText);
      }
    }
  }
  globalThis.Blob = TextBlob as typeof Blob;
  URL.createObjectURL = (blob: Blob) => {
    if (!(blob instanceof TextBlob)) return realCreate(blob);
    const file = path.join(dir, `worker${count++}.js`);
    const prelude = mainPath ? `URL.createObjectURL=()=>${JSON.stringify(mainPath)};URL.revokeObjectURL=()=>{};\n` : '';
    fs.writeFileSync(file, prelude + blob.kitText + (mainPath ? LAZY_PTHREAD_WORKER : ''));
    return file;
  };
  // The pool's workers need no loader flags of this process (e.g. tsx's --import, ≈ 0.3 s of CPU per worker).
  const threadsModule = require('worker_threads') as { Worker: typeof WorkerThread };
  const RealWorker = threadsModule.Worker;
  threadsModule.Worker = class extends RealWorker {
    constructor(file: string | URL, options: WorkerOptions = {}) {
      super(file, { ...options, execArgv: [] });
    }
  };
  const osModule = require('os') as typeof os;
  const realCpus = osModule.cpus;
  osModule.cpus = () => {
    const cpus = realCpus();
    return [...cpus, ...cpus];
  };
  restore = () => {
    globalThis.Blob = RealBlob;
    URL.createObjectURL = realCreate;
    osModule.cpus = realCpus;
    threadsModule.Worker = RealWorker;
    restore = null;
    // The 8 pool workers have read their scripts by the time the backend is ready.
    fs.rmSync(dir, { recursive: true, force: true });
  };
}

let restore: (() => void) | null = null;

/**
 * Appended to the emscripten pthread worker script: the threaded build starts a pool of 8 workers, and each compiles
 * and instantiates the whole backend module (≈ 1.4 s of CPU and 150 MB per process here) — for nothing, as XNNPACK
 * runs one thread and never starts a pthread. A lazy worker answers the 'load' message at once and loads for real
 * only if a pthread is ever run on it (KIT_XNNPACK_THREADS > 1), holding that message until the module is up.
 */
const LAZY_PTHREAD_WORKER = `
;(function () {
  var original = self.onmessage, deferred = null, ready = false, queue = [];
  self.startWorker = function (instance) {
    Module = instance; ready = true;
    var q = queue; queue = []; q.forEach(function (e) { original(e); });
  };
  self.onmessage = function (e) {
    if (e.data.cmd === 'load' && deferred === null) { deferred = e; postMessage({ cmd: 'loaded' }); return; }
    if (!ready) {
      queue.push(e);
      if (deferred) { var d = deferred; deferred = false; original(d); }
      return;
    }
    original(e);
  };
})();
`;

/**
 * Threads XNNPACK's own pool runs with in the threaded build: 1 (the kit's kernels use the kit's pool instead);
 * KIT_XNNPACK_THREADS overrides it for experiments.
 */
export function xnnpackThreads(): number {
  const n = Number(process.env.KIT_XNNPACK_THREADS ?? 1);
  return Number.isInteger(n) && n >= 1 ? n : 1;
}

/** Undoes `prepareWasmThreads`' temporary patches once the backend is up (or failed). */
export function finishWasmThreads(): void {
  if (restore == null) return;
  restore();
  // The emscripten pool's idle worker threads must not keep Node (scripts, tests) alive once the main work is done.
  const backend = tf.findBackend('wasm') as unknown as {
    wasm?: { PThread?: { runningWorkers: { unref(): void }[]; unusedWorkers: { unref(): void }[] } };
  } | null;
  const pthread = backend?.wasm?.PThread;
  for (const worker of [...(pthread?.runningWorkers ?? []), ...(pthread?.unusedWorkers ?? [])]) worker.unref();
}

/** Threads requested through KIT_WASM_THREADS (undefined when unset). */
export function threadsFromEnv(): number | undefined {
  const raw = process.env.KIT_WASM_THREADS;
  if (raw == null || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`KIT_WASM_THREADS must be a positive integer, got "${raw}"`);
  return n;
}
