/**
 * Notebook runner: executes notebooks in fresh tslab kernels and writes build/notebooks/*.ipynb + build/report.json.
 *   npm run notebooks -- [files or folders…] [--quick] [--timeout S] [--notebook-timeout S] [--jobs N]
 *                        [--param key=value…] [--out DIR] [--site]
 * --site builds the HTML site (DIR/site) from whatever ran, so failures are visible there too.
 * Exit status: 0 when every notebook ran ok, 1 when any failed, 2 on bad usage, 130 when interrupted.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NotebookResult, runNotebook } from './notebooks/execute';
import { liveKernels } from './notebooks/jupyter-client';
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

const USAGE = 'usage: npm run notebooks -- [files or folders…] [--quick] [--timeout SECONDS] [--notebook-timeout SECONDS] [--jobs N] [--param key=value…] [--out DIR] [--site]';

/** Parse a --param value: JSON when it parses (numbers, booleans, arrays…), else the raw string. */
export function parseParamValue(raw: string): unknown {
  try { return JSON.parse(raw); } catch { return raw; }
}

/** Parse the runner's command line. */
export function parseArgs(argv: string[], root: string): CliOptions {
  const o: CliOptions = { inputs: [], quick: false, cellTimeout: 600, notebookTimeout: 3600, jobs: 1, params: {}, outDir: path.join(root, 'build'), site: false };
  const num = (flag: string, v: string | undefined) => {
    const n = Number(v);
    if (!v || !Number.isFinite(n) || n <= 0) throw new Error(`${flag} expects a positive number, got '${v ?? ''}'\n${USAGE}`);
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') && !a.startsWith('--param=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--quick') o.quick = true;
    else if (flag === '--site') o.site = true;
    else if (flag === '--timeout') o.cellTimeout = num(flag, value());
    else if (flag === '--notebook-timeout') o.notebookTimeout = num(flag, value());
    else if (flag === '--jobs' || flag === '-j') o.jobs = Math.floor(num(flag, value()));
    else if (flag === '--out') o.outDir = path.resolve(value() ?? '');
    else if (flag === '--param' || a.startsWith('--param=')) {
      const kv = a.startsWith('--param=') ? a.slice(8) : argv[++i];
      const m = kv ? /^([A-Za-z_$][\w$]*)=(.*)$/s.exec(kv) : null;
      if (!m) throw new Error(`--param expects name=value with a TypeScript identifier as name, got '${kv ?? ''}'\n${USAGE}`);
      o.params[m[1]] = parseParamValue(m[2]);
    } else if (flag === '--help' || flag === '-h') throw new Error(USAGE);
    else if (a.startsWith('-')) throw new Error(`unknown option ${a}\n${USAGE}`);
    else o.inputs.push(a);
  }
  return o;
}

/** Expand files and folders into a sorted list of .ipynb files (folders: their *.ipynb, not recursive). */
export function collectNotebooks(inputs: string[], root: string): string[] {
  const list = inputs.length ? inputs : [path.join(root, 'notebooks')];
  const files: string[] = [];
  for (const inp of list) {
    const p = path.resolve(inp);
    if (!fs.existsSync(p)) throw new Error(`${inp}: no such file or folder`);
    if (fs.statSync(p).isDirectory()) {
      files.push(...fs.readdirSync(p).filter((f) => f.endsWith('.ipynb')).sort().map((f) => path.join(p, f)));
    } else if (p.endsWith('.ipynb')) files.push(p);
    else throw new Error(`${inp}: expected a .ipynb file or a folder`);
  }
  return [...new Set(files)];
}

/** Run notebooks with at most `jobs` kernels at a time. */
export async function runAll(files: string[], o: CliOptions, progress: RunProgress, stopped: () => boolean): Promise<NotebookResult[]> {
  const results: NotebookResult[] = new Array(files.length);
  let next = 0;
  const env: Record<string, string> = o.quick ? { KIT_QUICK: '1' } : {}; // else the runner's own KIT_QUICK is inherited
  const worker = async () => {
    while (next < files.length && !stopped()) {
      const i = next++;
      const name = path.basename(files[i], '.ipynb');
      const r = await runNotebook(files[i], path.join(o.outDir, 'notebooks', `${name}.ipynb`), {
        cellTimeout: o.cellTimeout, notebookTimeout: o.notebookTimeout, env, params: o.params,
        onStart: (codeCells) => progress.start(name, codeCells),
        onCell: (p) => progress.cell(name, p.done, p.codeCells, p.seconds),
      });
      results[i] = r;
      const mark = r.status === 'ok' ? '✔' : '✘';
      progress.finish(name, `${mark} ${name}: ${r.status} (${r.cellsRun}/${r.codeCells} cells, ${r.seconds.toFixed(1)} s)` +
        (r.failure ? `\n    cell ${r.failure.cellIndex}: ${errorHeadline(r.failure.error)}` : '') +
        r.warnings.map((w) => `\n    warning: ${w}`).join(''));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(o.jobs, files.length)) }, worker));
  return results.filter(Boolean);
}

async function main(): Promise<void> {
  const root = path.resolve(__dirname, '..');
  let o: CliOptions;
  let files: string[];
  try {
    o = parseArgs(process.argv.slice(2), root);
    files = collectNotebooks(o.inputs, root);
  } catch (e) {
    console.error((e as Error).message);
    process.exit(2);
  }
  if (files.length === 0) {
    console.error('no notebooks to run');
    process.exit(2);
  }
  let interrupted = false;
  const progress = new RunProgress();
  const onSignal = (sig: NodeJS.Signals) => {
    if (interrupted) { for (const k of liveKernels) k.killNow(); process.exit(130); }
    interrupted = true;
    progress.close();
    console.error(`\n${sig}: stopping ${liveKernels.size} kernel(s)…`);
    for (const k of liveKernels) k.killNow();
    // Partial notebooks and the report are written as the runs unwind; never hang on it.
    setTimeout(() => process.exit(130), 5000).unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => { for (const k of liveKernels) k.killNow(); });
  const results = await runAll(files, o, progress, () => interrupted);
  progress.close();
  writeReport(path.join(o.outDir, 'report.json'), results, o.quick || process.env.KIT_QUICK === '1');
  console.log('\n' + summaryTable(results));
  if (o.site && !interrupted) {
    const site = buildSite(o.outDir);
    console.log(`site: ${path.relative(process.cwd(), path.join(site.outDir, 'index.html'))}`);
  }
  const bad = results.filter((r) => r.status !== 'ok').length;
  console.log(`\n${results.length - bad}/${results.length} notebooks ok · report: ${path.relative(process.cwd(), path.join(o.outDir, 'report.json'))}`);
  process.exit(interrupted ? 130 : bad > 0 ? 1 : 0);
}

if (require.main === module) void main();
