// End-to-end runner tests: real tslab kernels on the fixture notebooks (success, type error, runtime throw,
// endless loop hit by the cell timeout, process.exit mid-run, display updates, parameters, tags). Signals: runner-kill.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Notebook, cellSource, validateNotebook } from '../../scripts/lib/nbformat';
import type { Report } from '../../scripts/notebooks/report';
import { KernelClient, profileArgs } from '../../scripts/notebooks/jupyter-client';

const root = path.resolve(__dirname, '..', '..');
const fixtures = path.join(root, 'test', 'fixtures', 'notebooks');
const runner = path.join(root, 'scripts', 'notebooks.ts');

function runRunner(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runner, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b) => { stdout += b; });
    child.stderr.on('data', (b) => { stderr += b; });
    const timer = setTimeout(() => child.kill('SIGTERM'), 110_000);
    child.on('exit', (status) => { clearTimeout(timer); resolve({ status, stdout, stderr }); });
  });
}

test('the runner executes every fixture and reports each outcome', { timeout: 300_000 }, async () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-runner-'));
  const out2 = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-runner-'));
  const out3 = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-runner-'));
  const files = ['ok', 'type-error', 'throw', 'exit'].map((n) => path.join(fixtures, `${n}.ipynb`));
  const hang = path.join(fixtures, 'hang.ipynb');
  // the finite fixtures (default limits), the endless loop against the cell timeout and against the notebook
  // timeout: three runners at once (their kernels talk over Unix sockets in private folders, so nothing is
  // shared between them, as free TCP ports probed and released were)
  const [res, res2, res3] = await Promise.all([
    runRunner([...files, '--out', out, '--jobs', '2', '--quick', '--param', 'steps=5', '--param', 'word="hi there"']),
    runRunner([hang, '--out', out2, '--timeout', '8']),
    runRunner([hang, '--out', out3, '--timeout', '100', '--notebook-timeout', '20']),
  ]);
  assert.equal(res.status, 1, `runner exit status (a failing notebook → 1)\n${res.stdout}\n${res.stderr}`);
  for (const [r, dir, why] of [[res2, out2, /cell timeout: interrupted after 8 s/], [res3, out3, /notebook timeout/]] as const) {
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const h = (JSON.parse(fs.readFileSync(path.join(dir, 'report.json'), 'utf8')) as Report).notebooks[0];
    assert.equal(h.status, 'timeout', JSON.stringify(h));
    assert.equal(h.failure!.cellIndex, 1);
    assert.match(h.failure!.error, why);
    assert.ok(h.seconds < 60, `timeout bounded (${h.seconds}s)`);
    // partial outputs are kept
    const nb = JSON.parse(fs.readFileSync(path.join(dir, 'notebooks', 'hang.ipynb'), 'utf8')) as Notebook;
    assert.deepEqual(nb.cells[0].outputs, [{ output_type: 'stream', name: 'stdout', text: 'started\n' }]);
    assert.deepEqual(validateNotebook(nb), []);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
  const by = Object.fromEntries(report.notebooks.map((n) => [n.name, n]));
  assert.equal(report.quick, true);
  assert.deepEqual(Object.fromEntries(report.notebooks.map((n) => [n.name, n.status])),
    { exit: 'kernel-died', ok: 'ok', throw: 'failed', 'type-error': 'failed' });
  assert.match(res.stdout, /notebook\s+status\s+cells\s+seconds/, 'summary table printed');

  // TypeScript diagnostics (a stderr stream from tslab) are the failure's error text
  assert.equal(by['type-error'].failure?.cellIndex, 1);
  assert.match(by['type-error'].failure!.error, /Type 'string' is not assignable to type 'number'/);
  assert.match(by['type-error'].failure!.source, /const x: number/);
  assert.match(by.throw.failure!.error, /Error: boom at runtime/);
  assert.equal(by.throw.cellsRun, 1, 'execution stops at the first failing cell');
  assert.match(by.exit.failure!.error, /kernel died \(exit code 1\)/);

  // executed notebooks: valid nbformat 4.5, ids kept, partial outputs saved
  const read = (n: string) => JSON.parse(fs.readFileSync(path.join(out, 'notebooks', `${n}.ipynb`), 'utf8')) as Notebook;
  for (const n of Object.keys(by)) assert.deepEqual(validateNotebook(read(n)), [], `${n}.ipynb is valid nbformat 4.5`);
  const src = JSON.parse(fs.readFileSync(files[0], 'utf8')) as Notebook;
  const ok = read('ok');
  assert.deepEqual(ok.cells.map((c) => c.id).filter((id) => id !== 'injected-parameters'), src.cells.map((c) => c.id));
  const outputsOf = (i: number) => ok.cells[i].outputs as Array<Record<string, any>>;
  // parameters: injected after the parameters cell, tagged, as assignments
  const pIndex = ok.cells.findIndex((c) => c.metadata.tags?.includes('parameters'));
  assert.equal(ok.cells[pIndex + 1].id, 'injected-parameters');
  assert.deepEqual(ok.cells[pIndex + 1].metadata.tags, ['injected-parameters']);
  assert.match(cellSource(ok.cells[pIndex + 1]), /steps = 5;\n\s*word = "hi there";/);
  assert.deepEqual(outputsOf(pIndex + 2), [{ output_type: 'stream', name: 'stdout', text: 'steps=5 word=hi there quick=1\n' }]);
  // execution counts increase over executed cells
  const counts = ok.cells.filter((c) => c.cell_type === 'code' && c.execution_count !== null).map((c) => c.execution_count as number);
  assert.deepEqual(counts, counts.map((_, i) => i + 1));
  // display updates in place, even from a later cell; \r progress collapsed
  const displayCell = ok.cells.findIndex((c) => cellSource(c).includes('newDisplay'));
  assert.deepEqual(outputsOf(displayCell), [{ output_type: 'display_data', data: { 'text/plain': 'third' }, metadata: {} }]);
  assert.deepEqual(outputsOf(displayCell + 1), [{ output_type: 'stream', name: 'stdout', text: 'loading 3/3\n' }]);
  // tags: skip-execution not run, raises-exception ran and failed without failing the notebook
  const skipped = ok.cells.find((c) => c.metadata.tags?.includes('skip-execution'))!;
  assert.equal(skipped.execution_count, null);
  assert.deepEqual(skipped.outputs, []);
  const raising = ok.cells.find((c) => c.metadata.tags?.includes('raises-exception'))!;
  assert.match(JSON.stringify(raising.outputs), /expected failure/);
  // the library's ProgressBar inside a real kernel: one display_data, updated to its final state
  const barCell = ok.cells.find((c) => cellSource(c).includes('ProgressBar'))!;
  const barOut = barCell.outputs as Array<{ output_type: string; data: Record<string, string> }>;
  assert.equal(barOut.length, 1);
  assert.equal(barOut[0].output_type, 'display_data');
  assert.match(barOut[0].data['text/plain'], /^epochs .* 3\/3 100%.*done · loss 0\.3333$/);
  assert.match(barOut[0].data['text/html'], /<progress value="3" max="3"/);
  // multi-MIME bundles from the library survive the kernel as one display_data each
  const helpers = ok.cells.find((c) => cellSource(c).includes('showTable('))!;
  assert.deepEqual((helpers.outputs as Array<{ output_type: string; data: object }>).map((o) => [o.output_type, Object.keys(o.data).sort()]), [
    ['display_data', ['text/html', 'text/plain']],
    ['display_data', ['application/vnd.plotly.v1+json', 'text/plain']],
    ['display_data', ['image/png', 'text/plain']],
  ]);
  // partial outputs kept for the failures
  assert.deepEqual(read('exit').cells[0].outputs, [{ output_type: 'stream', name: 'stdout', text: 'about to exit\n' }]);
  assert.equal(read('type-error').cells[2].execution_count, null);
  fs.rmSync(out, { recursive: true, force: true });
});

test('kernels started together each get private Unix sockets, run code, and leave nothing behind', { timeout: 120_000 }, async () => {
  const kernels = await Promise.all([0, 1, 2].map(() => KernelClient.start({ cwd: root, startTimeout: 60 })));
  try {
    const dirs = kernels.map((k) => path.dirname(k.connFile));
    assert.equal(new Set(dirs).size, 3);
    for (const k of kernels) {
      assert.equal(k.conn.transport, 'ipc');
      assert.ok(fs.existsSync(`${k.conn.ip}:${k.conn.shell_port}`), 'the shell socket file exists');
    }
    const replies = await Promise.all(kernels.map((k, i) => k.request('execute_request', { code: `${i} + 40`, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }, 60)));
    for (const r of replies) assert.equal((r.content as { status: string }).status, 'ok');
  } finally {
    await Promise.all(kernels.map((k) => k.stop()));
  }
  for (const k of kernels) assert.ok(!fs.existsSync(path.dirname(k.connFile)), 'the socket folder is removed');
});

test('KIT_KERNEL_CPU_PROF=DIR: the kernel writes a V8 CPU profile there when it ends', { timeout: 120_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-prof-'));
  assert.deepEqual(profileArgs({}), [], 'no flag without the variable');
  const k = await KernelClient.start({ cwd: root, startTimeout: 60, env: { KIT_KERNEL_CPU_PROF: dir } });
  try {
    const r = await k.request('execute_request', { code: 'let s = 0; for (let i = 0; i < 1e6; i++) s += i; s', silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true }, 60);
    assert.equal((r.content as { status: string }).status, 'ok');
  } finally {
    await k.stop();
  }
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'));
  assert.ok(files.length >= 1, `a .cpuprofile in ${dir}: ${fs.readdirSync(dir).join(', ') || 'none'}`);
  const prof = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8')) as { nodes: { callFrame: { url: string } }[]; samples: number[] };
  assert.ok(prof.samples.length > 0, 'the profile has samples');
  assert.ok(prof.nodes.some((n) => n.callFrame.url.includes('typescript')), "tslab's TypeScript compile is in it");
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a kernel that logs "Socket is blocked by a bind" and stays silent is given up at once, not after the start timeout', { timeout: 60_000 }, async () => {
  const started = Date.now();
  await assert.rejects(
    KernelClient.start({ cwd: root, startTimeout: 40, tslabBin: path.join(fixtures, '..', 'fake-tslab-blocked.js') }, 2),
    /tslab failed while starting[\s\S]*Socket is blocked[\s\S]*after 2 attempts/,
  );
  assert.ok(Date.now() - started < 15_000, `gave up after ${Date.now() - started} ms`);
});
