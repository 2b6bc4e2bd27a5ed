// Issue #15: kernels die with their runner — SIGINT, SIGTERM, SIGHUP or SIGKILL to the runner, or SIGTERM to the
// npm that started it (npm does not pass it on): after 10 s no process of the run and no kit-kernel-* folder is left.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { Report } from '../../scripts/notebooks/report';
import { TSX, alive, fixtures, processesWith, root, runner, sleep, tmp } from './runner-helpers';

type Target = 'runner' | 'npm';
const cases: Array<{ sig: NodeJS.Signals; target: Target }> = [
  { sig: 'SIGINT', target: 'runner' },
  { sig: 'SIGTERM', target: 'runner' },
  { sig: 'SIGHUP', target: 'runner' },
  { sig: 'SIGKILL', target: 'runner' },
  { sig: 'SIGTERM', target: 'npm' },
];

/** Starts hang.ipynb (an endless cell) with a private TMPDIR; resolves once the kernel runs that cell. */
async function startRun(target: Target): Promise<{ child: ChildProcess; dir: string; kernelPid: number; log: () => string; exit: Promise<number | null> }> {
  const dir = tmp('kit-kill-');
  const tmpdir = path.join(dir, 'tmp');
  fs.mkdirSync(tmpdir);
  const pidFile = path.join(dir, 'kernel.pid');
  const args = [path.join(fixtures, 'hang.ipynb'), '--out', path.join(dir, 'out'), '--timeout', '120'];
  const env = { ...process.env, TMPDIR: tmpdir, KIT_TEST_PIDFILE: pidFile };
  const child = target === 'npm'
    ? spawn('npm', ['run', 'notebooks', '--', ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, ['--import', TSX, runner, ...args], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const exit = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.stdout!.on('data', (b) => { text += b; });
  child.stderr!.on('data', (b) => { text += b; });
  const t0 = Date.now();
  while (!fs.existsSync(pidFile) || !fs.readFileSync(pidFile, 'utf8')) {
    if (Date.now() - t0 > 120_000) throw new Error(`kernel never started\n${text}`);
    await sleep(200);
  }
  await sleep(1000); // inside the endless loop now
  return { child, dir, kernelPid: Number(fs.readFileSync(pidFile, 'utf8')), log: () => text, exit };
}

test('kill matrix: whatever stops the runner, no kernel and no kernel folder outlive it by 10 s', { timeout: 400_000 }, async () => {
  const runs = await Promise.all(cases.map((c) => startRun(c.target)));
  try {
    for (const [i, c] of cases.entries()) {
      assert.ok(alive(runs[i].kernelPid), `${c.sig} → ${c.target}: kernel running before the signal`);
      assert.ok(fs.readdirSync(path.join(runs[i].dir, 'tmp')).some((f) => f.startsWith('kit-kernel-')), 'a kernel folder exists while it runs');
      runs[i].child.kill(c.sig);
    }
    await sleep(10_000);
    const failures: string[] = [];
    for (const [i, c] of cases.entries()) {
      const { dir, kernelPid, log } = runs[i];
      const tmpdir = path.join(dir, 'tmp');
      const left = processesWith(`TMPDIR=${tmpdir}`);
      const folders = fs.readdirSync(tmpdir).filter((f) => f.startsWith('kit-kernel-'));
      if (alive(kernelPid) || left.length || folders.length) {
        failures.push(`${c.sig} → ${c.target}: kernel ${kernelPid} ${alive(kernelPid) ? 'alive' : 'gone'}, processes left ${JSON.stringify(left)}, folders ${JSON.stringify(folders)}\n${log().slice(-600)}`);
      }
    }
    assert.deepEqual(failures, []);
    // A signal the runner can catch: exit status 130, the notebook reported as stopped, partial outputs saved.
    for (const [i, c] of cases.entries()) {
      if (c.sig === 'SIGKILL' || c.target === 'npm') continue;
      assert.equal(await runs[i].exit, 130, `${c.sig}: exit status`);
      const report = JSON.parse(fs.readFileSync(path.join(runs[i].dir, 'out', 'report.json'), 'utf8')) as Report;
      assert.equal(report.notebooks[0].status, 'kernel-died');
      assert.match(report.notebooks[0].failure!.error, new RegExp(`the runner was stopped \\(${c.sig}\\)`));
      const nb = JSON.parse(fs.readFileSync(path.join(runs[i].dir, 'out', 'notebooks', 'hang.ipynb'), 'utf8'));
      assert.deepEqual(nb.cells[0].outputs, [{ output_type: 'stream', name: 'stdout', text: 'started\n' }]);
    }
  } finally {
    for (const r of runs) {
      for (const pid of processesWith(`TMPDIR=${path.join(r.dir, 'tmp')}`)) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      fs.rmSync(r.dir, { recursive: true, force: true });
    }
  }
});
