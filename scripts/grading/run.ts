/**
 * Execute a prepared submission with the kit's runner (fresh kernel, per-cell and per-notebook timeouts), on past
 * errors. A cell that hangs or kills the kernel ends that kernel: the notebook is run again in a fresh kernel
 * without that cell (at most `restarts` times, within the notebook's time budget), so the cells after it are still
 * graded. The notebook runs in a private folder whose parent links the kit, so `import … from '..'` resolves.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Notebook, toSourceLines } from '../lib/nbformat';
import { NotebookResult, runNotebook } from '../notebooks/execute';

/** A cell the run had to leave out, and why. */
export interface Incident {
  cellIndex: number;
  cellId: string;
  kind: 'timeout' | 'kernel-died';
  error: string;
  outputs: unknown[];
}

/** The outcome of grading runs of one notebook. */
export interface GradeRun {
  /** the executed notebook (cells left out show their original source and the outputs they had) */
  nb: Notebook | null;
  incidents: Incident[];
  /** the notebook time limit was hit, or the kernel would not start: the cells after stopIndex did not run */
  stopped?: { cellIndex: number; reason: string };
  attempts: number;
  seconds: number;
  last: NotebookResult | null;
}

export interface GradeRunOptions {
  cellTimeout: number;
  notebookTimeout: number;
  env: Record<string, string>;
  /** how many times a notebook is re-run after a hang or a kernel crash (default 3) */
  restarts?: number;
}

/** Top-level entries of the kit that a notebook's `..` must show (its compiled library, packages, data). */
const LINKED = ['package.json', 'dist', 'node_modules', 'data'];

/** A private folder whose entries link the kit's; notebooks run in its sub-folders. Remove it with fs.rmSync. */
export function makeWorkspace(root: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-grade-'));
  for (const e of LINKED) if (fs.existsSync(path.join(root, e))) fs.symlinkSync(path.join(root, e), path.join(dir, e));
  return dir;
}

function leftOut(kind: Incident['kind'], seconds: number): string {
  return kind === 'timeout'
    ? `// Left out by the grader: this cell did not finish within ${seconds} s, so the notebook was run again without it.`
    : '// Left out by the grader: this cell stopped the kernel, so the notebook was run again without it.';
}

/** Run `nb` (already prepared: every code cell tagged raises-exception) in workDir; never throws for notebook errors. */
export async function runForGrading(nb: Notebook, workDir: string, name: string, opts: GradeRunOptions): Promise<GradeRun> {
  const started = Date.now();
  fs.mkdirSync(workDir, { recursive: true });
  const input = path.join(workDir, `${name}.ipynb`);
  const output = path.join(workDir, `${name}.executed.ipynb`);
  const work: Notebook = JSON.parse(JSON.stringify(nb));
  const incidents: Incident[] = [];
  const run: GradeRun = { nb: null, incidents, attempts: 0, seconds: 0, last: null };
  const restarts = opts.restarts ?? 3;
  for (;;) {
    const left = opts.notebookTimeout - (Date.now() - started) / 1000;
    if (left <= 1) {
      run.stopped = { cellIndex: incidents.at(-1)?.cellIndex ?? -1, reason: `the notebook time limit (${opts.notebookTimeout} s) was used up by earlier attempts` };
      break;
    }
    fs.writeFileSync(input, JSON.stringify(work));
    run.attempts++;
    const r = await runNotebook(input, output, { cellTimeout: opts.cellTimeout, notebookTimeout: left, env: opts.env });
    run.last = r;
    if (fs.existsSync(output)) run.nb = JSON.parse(fs.readFileSync(output, 'utf8')) as Notebook;
    if (r.status === 'ok') break;
    const f = r.failure;
    const cellTimedOut = r.status === 'timeout' && f && f.cellIndex >= 0 && !/notebook timeout/.test(f.error);
    const died = r.status === 'kernel-died' && f && f.cellIndex >= 0;
    if (!f || !(cellTimedOut || died) || incidents.length >= restarts) {
      run.stopped = { cellIndex: f?.cellIndex ?? -1, reason: f ? f.error.split('\n')[0] : r.status };
      if ((cellTimedOut || died) && f) incidents.push({ cellIndex: f.cellIndex, cellId: f.cellId, kind: cellTimedOut ? 'timeout' : 'kernel-died', error: f.error, outputs: run.nb?.cells[f.cellIndex]?.outputs ?? [] });
      break;
    }
    const kind = cellTimedOut ? 'timeout' : 'kernel-died';
    incidents.push({ cellIndex: f.cellIndex, cellId: f.cellId, kind, error: f.error, outputs: run.nb?.cells[f.cellIndex]?.outputs ?? [] });
    work.cells[f.cellIndex].source = toSourceLines(leftOut(kind, opts.cellTimeout));
  }
  // show the cells that were left out as they were, with what they printed before they were stopped
  if (run.nb) {
    for (const inc of incidents) {
      const cell = run.nb.cells[inc.cellIndex];
      if (!cell) continue;
      cell.source = nb.cells[inc.cellIndex].source;
      const note = inc.kind === 'timeout' ? `stopped by the grader: no result within ${opts.cellTimeout} s\n` : `stopped: this cell ended the kernel (${inc.error.split('\n')[0]})\n`;
      // keep what the cell printed; drop the interrupt's stack trace (the note says what happened)
      const kept = (inc.outputs as Array<{ name?: string; text?: string }>).filter((o) => !(o.name === 'stderr' && /interrupted by `SIGINT`/.test(String(o.text))));
      cell.outputs = [...kept, { output_type: 'stream', name: 'stderr', text: note }];
    }
  }
  run.seconds = Math.round((Date.now() - started) / 100) / 10;
  return run;
}
