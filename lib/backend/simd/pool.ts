import { Worker } from 'worker_threads';

/**
 * The kit's own thread pool for its SIMD kernels: worker threads that instantiate the kernels' shared-memory build on
 * the wasm backend's (shared) heap and take chunks of a kernel's work units, together with the calling thread.
 *
 * Work is handed out dynamically: each thread claims the next chunk with one compare-and-swap on a word that also
 * carries the job's number, so a thread that is slow to wake or was descheduled (one core held by another job) only
 * delays the chunk it holds — the others take the rest. The caller returns when every chunk is done. A chunk is a
 * range of whole units and every output element belongs to exactly one unit, so which thread computes what does not
 * change a single bit of the result.
 */

/** The kernels the pool can split, by their export names; a job names one by its index here. */
export const SPLIT_KERNELS = [
  'conv2dRows',
  'conv2dTransposeRows',
  'conv2dFilterGradImages',
  'conv2dFilterGradStrided',
  'sumImages',
  'maxPoolGrad2x2Rows',
  'depthwiseFilterGradChannels',
  'depthwiseConvRows',
  'depthwiseInputGradRows',
  'sigmoidGrad',
  'reluGrad',
  'addBiasRows',
  'squareGrad',
  'batchNormGrad',
  'batchNormRows',
  'channelSum',
  'batchNormFinishDx',
  'swishGrad',
  'adamUpdate',
  'channelScaleRows',
  'sgdUpdate',
] as const;
/** One of SPLIT_KERNELS. */
export type SplitKernel = (typeof SPLIT_KERNELS)[number];
/** A split kernel: units [lo, hi), then its arguments. */
export type RangeKernel = (lo: number, hi: number, ...args: number[]) => void;

// Control block (a SharedArrayBuffer): Int32 words, the claim word (BigInt64: job << 32 | next chunk), the arguments.
const GEN = 0; // number of the current job (what workers wait on)
const DONE = 1; // chunks finished in the current job
const KERNEL = 2;
const UNITS = 3;
const PER = 4; // units per chunk
const CHUNKS = 5;
const FAILED = 6; // a chunk threw (the error is rethrown by the caller)
const STOP = 7;
const CLAIM_BYTE = 64;
const ARGS_BYTE = 128;
/** Most arguments a split kernel takes after (lo, hi). */
export const MAX_ARGS = 20;

// Shared by the workers and the calling thread (which runs it with its own instance's exports).
const CLAIM_LOOP = `
function claimChunks(ctl, claim, args, fns, gen) {
  const tag = BigInt(gen);
  let done = 0;
  for (;;) {
    const v = Atomics.load(claim, 0);
    if ((v >> 32n) !== tag) return done;
    const idx = Number(v & 0xffffffffn);
    if (idx >= Atomics.load(ctl, ${CHUNKS})) return done;
    if (Atomics.compareExchange(claim, 0, v, v + 1n) !== v) continue;
    const per = ctl[${PER}];
    const lo = idx * per;
    const hi = Math.min(ctl[${UNITS}], lo + per);
    const a = args;
    try {
      fns[ctl[${KERNEL}]](lo, hi, ${Array.from({ length: MAX_ARGS }, (_, i) => `a[${i}]`).join(', ')});
    } catch (err) {
      Atomics.store(ctl, ${FAILED}, 1);
    }
    done++;
    if (Atomics.add(ctl, ${DONE}, 1) + 1 === Atomics.load(ctl, ${CHUNKS})) Atomics.notify(ctl, ${DONE});
  }
}`;

const WORKER_SOURCE = `
const { workerData } = require('worker_threads');
const { module, memory, control, names } = workerData;
const exports_ = new WebAssembly.Instance(module, { env: { memory } }).exports;
const fns = names.map((n) => exports_[n]);
const ctl = new Int32Array(control, 0, 16);
const claim = new BigInt64Array(control, ${CLAIM_BYTE}, 1);
const args = new Float64Array(control, ${ARGS_BYTE}, ${MAX_ARGS});
${CLAIM_LOOP}
let seen = Atomics.load(ctl, ${GEN});
for (;;) {
  Atomics.wait(ctl, ${GEN}, seen);
  if (Atomics.load(ctl, ${STOP}) !== 0) break;
  seen = Atomics.load(ctl, ${GEN});
  claimChunks(ctl, claim, args, fns, seen);
}
`;

// eslint-disable-next-line @typescript-eslint/no-implied-eval
const claimChunks = new Function(`${CLAIM_LOOP}; return claimChunks;`)() as (
  ctl: Int32Array, claim: BigInt64Array, args: Float64Array, fns: RangeKernel[], gen: number,
) => number;

/**
 * Jobs over which the pool judges whether its workers pay for themselves, and jobs it then runs on the caller alone
 * when they did not (a core held by another job, an overloaded machine): the pool never stays slower than one thread.
 * A losing window benches the workers for BENCH_MIN_JOBS jobs, twice as long after each further losing window, up to
 * BENCH_JOBS; a window that paid resets it. The first window after the workers start is not judged: their first
 * chunks wait for the threads to come up (a window of 32 jobs lost 0.3 ms that way, and one flat bench of 1,024
 * jobs ran the next ≈ 70 training steps of the reference CNN on one thread; docs/backend.md, "Threads").
 */
export const JUDGE_JOBS = 32;
export const BENCH_MIN_JOBS = 64;
export const BENCH_JOBS = 1024;

/**
 * What the workers saved the caller in one job, in ms: the `chunks − mine` chunks they computed, at the caller's own
 * pace (`ownMs` for its `mine` chunks), minus the `waitMs` it then waited for theirs to finish. A job the workers did
 * entirely (the caller got none) counts as no gain and no loss.
 */
export function jobGain(chunks: number, mine: number, ownMs: number, waitMs: number): number {
  return mine > 0 ? ((chunks - mine) * ownMs) / mine - waitMs : 0;
}

/** A pool of `workers` threads running the SIMD kernels' module on `memory` (a shared WebAssembly.Memory). */
export class KernelPool {
  private readonly ctl: Int32Array;
  private readonly claim: BigInt64Array;
  private readonly args: Float64Array;
  private readonly fns: RangeKernel[];
  private readonly threads: Worker[] = [];
  private gen = 0;
  /** Jobs run so far (on the pool). */
  jobs = 0;
  /** Jobs run on the caller alone because the workers did not pay recently. */
  benched = 0;
  private window = { jobs: 0, gainMs: 0 };
  private benchLeft = 0;
  private benchNext = BENCH_MIN_JOBS;
  private warm = false;

  /** `own`: the calling thread's own instance's exports (it computes chunks too). */
  constructor(module: object, memory: object, own: Record<string, unknown>, readonly workers: number) {
    const control = new SharedArrayBuffer(ARGS_BYTE + 8 * MAX_ARGS);
    this.ctl = new Int32Array(control, 0, 16);
    this.claim = new BigInt64Array(control, CLAIM_BYTE, 1);
    this.args = new Float64Array(control, ARGS_BYTE, MAX_ARGS);
    this.fns = SPLIT_KERNELS.map((name) => own[name] as RangeKernel);
    for (let i = 0; i < workers; i++) {
      // No execArgv: the workers need no TypeScript loader (tsx) and start faster without it.
      const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { module, memory, control, names: SPLIT_KERNELS } });
      worker.unref(); // idle workers must not keep Node alive
      this.threads.push(worker);
    }
  }

  /**
   * Whether the next job should use the workers: false for a while (see BENCH_MIN_JOBS) after a window of JUDGE_JOBS
   * jobs in which the time the caller waited for workers' chunks exceeded the time their chunks saved it.
   */
  useful(judging = true): boolean {
    if (!judging) return true;
    if (this.benchLeft > 0) {
      this.benchLeft--;
      this.benched++;
      return false;
    }
    return true;
  }

  /** Threads that compute a job: the workers and the caller. */
  get size(): number {
    return this.workers + 1;
  }

  /**
   * Runs `kernel` over `units` work units in chunks of `per` on every thread of the pool (the caller included) and
   * returns when all are done; throws if a chunk failed.
   */
  run(kernel: SplitKernel, units: number, per: number, args: readonly number[]): void {
    if (args.length > MAX_ARGS) throw new Error(`KernelPool: ${kernel} takes ${args.length} arguments, at most ${MAX_ARGS} fit`);
    const chunks = Math.ceil(units / per);
    const { ctl, claim } = this;
    this.jobs++;
    ctl[KERNEL] = SPLIT_KERNELS.indexOf(kernel);
    ctl[UNITS] = units;
    ctl[PER] = per;
    this.args.fill(0);
    this.args.set(args);
    Atomics.store(ctl, CHUNKS, chunks);
    Atomics.store(ctl, FAILED, 0);
    Atomics.store(ctl, DONE, 0);
    this.gen = this.gen >= 0x7fffffff ? 1 : this.gen + 1;
    Atomics.store(claim, 0, BigInt(this.gen) << 32n);
    Atomics.store(ctl, GEN, this.gen);
    Atomics.notify(ctl, GEN);
    const t0 = performance.now();
    const mine = claimChunks(ctl, claim, this.args, this.fns, this.gen);
    const t1 = performance.now();
    for (let d = Atomics.load(ctl, DONE); d < chunks; d = Atomics.load(ctl, DONE)) Atomics.wait(ctl, DONE, d);
    this.book(chunks, mine, t1 - t0, performance.now() - t1);
    if (Atomics.load(ctl, FAILED) !== 0) throw new Error(`KernelPool: ${kernel} failed in a worker thread (a wasm trap: an offset outside the heap?)`);
  }

  /**
   * Books one job's gain (see jobGain); after JUDGE_JOBS jobs, a net loss benches the workers (BENCH_MIN_JOBS,
   * doubling per consecutive loss up to BENCH_JOBS) — except in the first window, the workers' warm-up.
   */
  book(chunks: number, mine: number, ownMs: number, waitMs: number): void {
    this.window.gainMs += jobGain(chunks, mine, ownMs, waitMs);
    if (++this.window.jobs < JUDGE_JOBS) return;
    if (!this.warm) this.warm = true;
    else if (this.window.gainMs >= 0) this.benchNext = BENCH_MIN_JOBS;
    else {
      this.benchLeft = this.benchNext;
      this.benchNext = Math.min(2 * this.benchNext, BENCH_JOBS);
    }
    this.window = { jobs: 0, gainMs: 0 };
  }

  /** Stops the workers (tests; a pool is otherwise kept for the life of the backend). */
  async close(): Promise<void> {
    Atomics.store(this.ctl, STOP, 1);
    Atomics.add(this.ctl, GEN, 1);
    Atomics.notify(this.ctl, GEN);
    await Promise.all(this.threads.map((w) => w.terminate()));
    this.threads.length = 0;
  }
}
