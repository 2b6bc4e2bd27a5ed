// Shared by the runner tests: fixture notebooks written on the fly, the runner as a child process, process checks.
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';
import { TSLAB_METADATA } from '../../scripts/lib/nbformat';

export const root = path.resolve(__dirname, '..', '..');
export const runner = path.join(root, 'scripts', 'notebooks.ts');
export const fixtures = path.join(root, 'test', 'fixtures', 'notebooks');
/** `node --import TSX …` runs TypeScript from any working directory (a bare `tsx` resolves from the cwd). */
export const TSX = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;

/** A fresh temporary folder. */
export function tmp(prefix = 'kit-runner-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Write a notebook whose code cells are `cells` (strings) or raw cell values (for malformed ones). */
export function writeNotebook(file: string, cells: unknown[], metadata: Record<string, unknown> = TSLAB_METADATA): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const list = cells.map((c, i) => (typeof c === 'string' ? { id: `c${i}`, cell_type: 'code', metadata: {}, source: c, outputs: [], execution_count: null } : c));
  fs.writeFileSync(file, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata, cells: list }, null, 1));
  return file;
}

export interface RunResult { status: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }

/** Run the runner (`node --import tsx scripts/notebooks.ts …`) to its end. */
export function runRunner(args: string[], opts: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', TSX, runner, ...args], { cwd: opts.cwd ?? root, env: { ...process.env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => { stdout += b; });
    child.stderr.on('data', (b) => { stderr += b; });
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 150_000);
    child.on('exit', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }); });
  });
}

/** True while a process exists (zombies included). */
export function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch { return false; }
}

/** Pids of the live processes whose environment holds `marker` (e.g. a private TMPDIR given to one run). */
export function processesWith(marker: string): number[] {
  const pids: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/stat`, 'utf8').split(') ')[1]?.startsWith('Z')) continue;
      if (fs.readFileSync(`/proc/${d}/environ`, 'utf8').includes(marker)) pids.push(Number(d));
    } catch { /* gone or not ours to read */ }
  }
  return pids;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
