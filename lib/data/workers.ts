/**
 * A small pool of worker threads that load, transform and pack whole batches of ImageDataset / ArrayDataset
 * samples off the main thread, so decoding and the JS augmentations (rotate, colour jitter, noise, resize) do not
 * compete with training (wasm/cpu) for it. Workers rebuild the transform from its `spec` and use each sample's
 * seed: results are bit-identical to the main-thread path. Idle workers are unref'd (they never keep the process
 * alive); `closeWorkers()` ends them.
 */
import * as path from 'path';
import { Worker } from 'worker_threads';
import type { TransformSpec } from './transforms';

/**
 * A whole batch for one worker: it reads, decodes (or takes from its own decode cache), transforms and packs
 * the samples into ONE float32 buffer, so the main thread only posts file names and receives one array.
 */
export interface BatchTask {
  kind: 'batch';
  id: number;
  /** The dataset's id: each dataset has its own decode cache in the worker (as it had on the main thread). */
  dataset: number;
  /** Files to read and decode, or… */
  files?: string[];
  /** …the batch's images already in memory (ArrayDataset), packed n × height × width × channels (transferred). */
  pixels?: { data: Float32Array; height: number; width: number; channels: number };
  seeds: string[];
  channels: 1 | 3;
  spec: TransformSpec;
  /** Budget of the worker's decode cache for this dataset (0 = neither read nor fill it). */
  cacheBytes: number;
}

/** A sample of a batch that failed: its position in the task, the stage and the message. */
export interface BatchFailure {
  k: number;
  stage: 'decode' | 'transform';
  message: string;
}

/** The packed samples (positions `kept`, in order, all of `shape`), failures, and a sample whose shape differs. */
export interface BatchReply {
  kind: 'batch';
  id: number;
  data: Float32Array;
  shape: [number, number, number] | null;
  kept: number[];
  failures: BatchFailure[];
  mismatch?: { k: number; shape: [number, number, number] };
}

/** Steps that draw from the rng (the augmentations): a chain without any stays on the main thread, where it is cheaper than a message round trip. */
const RANDOM_STEPS = new Set(['horizontalFlip', 'verticalFlip', 'rotate', 'randomResizedCrop', 'colorJitter', 'gaussNoise', 'blur']);

/** Whether a transform spec contains an augmentation worth moving to a worker thread. */
export function worthOffloading(spec: TransformSpec): boolean {
  const random = (t: TransformSpec): boolean => (t.name === 'compose' ? (t.args[0] as TransformSpec[]).some(random) : RANDOM_STEPS.has(t.name));
  if (!random(spec)) return false;
  try {
    structuredClone(spec); // arguments a worker cannot receive keep the chain on the main thread
    return true;
  } catch {
    return false;
  }
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

interface Pending {
  resolve: (r: BatchReply) => void;
  reject: (err: Error) => void;
  slot: Slot;
}

let slots: Slot[] = [];
const pending = new Map<number, Pending>();
let nextId = 0;

/** The worker script next to this module: compiled JS, or TypeScript run through tsx (tests, scripts). */
function spawn(): Worker {
  const ts = __filename.endsWith('.ts');
  const file = path.join(__dirname, `transform-worker.${ts ? 'ts' : 'js'}`);
  // under tsx (tests, scripts) the worker registers tsx's require hook itself: `execArgv: ['--import', 'tsx']`
  // does not reach worker threads on Node 20 ("Unknown file extension .ts")
  const worker = ts ? new Worker(`require('tsx/cjs'); require(${JSON.stringify(file)});`, { eval: true }) : new Worker(file);
  const slot: Slot = { worker, inFlight: 0 };
  worker.on('message', (reply: BatchReply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    if (--slot.inFlight === 0) worker.unref();
    p.resolve(reply);
  });
  const fail = (err: Error): void => {
    slots = slots.filter((s) => s !== slot);
    for (const [id, p] of pending)
      if (p.slot === slot) {
        pending.delete(id);
        p.reject(new Error(`ImageDataset worker failed: ${err.message}`));
      }
  };
  worker.on('error', fail);
  worker.on('exit', (code) => fail(new Error(`exited with code ${code}`)));
  worker.unref();
  slots.push(slot);
  return worker;
}

/**
 * Runs one batch task in worker `index` of a pool of `size` (a dataset sends each sample to the same worker
 * every epoch, so that worker's decode cache holds it).
 */
export function runBatchInWorker(task: Omit<BatchTask, 'id' | 'kind'>, index: number, size: number): Promise<BatchReply> {
  while (slots.length < size) spawn();
  const slot = slots[index % size];
  const id = nextId++;
  return new Promise<BatchReply>((resolve, reject) => {
    pending.set(id, { resolve, reject, slot });
    if (slot.inFlight++ === 0) slot.worker.ref();
    try {
      slot.worker.postMessage({ ...task, kind: 'batch', id } satisfies BatchTask, task.pixels ? [task.pixels.data.buffer] : []);
    } catch (err) {
      pending.delete(id);
      if (--slot.inFlight === 0) slot.worker.unref();
      reject(new Error(`ImageDataset: cannot send a batch to a worker thread: ${(err as Error).message}`));
    }
  });
}

/** Frees a dataset's decode caches in the workers (sent when the dataset is garbage-collected). */
export function dropWorkerCache(dataset: number): void {
  for (const slot of slots) slot.worker.postMessage({ kind: 'drop', dataset });
}

/** Number of worker threads currently running. */
export function workerCount(): number {
  return slots.length;
}

/** Terminate the worker threads (they restart on the next offloaded batch). Never needed for the process to exit. */
export async function closeWorkers(): Promise<void> {
  const all = slots;
  slots = [];
  await Promise.all(all.map((s) => s.worker.terminate()));
}

// ---------------------------------------------------------------------------------------------
// Packing a batch across the workers (used by ImageDataset and ArrayDataset; the DataLoader asks for it).

export interface PackedBatch {
  xs: Float32Array;
  ys?: Int32Array;
  n: number;
  shape: [number, number, number];
}

/** A dataset that can load whole batches itself (ImageDataset with worker threads). */
export interface BatchSource {
  readonly batchesInWorkers: boolean;
  loadBatch(idx: number[], seeds: string[]): Promise<PackedBatch>;
}

/** The error for a batch whose samples differ in shape. */
export function shapeMismatch(index: number, shape: number[], firstIndex: number, firstShape: number[]): Error {
  return new Error(
    `DataLoader: sample ${index} has shape [${shape}] but sample ${firstIndex} has [${firstShape}]; ` + 'add resize(h, w) (or randomResizedCrop) to the transform so all images share one size',
  );
}

/**
 * One batch through the worker threads: the samples at positions `ks` of `idx` that `worker(idx[k], k)` assigns
 * to each worker go as one task; failed decodes go to `onDecodeFailure` (which throws or skips), transform
 * errors and samples of different shapes throw, and the replies are merged back into batch order.
 */
export async function packInWorkers(
  idx: number[],
  workers: number,
  worker: (index: number, k: number) => number,
  task: (ks: number[]) => Omit<BatchTask, 'id' | 'kind'>,
  onDecodeFailure: (k: number, message: string) => void,
  labels: Int32Array | undefined,
): Promise<PackedBatch> {
  const parts = Array.from({ length: workers }, () => [] as number[]);
  idx.forEach((i, k) => parts[worker(i, k)].push(k));
  const replies = await Promise.all(parts.map((ks, w) => (ks.length === 0 ? null : runBatchInWorker(task(ks), w, workers))));
  // Back to batch order: [position in the batch, worker reply, position in that reply].
  const kept: [number, number, number][] = [];
  replies.forEach((r, w) => {
    if (!r) return;
    for (const f of r.failures) {
      if (f.stage === 'transform') throw new Error(f.message);
      onDecodeFailure(parts[w][f.k], f.message);
    }
    if (r.mismatch) throw shapeMismatch(idx[parts[w][r.mismatch.k]], r.mismatch.shape, idx[parts[w][r.kept[0]]], r.shape!);
    r.kept.forEach((k, j) => kept.push([parts[w][k], w, j]));
  });
  kept.sort((a, b) => a[0] - b[0]);
  if (kept.length === 0) return { xs: new Float32Array(0), n: 0, shape: [0, 0, 0] };
  const shape = replies[kept[0][1]]!.shape!;
  for (const [k, w] of kept) {
    const s = replies[w]!.shape!;
    if (s[0] !== shape[0] || s[1] !== shape[1] || s[2] !== shape[2]) throw shapeMismatch(idx[k], s, idx[kept[0][0]], shape);
  }
  const per = shape[0] * shape[1] * shape[2];
  let xs: Float32Array;
  if (replies.filter(Boolean).length === 1) {
    xs = replies[kept[0][1]]!.data; // one worker: already in order
  } else {
    xs = new Float32Array(kept.length * per);
    kept.forEach(([, w, j], q) => xs.set(replies[w]!.data.subarray(j * per, (j + 1) * per), q * per));
  }
  const ys = labels ? Int32Array.from(kept, ([k]) => labels[idx[k]]) : undefined;
  return { xs, ys, n: kept.length, shape };
}
