/**
 * Notebook runner: executes notebooks in fresh tslab kernels and writes build/notebooks/*.ipynb + build/report.json.
 *   npm run notebooks -- [files or folders…] [--quick] [--timeout S] [--notebook-timeout S] [--jobs N]
 *                        [--param key=value…] [--out DIR] [--site]
 * --site builds the HTML site (DIR/site) from whatever ran, so failures are visible there too.
 * Exit status: 0 when every notebook ran ok, 1 when any failed, 2 on bad usage, 130 when interrupted.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CommandSpec, ParsedFlags, UsageError, parseCommand, runCommand } from './lib/cli';
import { kernelThreadsEnv, runJobs } from './lib/jobs';
import { NotebookResult, runNotebook } from './notebooks/execute';
import { liveKernels } from './notebooks/jupyter-client';
import { watchLifeline } from './notebooks/lifeline';
import { PlannedNotebook, planOutputs } from './notebooks/plan';
import { RunProgress } from './notebooks/progress';
import { errorHeadline, summaryTable, writeReport } from './notebooks/report';
import { buildSite } from './site';

export interface CliOptions {
  inputs: string[];
  quick: boolean;
  cellTimeout: number;
  notebookTimeout: number;
  jobs: number;
  params: Record<string, unknown>;
  outDir: string;
  /** build the site from the results afterwards (even when notebooks failed) */
  site: boolean;
}

/** The runner's command line. */
export const RUNNER_COMMAND = {
  name: 'npm run notebooks --',
  summary: 'Executes notebooks in fresh tslab kernels; writes DIR/notebooks/<name>.ipynb and DIR/report.json.',
  positionals: { name: 'NOTEBOOKS', help: 'notebook files or folders (a folder: its *.ipynb); default notebooks/' },
  flags: {
    quick: { kind: 'boolean', help: 'quick mode: KIT_QUICK=1 in the kernels (small data, few epochs)' },
    timeout: { kind: 'number', arg: 'SECONDS', min: 0.1, help: 'per-cell limit (default 600)' },
    'notebook-timeout': { kind: 'number', arg: 'SECONDS', min: 0.1, help: 'whole-notebook limit (default 3600)' },
    jobs: { kind: 'int', short: 'j', arg: 'N', min: 1, help: 'notebooks run in parallel (default 1)' },
    param: { kind: 'string', multiple: true, arg: 'NAME=VALUE', help: 'repeatable; injected after the cell tagged parameters (JSON if it parses)' },
    out: { kind: 'string', arg: 'DIR', help: 'where executed copies and report.json go (default build/; never notebooks/)' },
    site: { kind: 'boolean', help: 'build the HTML site (DIR/site) afterwards, failures included' },
  },
  epilog: 'Exit status: 0 all ok, 1 any notebook failed, 2 bad usage, 130 interrupted.',
} satisfies CommandSpec;

/** Parse a --param value: JSON when it parses (numbers, booleans, arrays…), else the raw string. */
export function parseParamValue(raw: string): unknown {
  try { return JSON.parse(raw); } catch { return raw; }
}

/** The runner's options from parsed flags. */
export function toOptions(flags: ParsedFlags<typeof RUNNER_COMMAND>, positionals: string[], root: string): CliOptions {
  const params: Record<string, unknown> = {};
  for (const kv of flags.param ?? []) {
    const m = /^([A-Za-z_$][\w$]*)=(.*)$/s.exec(kv);
    if (!m) throw new UsageError(`--param expects name=value with a TypeScript identifier as name, got '${kv}'`);
    params[m[1]] = parseParamValue(m[2]);
  }
  return {
    inputs: positionals,
    quick: flags.quick,
    cellTimeout: flags.timeout ?? 600,
    notebookTimeout: flags['notebook-timeout'] ?? 3600,
    jobs: flags.jobs ?? 1,
    params,
    outDir: path.resolve(flags.out ?? path.join(root, 'build')),
    site: flags.site,
  };
}

/** Parse the runner's command line (throws a UsageError on anything it does not understand). */
export function parseArgs(argv: string[], root: string): CliOptions {
  const { flags, positionals } = parseCommand(RUNNER_COMMAND, argv);
  return toOptions(flags, positionals, root);
}

/** Expand files and folders into a sorted list of .ipynb files (folders: their *.ipynb, not recursive). */
export function collectNotebooks(inputs: string[], root: string): string[] {
  const list = inputs.length ? inputs : [path.join(root, 'notebooks')];
  const files: string[] = [];
  for (const inp of list) {
    const p = path.resolve(inp);
    if (!fs.existsSync(p)) throw new UsageError(`${inp}: no such file or folder`);
    if (fs.statSync(p).isDirectory()) {
      files.push(...fs.readdirSync(p).filter((f) => f.endsWith('.ipynb')).sort().map((f) => path.join(p, f)));
    } else if (p.endsWith('.ipynb')) files.push(p);
    else throw new UsageError(`${inp}: expected a .ipynb file or a folder`);
  }
  return [...new Set(files)];
}

/** Run notebooks with at most `jobs` kernels at a time. */
export async function runAll(plan: PlannedNotebook[], o: CliOptions, progress: RunProgress, stopped: () => boolean): Promise<NotebookResult[]> {
  const results: NotebookResult[] = new Array(plan.length);
  // KIT_QUICK: else the runner's own is inherited; threads: each kernel's share of the cores (KIT_WASM_THREADS wins)
  const env: Record<string, string> = { ...(o.quick ? { KIT_QUICK: '1' } : {}), ...kernelThreadsEnv(o.jobs) };
  await runJobs(plan.length, o.jobs, async (i) => {
    const { file, name, output } = plan[i];
    const r = await runNotebook(file, output, {
      name, cellTimeout: o.cellTimeout, notebookTimeout: o.notebookTimeout, env, params: o.params,
      onStart: (codeCells) => progress.start(name, codeCells),
      onCell: (p) => progress.cell(name, p.done, p.codeCells, p.seconds),
    });
    results[i] = r;
    const mark = r.status === 'ok' ? '✔' : '✘';
    progress.finish(name, `${mark} ${name}: ${r.status} (${r.cellsRun}/${r.codeCells} cells, ${r.seconds.toFixed(1)} s)` +
      (r.failure ? `\n    cell ${r.failure.cellIndex}: ${errorHeadline(r.failure.error)}` : '') +
      r.warnings.map((w) => `\n    warning: ${w}`).join(''));
  }, stopped);
  return results.filter(Boolean);
}

/** Stop every kernel on SIGINT / SIGTERM / SIGHUP or when the program that started the runner ends. */
function onStop(progress: RunProgress): () => boolean {
  let interrupted = false;
  const stop = (why: string) => {
    if (interrupted) { for (const k of liveKernels) k.killNow(); process.exit(130); }
    interrupted = true;
    progress.close();
    console.error(`\n${why}: stopping ${liveKernels.size} kernel(s)…`);
    for (const k of liveKernels) k.killNow(`the runner was stopped (${why})`);
    // Partial notebooks and the report are written as the runs unwind; never hang on it.
    setTimeout(() => process.exit(130), 5000).unref();
  };
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(sig, () => stop(sig));
  watchLifeline((why) => stop(why));
  process.on('exit', () => { for (const k of liveKernels) k.killNow(); });
  // The terminal or pipe may be gone (npm stopped, terminal closed): losing the messages must not crash the unwinding.
  for (const s of [process.stdout, process.stderr]) s.on('error', () => undefined);
  return () => interrupted;
}

async function main(flags: ParsedFlags<typeof RUNNER_COMMAND>, positionals: string[]): Promise<number> {
  const root = path.resolve(__dirname, '..');
  const o = toOptions(flags, positionals, root);
  const files = collectNotebooks(o.inputs, root);
  if (files.length === 0) throw new UsageError('no notebooks to run');
  const plan = planOutputs(files, o.outDir, root);
  const progress = new RunProgress();
  const stopped = onStop(progress);
  const results = await runAll(plan, o, progress, stopped);
  progress.close();
  writeReport(path.join(o.outDir, 'report.json'), results, o.quick || process.env.KIT_QUICK === '1');
  console.log('\n' + summaryTable(results));
  if (o.site && !stopped()) {
    const site = buildSite(o.outDir);
    console.log(`site: ${path.relative(process.cwd(), path.join(site.outDir, 'index.html'))}`);
  }
  const bad = results.filter((r) => r.status !== 'ok').length;
  console.log(`\n${results.length - bad}/${results.length} notebooks ok · report: ${path.relative(process.cwd(), path.join(o.outDir, 'report.json'))}`);
  return stopped() ? 130 : bad > 0 ? 1 : 0;
}

if (require.main === module) void runCommand(RUNNER_COMMAND, process.argv.slice(2), main);
