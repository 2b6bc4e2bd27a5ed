/**
 * `npm run bench`: training and inference throughput of the reference CNN (conv16-pool-conv32-pool-conv64-
 * GAP-dense, SGD, batch 32) at 32/64/128 px on every backend that loads here, the kit's source model, the
 * data pipeline (scripts/bench/data.ts) and PyTorch CPU side by side (Debian's /usr/bin/python3 + torch).
 *
 *   npm run bench                      everything (cpu only at 32 px: it is ~50× slower)
 *   npm run bench -- --quick           32 px, wasm (+ cpu for one step), no data rows
 *   npm run bench -- --json            one JSON object per row
 *   npm run bench -- --sizes=32,64 --backends=wasm,cpu --no-torch --no-source --no-data
 *   npm run bench -- --kernels         the kit's replacement wasm kernels against the originals only
 *   npm run bench -- --profile         where a training step of the reference CNN goes, per kernel (32 px)
 *   npm run bench -- --profile --model=effnet-digits-m-0-4   the same for a shipped source model
 *   npm run bench -- --threads=2       wasm with 2 threads only (experimental under Node, see docs/backend.md)
 *   npm run bench -- --no-threads      wasm with 1 thread only
 *
 * By default wasm is measured with 1 thread and, on a machine with 2+ cores, again with 2 threads in a child
 * process (the thread count is fixed when the wasm backend starts); the ratio lines use the faster wasm row,
 * as the PyTorch reference takes the faster of 1 and 2 threads.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { spawnSync } from 'child_process';
import { availableBackends, useBackend, type BackendName } from '../lib/backend';
import { repoRoot } from '../lib/config';
import { benchModel, buildReferenceCnn, type BenchBudget } from './bench/reference';
import { compareKernels } from './bench/kernels';
import { profileStep } from './bench/profile';
import { benchTorch } from './bench/torch';
import type { BenchRow } from './bench/types';

interface Options {
  json: boolean;
  quick: boolean;
  sizes: number[];
  backends: BackendName[] | null;
  torch: boolean;
  source: boolean;
  data: boolean;
  threads: number | undefined;
  /** also measure wasm with 2 threads in a child process (default on 2+ cores unless --threads/--no-threads) */
  threadRows: boolean;
}

function parseArgs(argv: string[]): Options {
  const quick = argv.includes('--quick') || process.env.KIT_QUICK === '1';
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1];
  const sizes = (value('sizes') ?? (quick ? '32' : '32,64,128')).split(',').map(Number);
  if (sizes.some((s) => !(s >= 8))) throw new Error(`bench: --sizes must list image sizes ≥ 8, got ${value('sizes')}`);
  const backends = value('backends')?.split(',') as BackendName[] | undefined;
  return {
    json: argv.includes('--json'),
    quick,
    sizes,
    backends: backends ?? null,
    torch: !argv.includes('--no-torch'),
    source: !argv.includes('--no-source'),
    data: !argv.includes('--no-data') && !quick,
    threads: value('threads') ? Number(value('threads')) : undefined,
    threadRows: !argv.includes('--no-threads') && value('threads') == null && os.cpus().length >= 2,
  };
}

/** Budget per backend and size: the plain-JS cpu backend gets one or two steps only. */
function budgetFor(backend: BackendName, size: number, quick: boolean): BenchBudget {
  if (backend === 'cpu') return { images: 32, warmup: quick ? 0 : 1, repeats: 1 };
  const images = size >= 128 ? 64 : size >= 64 ? 128 : 256;
  return { images: quick ? Math.min(images, 128) : images, warmup: 1, repeats: quick ? 2 : 3 };
}

async function sourceModelRows(backend: BackendName, quick: boolean, log: (s: string) => void): Promise<BenchRow[]> {
  type Loaded = { name: string; model: tf.LayersModel };
  let models: { loadSourceModel?: (name?: string) => Promise<Loaded>; listSourceModels?: () => string[] };
  try {
    models = await import('../lib/models');
  } catch (err) {
    log(`skipped: source model rows (lib/models failed to load: ${(err as Error).message.split('\n')[0]})`);
    return [];
  }
  if (typeof models.loadSourceModel !== 'function') {
    log('skipped: source model rows (lib/models has no loadSourceModel yet)');
    return [];
  }
  // Every shipped source model in full mode; the default one in quick mode.
  const names: (string | undefined)[] = !quick && typeof models.listSourceModels === 'function' ? models.listSourceModels() : [undefined];
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
  if (!fs.existsSync(file)) {
    log('skipped: data-pipeline rows (scripts/bench/data.ts not present yet)');
    return [];
  }
  try {
    const mod = (await import(file)) as { benchData?: () => Promise<BenchRow[]> };
    if (typeof mod.benchData !== 'function') {
      log('skipped: data-pipeline rows (scripts/bench/data.ts exports no benchData)');
      return [];
    }
    return await mod.benchData();
  } catch (err) {
    log(`skipped: data-pipeline rows (${(err as Error).message.split('\n')[0]})`);
    return [];
  }
}

function fmt(x: number | null | undefined): string {
  return x == null ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

/** The table printed by `npm run bench`. */
export function formatTable(rows: BenchRow[]): string {
  const head = ['backend', 'model', 'px', 'batch', 'train img/s', 'infer img/s', 'note'];
  const body = rows.map((r) => [r.backend, r.model, String(r.imageSize), String(r.batchSize), fmt(r.trainImagesPerSec), fmt(r.inferImagesPerSec), r.note ?? '']);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (i >= 2 && i <= 5 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/**
 * Ratios wasm/cpu, wasm/pytorch-cpu and wasm/tensorflow of the reference net, per image size. Against PyTorch
 * (best of 1–2 threads) wasm's best row counts, and the 1-thread ratio is given too when threads won.
 */
export function ratioLines(rows: BenchRow[]): string[] {
  const out: string[] = [];
  const ref = rows.filter((r) => r.model === 'reference-cnn');
  const best = (rs: BenchRow[]) => rs.reduce((a, b) => ((b.trainImagesPerSec ?? 0) > (a.trainImagesPerSec ?? 0) ? b : a));
  const threadsOf = (r: BenchRow) => r.threads ?? 1;
  for (const size of [...new Set(ref.map((r) => r.imageSize))].sort((a, b) => a - b)) {
    const get = (b: string) => ref.find((r) => r.backend === b && r.imageSize === size);
    const wasmRows = ref.filter((r) => r.backend === 'wasm' && r.imageSize === size);
    if (wasmRows.length === 0) continue;
    const single = wasmRows.find((r) => threadsOf(r) === 1) ?? best(wasmRows);
    for (const other of ['cpu', 'pytorch-cpu', 'tensorflow']) {
      const o = get(other);
      if (o == null || !o.trainImagesPerSec || !o.inferImagesPerSec) continue;
      const ratio = (wasm: BenchRow) => [(wasm.trainImagesPerSec ?? 0) / o.trainImagesPerSec!, (wasm.inferImagesPerSec ?? 0) / o.inferImagesPerSec!];
      // The cpu backend runs one thread: compare like with like.
      const wasm = other === 'cpu' ? single : best(wasmRows);
      const [t, i] = ratio(wasm);
      const label = threadsOf(wasm) > 1 ? `wasm (${threadsOf(wasm)} threads)` : 'wasm';
      let line = `${size} px: ${label}/${other} = ${t.toFixed(2)}× training, ${i.toFixed(2)}× inference`;
      if (wasm !== single) line += ` (1 thread: ${ratio(single)[0].toFixed(2)}× training)`;
      out.push(line);
    }
  }
  return out;
}

/** wasm rows with `threads` threads, measured in a child process (threads are fixed when wasm starts). */
function threadedWasmRows(opts: Options, threads: number, log: (s: string) => void): BenchRow[] {
  const args = ['--import', 'tsx', __filename, `--threads=${threads}`, '--backends=wasm', `--sizes=${opts.sizes.join(',')}`, '--no-torch', '--no-data', '--json'];
  if (!opts.source) args.push('--no-source');
  if (opts.quick) args.push('--quick');
  const res = spawnSync(process.execPath, args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (res.status !== 0) {
    log(`skipped: wasm with ${threads} threads (${(res.stderr || res.error?.message || '').trim().split('\n').pop()})`);
    return [];
  }
  return res.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as BenchRow);
}

async function main(): Promise<void> {
  const opts = parseArgs(process.argv.slice(2));
  const log = (s: string) => (opts.json ? console.error(s) : console.log(s));
  const cpuModel = os.cpus()[0]?.model ?? 'unknown CPU';
  log(`bench on ${os.cpus().length} × ${cpuModel}, Node ${process.version}, tfjs ${tf.version_core}${opts.quick ? ' (quick)' : ''}`);
  if (process.argv.includes('--kernels')) {
    for (const c of await compareKernels()) {
      log(`${c.kernel} (${c.shapes}): kit ${c.kitMs.toFixed(2)} ms, wasm's own ${c.wasmMs.toFixed(2)} ms CPU time (${(c.wasmMs / c.kitMs).toFixed(1)}×)`);
    }
    return;
  }
  if (process.argv.includes('--profile')) {
    const info = await useBackend(opts.backends?.[0] ?? 'wasm', opts.threads);
    const size = opts.sizes[0];
    const name = process.argv.find((a) => a.startsWith('--model='))?.split('=')[1];
    const source = name ? (await import('../lib/models')).loadSourceModel(name) : null;
    const model = source ? (await source).model : undefined;
    const p = await profileStep(size, model ? 5 : 20, model ? 2 : 10, model);
    model?.dispose();
    log(`${info.backend}, ${info.threads} thread(s), ${name ?? `reference CNN, ${size} px`}, batch 32: ${p.msPerStep.toFixed(2)} ms per step (${((32 / p.msPerStep) * 1000).toFixed(0)} images/s); kernels ${p.kernelMsPerStep.toFixed(2)} ms`);
    for (const k of p.kernels.filter((k) => k.ms >= 0.05)) log(`${k.ms.toFixed(2).padStart(7)} ms  ${k.name} ${k.shapes}`);
    return;
  }
  // Threads must be chosen before wasm initialises, which availableBackends() does.
  if (opts.threads != null && opts.threads > 1) await useBackend('wasm', opts.threads);
  const available = await availableBackends();
  const backends = (opts.backends ?? available).filter((b) => {
    if (available.includes(b)) return true;
    log(`skipped: backend ${b} (cannot load here)`);
    return false;
  });
  const rows: BenchRow[] = [];
  const emit = (row: BenchRow) => {
    rows.push(row);
    if (opts.json) console.log(JSON.stringify(row));
    else log(`  ${row.backend} ${row.model} ${row.imageSize} px: train ${fmt(row.trainImagesPerSec)}, infer ${fmt(row.inferImagesPerSec)} img/s`);
  };
  for (const backend of backends) {
    const info = await useBackend(backend, opts.threads);
    const threadNote = info.threads > 1 && backend === 'wasm' ? `${info.threads} threads` : undefined;
    const threads = backend === 'cpu' ? 1 : info.threads;
    for (const size of opts.sizes) {
      if (backend === 'cpu' && size > 32) {
        log(`skipped: cpu at ${size} px (≈ 50× slower than wasm; run with --backends=cpu --sizes=${size} to force)`);
        if (opts.backends == null) continue;
      }
      const budget = budgetFor(backend, size, opts.quick);
      const model = buildReferenceCnn(size);
      const note = backend === 'cpu' ? `${budget.images} images, ${budget.repeats} timed epoch` : threadNote;
      emit({ ...(await benchModel(model, { backend, name: 'reference-cnn', batchSize: 32, budget, note })), threads });
      model.dispose();
    }
    if (opts.source && backend !== 'cpu') for (const row of await sourceModelRows(backend, opts.quick, log)) emit({ ...row, threads, note: row.note ?? threadNote });
    if (backend === 'wasm' && opts.threadRows) for (const row of threadedWasmRows(opts, 2, log)) emit(row);
  }
  if (opts.data) for (const row of await dataRows(log)) emit(row);
  if (opts.torch) {
    const torch = benchTorch(repoRoot(), opts.sizes);
    if (torch.skipped) log(`skipped: PyTorch reference (${torch.skipped})`);
    for (const row of torch.rows) emit(row);
  }
  if (!opts.json) {
    console.log('\n' + formatTable(rows));
    const ratios = ratioLines(rows);
    if (ratios.length) console.log('\n' + ratios.join('\n'));
  } else {
    for (const l of ratioLines(rows)) console.error(l);
  }
}

if (require.main === module) {
  main().catch((err) => {
    console.error(err instanceof Error ? err.stack : err);
    process.exit(1);
  });
}
