/**
 * Execute one notebook in a fresh tslab kernel: cells in order, tags honoured, parameters injected,
 * per-cell and per-notebook timeouts, partial outputs kept when a kernel dies or hangs.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Notebook, NotebookCell, cellSource, toSourceLines } from '../lib/nbformat';
import { KernelClient, KernelDiedError } from './jupyter-client';
import { Output, OutputCollector, errorText, finishOutputs } from './outputs';
import { JupyterMessage } from './protocol';
import { NotebookFormatError, readNotebook } from './read';

export type NotebookStatus = 'ok' | 'failed' | 'timeout' | 'kernel-died';

export interface RunOptions {
  /** the name in the report (default: the file's name without .ipynb) */
  name?: string;
  /** seconds a single cell may run before it is interrupted */
  cellTimeout: number;
  /** seconds the whole notebook may run */
  notebookTimeout: number;
  /** extra kernel environment (e.g. KIT_QUICK=1) */
  env?: Record<string, string>;
  /** values injected after the cell tagged `parameters` */
  params?: Record<string, unknown>;
  /** seconds between SIGINT and SIGKILL for a cell that overran */
  graceSeconds?: number;
  /** called once the notebook is read, with the number of code cells to run */
  onStart?: (codeCells: number) => void;
  /** called after each cell (progress display) */
  onCell?: (p: CellProgress) => void;
}

export interface CellProgress {
  index: number;
  codeCells: number;
  done: number;
  seconds: number;
}

export interface Failure {
  /** index of the cell in the executed notebook */
  cellIndex: number;
  cellId: string;
  /** first lines of the cell's source */
  source: string;
  /** the error text: tslab's diagnostics (stderr) or the error output */
  error: string;
}

export interface NotebookResult {
  name: string;
  path: string;
  output: string;
  status: NotebookStatus;
  cellsRun: number;
  codeCells: number;
  seconds: number;
  failure?: Failure;
  warnings: string[];
}

export { readNotebook } from './read';

function hasTag(cell: NotebookCell, tag: string): boolean {
  return Array.isArray(cell.metadata?.tags) && cell.metadata.tags.includes(tag);
}

/**
 * Insert a cell tagged `injected-parameters` after the cell tagged `parameters`, assigning each value as
 * JSON (`name = value;`). Only names the parameters cell declares with `let`/`var` are injected; others
 * produce a warning. Returns the warnings.
 */
export function injectParameters(nb: Notebook, params: Record<string, unknown>): string[] {
  const names = Object.keys(params);
  if (names.length === 0) return [];
  const at = nb.cells.findIndex((c) => hasTag(c, 'parameters'));
  if (at < 0) return [`no cell tagged 'parameters': ignored --param ${names.join(', ')}`];
  const src = cellSource(nb.cells[at]);
  const warnings: string[] = [];
  // A block, not expression statements, so the kernel does not echo the last value.
  const lines: string[] = ['// Injected by the runner (--param)', '{'];
  for (const name of names) {
    const decl = new RegExp(`\\b(let|var|const)\\s+${name.replace(/[$]/g, '\\$')}\\b`).exec(src);
    if (!decl) warnings.push(`parameter '${name}' is not declared in the parameters cell: not injected`);
    else if (decl[1] === 'const') warnings.push(`parameter '${name}' is declared with const: declare it with let to allow injection`);
    else lines.push(`  ${name} = ${JSON.stringify(params[name])};`);
  }
  if (lines.length > 2) {
    lines.push('}');
    nb.cells.splice(at + 1, 0, {
      id: 'injected-parameters', cell_type: 'code', metadata: { tags: ['injected-parameters'] },
      source: toSourceLines(lines.join('\n')), execution_count: null, outputs: [],
    });
  }
  return warnings;
}

/** Seconds a kernel may take to answer kernel_info (tslab loads TypeScript first: 1.5–3 s idle, far more on a loaded machine). */
const KERNEL_START_TIMEOUT_S = 120;

/** tslab drops requests that arrive within 200 ms after a failed cell; wait a bit longer than that. */
const TSLAB_ABORT_WINDOW_MS = 300;

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function excerpt(source: string, maxLines = 6): string {
  const lines = source.split('\n');
  return lines.slice(0, maxLines).join('\n') + (lines.length > maxLines ? '\n…' : '');
}

type CellOutcome = { kind: 'ok' | 'error' | 'aborted' | 'timeout' | 'died' | 'notebook-timeout'; count: number | null; detail?: string };

/** What tslab prints (its process handlers) for an error thrown outside a cell's own code path. */
const UNCAUGHT = /^(UncaughtException|UnhandledPromiseRejection):/;

/**
 * Routes every iopub message of a notebook to the outputs of the cell that sent the request — also after that cell
 * returned (tslab, like Python's kernel, writes later output to the last cell) — and notes the errors tslab reports
 * for timers, callbacks and promises nobody awaited (an `UncaughtException:` / `UnhandledPromiseRejection:` stderr line).
 */
class CellRouter {
  private cells = new Map<string, { index: number; outputs: Output[] }>();
  readonly collector = new OutputCollector();
  /** uncaught errors, with the index of the cell whose output they arrived in */
  readonly uncaught: Array<{ index: number; text: string }> = [];

  constructor(kernel: KernelClient) {
    kernel.onIopub((m) => {
      const cell = this.cells.get(m.parent_header.msg_id ?? '');
      if (!cell) return;
      this.collector.apply(cell.outputs, m);
      const c = m.content as { name?: string; text?: unknown };
      if (m.header.msg_type === 'stream' && c.name === 'stderr' && UNCAUGHT.test(String(c.text))) this.uncaught.push({ index: cell.index, text: String(c.text) });
    });
  }

  /** Send later messages of request msgId to this cell's outputs. */
  route(msgId: string, index: number, outputs: Output[]): void {
    this.cells.set(msgId, { index, outputs });
  }
}

/**
 * Run one cell with its timeouts, under a last-resort watchdog: should the cell's own timeout handling ever
 * stall (seen once on a heavily loaded CI machine, cause unknown), the kernel's process group is killed and
 * the cell reported as timed out, so the runner never hangs.
 */
async function executeCell(
  kernel: KernelClient, code: string, onSent: (msgId: string) => void,
  cellTimeout: number, notebookDeadline: number, graceSeconds: number,
): Promise<CellOutcome> {
  const budget = Math.max(0.1, Math.min(cellTimeout, (notebookDeadline - Date.now()) / 1000));
  const limitMs = (budget + graceSeconds + 15) * 1000;
  let timer: NodeJS.Timeout | undefined;
  const watchdog = new Promise<CellOutcome>((resolve) => {
    timer = setTimeout(() => {
      kernel.killNow();
      resolve({ kind: budget < cellTimeout ? 'notebook-timeout' : 'timeout', count: null, detail: `watchdog: the cell did not finish within ${Math.round(limitMs / 1000)} s; kernel killed` });
    }, limitMs);
  });
  try {
    return await Promise.race([runCell(kernel, code, onSent, cellTimeout, notebookDeadline, graceSeconds), watchdog]);
  } finally {
    clearTimeout(timer);
  }
}

async function runCell(
  kernel: KernelClient, code: string, onSent: (msgId: string) => void,
  cellTimeout: number, notebookDeadline: number, graceSeconds: number,
): Promise<CellOutcome> {
  const msgId = kernel.send('execute_request', { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
  onSent(msgId);
  let idle = false;
  let idleResolve: () => void = () => undefined;
  const idleSeen = new Promise<void>((r) => { idleResolve = r; });
  let count: number | null = null;
  const stop = kernel.onIopub((m: JupyterMessage) => {
    if (m.parent_header.msg_id !== msgId) return;
    if (m.header.msg_type === 'status' && (m.content as { execution_state?: string }).execution_state === 'idle') { idle = true; idleResolve(); return; }
    if (m.header.msg_type === 'execute_input') count = (m.content as { execution_count?: number }).execution_count ?? count;
  });
  try {
    const budget = Math.max(0.1, Math.min(cellTimeout, (notebookDeadline - Date.now()) / 1000));
    const hitNotebookLimit = budget < cellTimeout;
    let reply: JupyterMessage;
    try {
      reply = await kernel.waitReply(msgId, budget);
    } catch (e) {
      if (e instanceof KernelDiedError) return { kind: 'died', count, detail: e.message };
      // Overran: interrupt, give it a grace period to reply, then kill.
      kernel.interrupt();
      try {
        await kernel.waitReply(msgId, graceSeconds);
      } catch { /* no reply after SIGINT */ }
      await kernel.stop(500);
      const why = hitNotebookLimit ? 'notebook' : 'cell';
      return { kind: hitNotebookLimit ? 'notebook-timeout' : 'timeout', count, detail: `${why} timeout: interrupted after ${Number.isInteger(budget) ? budget : budget.toFixed(1)} s` };
    }
    // iopub output can trail the reply a little: wait for the idle status (bounded).
    if (!idle) await Promise.race([idleSeen, new Promise((r) => setTimeout(r, 2000))]);
    const c = reply.content as { status?: string; execution_count?: number; ename?: string; evalue?: string };
    count = c.execution_count ?? count;
    if (c.status === 'abort' || c.status === 'aborted') return { kind: 'aborted', count };
    return c.status === 'ok' ? { kind: 'ok', count } : { kind: 'error', count, detail: c.ename ? `${c.ename}: ${c.evalue ?? ''}` : undefined };
  } finally {
    stop();
  }
}

/** How long the runner keeps listening after the last cell for errors from its timers and promises. */
const LATE_ERROR_GRACE_MS = 500;

interface NotebookRun {
  nb: Notebook;
  result: NotebookResult;
  opts: RunOptions;
  deadline: number;
  fail: (status: NotebookStatus, index: number, cell: NotebookCell | null, error: string) => void;
}

/** The first uncaught error reported in a cell not tagged raises-exception, as a failure of that cell. */
function failOnUncaught(run: NotebookRun, router: CellRouter): boolean {
  const u = router.uncaught.find((e) => !hasTag(run.nb.cells[e.index], 'raises-exception'));
  if (!u) return false;
  run.fail('failed', u.index, run.nb.cells[u.index],
    `an error was thrown outside the cell's own code (a timer, a callback or a promise nobody awaited); it was reported while this cell ran ` +
    `or after it returned, and may come from an earlier cell:\n${u.text}`);
  return true;
}

/** Execute the code cells in order until one fails; outputs go into the cells of `run.nb`. */
async function runCells(kernel: KernelClient, run: NotebookRun, codeCells: number): Promise<void> {
  const { nb, result, opts } = run;
  const router = new CellRouter(kernel);
  for (let i = 0; i < nb.cells.length; i++) {
    const cell = nb.cells[i];
    if (cell.cell_type !== 'code' || hasTag(cell, 'skip-execution')) continue;
    const code = cellSource(cell);
    const outputs: Output[] = [];
    cell.outputs = outputs;
    const cellStart = Date.now();
    const send = () => executeCell(kernel, code, (id) => router.route(id, i, outputs), opts.cellTimeout, run.deadline, opts.graceSeconds ?? 3);
    let outcome = await send();
    if (outcome.kind === 'aborted') {
      // tslab cancels requests queued within 200 ms of a failed cell (its issue #19): send this one again.
      await sleep(TSLAB_ABORT_WINDOW_MS);
      outcome = await send();
    }
    cell.execution_count = outcome.count;
    finishOutputs(outputs);
    result.cellsRun++;
    opts.onCell?.({ index: i, codeCells, done: result.cellsRun, seconds: (Date.now() - cellStart) / 1000 });
    if (outcome.kind === 'ok' || ((outcome.kind === 'error' || outcome.kind === 'aborted') && hasTag(cell, 'raises-exception'))) {
      if (outcome.kind !== 'ok') await sleep(TSLAB_ABORT_WINDOW_MS);
      if (failOnUncaught(run, router)) return;
      continue;
    }
    if (outcome.kind === 'error' || outcome.kind === 'aborted') {
      run.fail('failed', i, cell, errorText(outputs) || outcome.detail || 'execute_reply status: error');
    } else if (outcome.kind === 'died') {
      run.fail('kernel-died', i, cell, [outcome.detail, errorText(outputs)].filter(Boolean).join('\n'));
    } else {
      run.fail('timeout', i, cell, [outcome.detail, errorText(outputs)].filter(Boolean).join('\n'));
    }
    return;
  }
  // An error from a timer or promise of the last cells may come just after they returned.
  await sleep(LATE_ERROR_GRACE_MS);
  failOnUncaught(run, router);
}

/** Execute a notebook file and write the executed copy to outFile. Never throws for notebook errors. */
export async function runNotebook(file: string, outFile: string, opts: RunOptions): Promise<NotebookResult> {
  const started = Date.now();
  const name = opts.name ?? path.basename(file, '.ipynb');
  const result: NotebookResult = { name, path: path.relative(process.cwd(), path.resolve(file)), output: path.relative(process.cwd(), outFile), status: 'ok', cellsRun: 0, codeCells: 0, seconds: 0, warnings: [] };
  let nb: Notebook;
  try {
    nb = readNotebook(file);
  } catch (e) {
    result.status = 'failed';
    const cellIndex = e instanceof NotebookFormatError ? e.cellIndex : -1;
    result.failure = { cellIndex, cellId: '', source: '', error: `cannot run the notebook: ${(e as Error).message}` };
    return result;
  }
  result.warnings.push(...injectParameters(nb, opts.params ?? {}));
  for (const cell of nb.cells) {
    if (cell.cell_type === 'code') { cell.outputs = []; cell.execution_count = null; }
  }
  const codeCells = nb.cells.filter((c) => c.cell_type === 'code' && !hasTag(c, 'skip-execution')).length;
  result.codeCells = codeCells;
  opts.onStart?.(codeCells);
  const run: NotebookRun = {
    nb, result, opts, deadline: started + opts.notebookTimeout * 1000,
    fail: (status, index, cell, error) => {
      if (result.failure) return; // the first failure is the one to report
      result.status = status;
      result.failure = { cellIndex: index, cellId: cell?.id ?? '', source: cell ? excerpt(cellSource(cell)) : '', error: error.trim() };
    },
  };
  let kernel: KernelClient | null = null;
  try {
    try {
      kernel = await KernelClient.start({ cwd: path.dirname(path.resolve(file)), env: opts.env, startTimeout: KERNEL_START_TIMEOUT_S });
    } catch (e) {
      run.fail('kernel-died', -1, null, `kernel did not start: ${(e as Error).message}`);
      return result;
    }
    await runCells(kernel, run, codeCells);
  } finally {
    if (kernel) await kernel.stop();
    if (kernel && kernel.badSignatures > 0) result.warnings.push(`${kernel.badSignatures} message(s) with a bad signature were dropped`);
    result.seconds = Math.round((Date.now() - started) / 100) / 10;
    for (const c of nb.cells) if (c.cell_type === 'code' && c.outputs) finishOutputs(c.outputs as Output[]); // late output too
    nb.nbformat_minor = 5;
    fs.mkdirSync(path.dirname(outFile), { recursive: true });
    fs.writeFileSync(outFile, JSON.stringify(nb, null, 1) + '\n');
  }
  return result;
}
