/**
 * `npm run bench`: training and inference throughput of the reference CNN (conv16-pool-conv32-pool-conv64-
 * GAP-dense, SGD, batch 32) at 32/64/128 px on every backend that loads here, the kit's source models, the
 * data pipeline (scripts/bench/data.ts) and PyTorch CPU side by side (Debian's /usr/bin/python3 + torch), then the
 * targets of issue #16 against this run's PyTorch rows. Every row gives its thread count, the load average right
 * after it, and `default: true` when it is what a user gets without setting anything.
 *
 * wasm is measured in this process with the default thread count, and with 1 and 2 threads in child processes
 * (the thread count is fixed when the wasm backend starts) unless --threads or --no-threads says otherwise.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { spawn, spawnSync, type ChildProcess } from 'child_process';
import { availableBackends, BACKEND_NAMES, type BackendName } from '../lib/backend';
import { useBackend } from '../lib/testing';
import { defaultWasmThreads } from '../lib/backend/cores';
import { simdPoolStats } from '../lib/backend/simd';
import { repoRoot } from '../lib/config';
import { runCommand, UsageError, type CommandSpec, type ParsedFlags } from './lib/cli';
import { benchModel, buildReferenceCnn, type BenchBudget } from './bench/reference';
import { compareKernels } from './bench/kernels';
import { profileStep } from './bench/profile';
import { busyLines, formatTable, ratioLines, targetLines } from './bench/report';
import { benchTorch } from './bench/torch';
import type { BenchRow } from './bench/types';

export { formatTable, ratioLines } from './bench/report';

/** The command line of `npm run bench`. */
export const BENCH_SPEC = {
  name: 'npm run bench --',
  summary: 'Training and inference images/s of the reference CNN and the source models on every backend, PyTorch CPU side by side.',
  flags: {
    quick: { kind: 'boolean', help: '32 px only, fewer images, no data rows (also KIT_QUICK=1)' },
    json: { kind: 'boolean', help: 'one JSON object per row on stdout (messages go to stderr)' },
    sizes: { kind: 'ints', min: 8, arg: 'PX,…', help: 'image sizes of the reference CNN (default 32,64,128; 32 with --quick)' },
    backends: { kind: 'strings', arg: 'NAME,…', help: `backends to measure (${BACKEND_NAMES.join(', ')}; default: every one that loads)` },
    threads: { kind: 'int', min: 1, arg: 'N', help: 'measure wasm with N threads only' },
    'no-threads': { kind: 'boolean', help: 'measure wasm with 1 thread only' },
    busy: { kind: 'boolean', help: 'hold one core with a busy loop for the whole run (the busy-neighbour case)' },
    'no-torch': { kind: 'boolean', help: 'skip the PyTorch reference' },
    'no-source': { kind: 'boolean', help: "skip the kit's source models" },
    'no-data': { kind: 'boolean', help: 'skip the data-pipeline rows' },
    kernels: { kind: 'boolean', help: "compare the kit's replacement wasm kernels with the originals, then stop" },
    profile: { kind: 'boolean', help: 'where a training step goes, per kernel (first --sizes entry), then stop' },
    model: { kind: 'string', arg: 'NAME', help: 'with --profile: a shipped source model instead of the reference CNN' },
  },
  epilog: [
    'examples:',
    '  npm run bench -- --quick                 32 px, wasm (+ cpu for one step), no data rows',
    '  npm run bench -- --json                  everything, one JSON object per row',
    '  npm run bench -- --sizes 32,64 --backends wasm --no-torch --no-source --no-data',
    '  npm run bench -- --busy --sizes 32 --no-torch --no-data   1 vs 2 threads with one core busy',
    '  npm run bench -- --profile --model effnet-digits-m-0-4',
  ].join('\n'),
} satisfies CommandSpec;

type Flags = ParsedFlags<typeof BENCH_SPEC>;

/** What one run measures, from the command line. */
export interface BenchOptions {
  json: boolean;
  quick: boolean;
  sizes: number[];
  backends: BackendName[] | null;
  torch: boolean;
  source: boolean;
  data: boolean;
  busy: boolean;
  /** wasm threads measured in this process. */
  threads: number;
  /** More wasm thread counts, each measured in a child process. */
  childThreads: number[];
}

/** Turns parsed flags into options; a backend name it does not know is a UsageError. */
export function benchOptions(flags: Flags, env: NodeJS.ProcessEnv = process.env, cores = os.cpus().length): BenchOptions {
  const quick = flags.quick || env.KIT_QUICK === '1';
  for (const b of flags.backends ?? []) {
    if (!BACKEND_NAMES.includes(b as BackendName)) throw new UsageError(`--backends: unknown backend '${b}', expected ${BACKEND_NAMES.join(', ')}`);
  }
  if (flags.threads != null && flags['no-threads']) throw new UsageError('--threads and --no-threads contradict each other');
  if (flags.model != null && !flags.profile) throw new UsageError('--model only applies with --profile');
  const dflt = defaultWasmThreads();
  const threads = flags.threads ?? (flags['no-threads'] ? 1 : dflt);
  const others = flags.threads != null || flags['no-threads'] || cores < 2 ? [] : [1, 2].filter((t) => t !== threads);
  return {
    json: flags.json,
    quick,
    sizes: flags.sizes ?? (quick ? [32] : [32, 64, 128]),
    backends: (flags.backends as BackendName[] | undefined) ?? null,
    torch: !flags['no-torch'],
    source: !flags['no-source'],
    data: !flags['no-data'] && !quick,
    busy: flags.busy,
    threads,
    childThreads: others,
  };
}

/** Budget per backend and size: the plain-JS cpu backend gets one or two steps only. */
function budgetFor(backend: BackendName, size: number, quick: boolean): BenchBudget {
  if (backend === 'cpu') return { images: 32, warmup: quick ? 0 : 1, repeats: 1 };
  const images = size >= 128 ? 64 : size >= 64 ? 128 : 256;
  return quick ? { images: Math.min(images, 128), warmup: 1, repeats: 2 } : { images, warmup: 1, repeats: 5, minMs: 1000 };
}

async function sourceModelRows(backend: BackendName, quick: boolean, log: (s: string) => void): Promise<BenchRow[]> {
  const models = await import('../lib/models');
  // Every shipped source model in full mode; the default one in quick mode.
  const names: (string | undefined)[] = quick ? [undefined] : models.listSourceModels();
  const rows: BenchRow[] = [];
  for (const wanted of names.length ? names : [undefined]) {
    try {
      const { name, model } = await models.loadSourceModel(wanted);
      const size = (model.inputs[0].shape as number[])[1];
      rows.push(await benchModel(model, { backend, name, batchSize: 32, budget: budgetFor(backend, size, quick) }));
      model.dispose();
    } catch (err) {
      log(`skipped: source model ${wanted ?? '(default)'} (${(err as Error).message.split('\n')[0]})`);
    }
  }
  return rows;
}

async function dataRows(log: (s: string) => void): Promise<BenchRow[]> {
  const file = path.join(__dirname, 'bench', 'data.ts');
  if (!fs.existsSync(file)) return [];
  try {
    const mod = (await import(file)) as { benchData?: () => Promise<BenchRow[]> };
    return typeof mod.benchData === 'function' ? await mod.benchData() : [];
  } catch (err) {
    log(`skipped: data-pipeline rows (${(err as Error).message.split('\n')[0]})`);
    return [];
  }
}

/** wasm rows with `threads` threads, measured in a child process (threads are fixed when wasm starts). */
function childRows(opts: BenchOptions, threads: number, log: (s: string) => void): BenchRow[] {
  const args = ['--import', 'tsx', __filename, '--threads', String(threads), '--backends', 'wasm', '--sizes', opts.sizes.join(','), '--no-torch', '--no-data', '--json'];
  if (!opts.source) args.push('--no-source');
  if (opts.quick) args.push('--quick');
  if (opts.busy) args.push('--busy');
  const res = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24, env: { ...process.env, KIT_BENCH_BUSY_HELD: opts.busy ? '1' : '' } });
  if (res.status !== 0) {
    log(`skipped: wasm with ${threads} threads (${(res.stderr || res.error?.message || '').trim().split('\n').pop()})`);
    return [];
  }
  return res.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as BenchRow);
}

/** Starts a busy loop on one core (the busy-neighbour case); returns it so it can be stopped by its pid. */
function startBusyLoop(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' });
  child.unref();
  return child;
}

async function profileMain(flags: Flags, opts: BenchOptions, log: (s: string) => void): Promise<void> {
  const info = await useBackend(opts.backends?.[0] ?? 'wasm', opts.threads);
  const source = flags.model ? (await import('../lib/models')).loadSourceModel(flags.model) : null;
  const model = source ? (await source).model : undefined;
  const p = await profileStep(opts.sizes[0], model ? 5 : 20, model ? 2 : 10, model);
  model?.dispose();
  const pool = simdPoolStats();
  const pooled = info.threads > 1 ? `; pool jobs ${pool.jobs}, run on the caller alone (pool benched) ${pool.benched}` : '';
  log(`${info.backend}, ${info.threads} thread(s), ${flags.model ?? `reference CNN, ${opts.sizes[0]} px`}, batch 32: ${p.msPerStep.toFixed(2)} ms per step (${((32 / p.msPerStep) * 1000).toFixed(0)} images/s); kernels ${p.kernelMsPerStep.toFixed(2)} ms; ${p.callsPerStep} kernel calls${pooled}; load ${os.loadavg()[0].toFixed(1)}`);
  for (const k of p.kernels.filter((k) => k.ms >= 0.05)) log(`${k.ms.toFixed(2).padStart(7)} ms  ${k.name} ${k.shapes}`);
}

async function main(flags: Flags): Promise<void> {
  const opts = benchOptions(flags);
  const log = (s: string) => (opts.json ? console.error(s) : console.log(s));
  const busy = opts.busy && process.env.KIT_BENCH_BUSY_HELD !== '1' ? startBusyLoop() : null;
  try {
    log(`bench on ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, tfjs ${tf.version_core}, load ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}${opts.quick ? ' (quick)' : ''}${opts.busy ? ', one core held by a busy loop' : ''}`);
    if (flags.kernels) {
      for (const c of await compareKernels()) log(`${c.kernel} (${c.shapes}): kit ${c.kitMs.toFixed(2)} ms, wasm's own ${c.wasmMs.toFixed(2)} ms CPU time (${(c.wasmMs / c.kitMs).toFixed(1)}×)`);
      return;
    }
    if (flags.profile) return await profileMain(flags, opts, log);
    await measure(opts, log);
  } finally {
    if (busy?.pid != null) process.kill(busy.pid);
  }
}

async function measure(opts: BenchOptions, log: (s: string) => void): Promise<void> {
  // Threads are fixed when wasm initialises, which availableBackends() would do with the default.
  if (opts.backends == null || opts.backends.includes('wasm')) await useBackend('wasm', opts.threads).catch(() => undefined);
  const available = await availableBackends();
  const backends = (opts.backends ?? available).filter((b) => available.includes(b) || (log(`skipped: backend ${b} (cannot load here)`), false));
  const defaultBackend: BackendName = available.includes('tensorflow') ? 'tensorflow' : 'wasm';
  const rows: BenchRow[] = [];
  const emit = (row: BenchRow) => {
    rows.push(row);
    if (opts.json) console.log(JSON.stringify(row));
    else log(`  ${row.backend} ${row.model} ${row.imageSize} px, ${row.threads ?? '?'} thread(s)${row.default ? ' (default)' : ''}: train ${row.trainImagesPerSec}, infer ${row.inferImagesPerSec} img/s`);
  };
  const stamp = (row: BenchRow, backend: BackendName, threads: number): BenchRow => ({
    ...row,
    threads,
    default: backend === defaultBackend && (backend !== 'wasm' || threads === defaultWasmThreads()),
    ...(opts.busy ? { busy: true, note: [row.note, 'one core busy'].filter(Boolean).join('; ') } : {}),
    loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  });
  for (const backend of backends) {
    const info = await useBackend(backend, backend === 'wasm' ? opts.threads : undefined);
    const threads = backend === 'cpu' ? 1 : info.threads;
    for (const size of opts.sizes) {
      if (backend === 'cpu' && size > 32 && opts.backends == null) {
        log(`skipped: cpu at ${size} px (≈ 50× slower than wasm; run with --backends cpu --sizes ${size} to force)`);
        continue;
      }
      const budget = budgetFor(backend, size, opts.quick);
      const model = buildReferenceCnn(size);
      const note = backend === 'cpu' ? `${budget.images} images, ${budget.repeats} timed epoch` : undefined;
      emit(stamp(await benchModel(model, { backend, name: 'reference-cnn', batchSize: 32, budget, note }), backend, threads));
      model.dispose();
    }
    if (opts.source && backend !== 'cpu') for (const row of await sourceModelRows(backend, opts.quick, log)) emit(stamp(row, backend, threads));
    if (backend === 'wasm') for (const t of opts.childThreads) for (const row of childRows(opts, t, log)) emit(row);
  }
  if (opts.data) for (const row of await dataRows(log)) emit({ ...row, loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) });
  if (opts.torch) {
    const torch = benchTorch(repoRoot(), opts.sizes);
    if (torch.skipped) log(`skipped: PyTorch reference (${torch.skipped})`);
    for (const row of torch.rows) emit({ ...row, ...(opts.busy ? { busy: true } : {}), loadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100) });
  }
  if (!opts.json) log('\n' + formatTable(rows) + '\n');
  for (const l of [...ratioLines(rows), ...busyLines(rows), ...targetLines(rows)]) log(l);
  log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
}

if (require.main === module) void runCommand(BENCH_SPEC, process.argv.slice(2), (flags) => main(flags));
