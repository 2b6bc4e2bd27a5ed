// Stop works in a real kernel: the interrupt goes through the kit's own Jupyter client as Jupyter sends it to tslab
// (SIGINT to the kernel's process group, KernelClient.interrupt()), during kit.train, compareStrategies and a synchronous riskSweep. The
// cell must end within 2 s with the kit's message, leave no tensors behind, keep its partial result reachable, and the
// next cell must run — twice in the same kernel. (How tslab delivers the signal: /work/coord/interrupt.md, lib/interrupt.ts.)
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { KernelClient } from '../../scripts/notebooks/jupyter-client';
import type { JupyterMessage } from '../../scripts/notebooks/protocol';

const root = path.resolve(__dirname, '..', '..');
let kernel: KernelClient;

interface CellRun {
  status: string;
  stdout: string;
  stderr: string;
  secondsAfterStop: number | null;
  /**
   * progress updates the kernel sent after its reply had arrived (by the messages' header dates — iopub and shell are
   * separate sockets, so an update sent just before the reply can arrive after it): its loop did not stop
   */
  displaysAfterEnd: number;
}

/** Runs one cell; with `stopWhen`, sends the interrupt once `stopWhen(stdout, displays)` holds plus `delayMs`. */
async function runCell(code: string, stop?: { when: (displays: number) => boolean; delayMs: number }): Promise<CellRun> {
  const id = kernel.send('execute_request', { code, silent: false, store_history: true, user_expressions: {}, allow_stdin: false, stop_on_error: true });
  let stdout = '';
  let stderr = '';
  let displays = 0;
  let sentAt = 0;
  let endedAt = 0;
  const displayDates: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  const off = kernel.onIopub((m: JupyterMessage) => {
    if (m.parent_header.msg_id !== id) return;
    const c = m.content as { name?: string; text?: string };
    if (m.header.msg_type === 'stream') { if (c.name === 'stdout') stdout += c.text; else stderr += c.text; }
    if (m.header.msg_type === 'display_data' || m.header.msg_type === 'update_display_data') { displays++; displayDates.push(String(m.header.date)); }
    if (stop && !timer && stop.when(displays)) timer = setTimeout(() => { sentAt = Date.now(); kernel.interrupt(); }, stop.delayMs);
  });
  try {
    const reply = await kernel.waitReply(id, 600);
    endedAt = Date.now();
    await new Promise((r) => setTimeout(r, 1500)); // trailing iopub, and past tslab's 200 ms abort window after an error
    // sent (kernel clock = this machine's) after the reply had arrived; tslab's reply header date is not its send time
    const displaysAfterEnd = displayDates.filter((d) => Date.parse(d) > endedAt).length;
    return { status: String((reply.content as { status?: string }).status), stdout, stderr, secondsAfterStop: sentAt ? (endedAt - sentAt) / 1000 : null, displaysAfterEnd };
  } finally {
    clearTimeout(timer);
    off();
  }
}

before(async () => {
  // Full mode for the long cells (the suite runs with KIT_QUICK=1): training must still be running when Stop comes.
  kernel = await KernelClient.start({ cwd: path.join(root, 'notebooks'), env: { KIT_QUICK: '' }, startTimeout: 120 });
  const setup = await runCell([
    "import * as kit from '..';",
    "import * as tf from '@tensorflow/tfjs';",
    'await kit.initBackend();',
    "const data = await kit.loadView('digits-m-5-9', { split: 'train', mPerClass: 20, seed: 1 });",
    'const net = kit.buildPlainCnn({ inputShape: [32, 32, 3], numClasses: 5, seed: 1 });',
    "'ready'",
  ].join('\n'));
  assert.equal(setup.status, 'ok', setup.stderr);
});

after(async () => {
  await kernel?.stop();
});

/** Interrupts a 500-epoch kit.train once its progress bar has updated a few times; checks what the student sees. */
async function stopTraining(seed: number): Promise<void> {
  const baseline = await runCell('const tensorsBefore' + seed + ' = tf.memory().numTensors;\ntensorsBefore' + seed);
  assert.equal(baseline.status, 'ok', baseline.stderr);
  const cell = await runCell(`const history${seed} = await kit.train(net, data, { epochs: 500, lr: 1e-3, seed: ${seed} });\nhistory${seed}.epochs.length`,
    { when: (displays) => displays >= 3, delayMs: 300 });
  assert.ok(cell.secondsAfterStop !== null, 'the interrupt was sent while the cell ran');
  assert.equal(cell.status, 'error', 'the interrupted cell ends as an error (tslab: "Interrupted asynchronously")');
  assert.ok(cell.secondsAfterStop! <= 2, `the cell ended ${cell.secondsAfterStop} s after Stop (at most 2 s)`);
  assert.match(cell.stdout, /Interrupt received: kit\.train stops after epoch \d+ of 500, step \d+; its partial result is in kit\.lastInterrupt\(\)\.partial/);
  assert.match(cell.stderr, /Interrupted asynchronously/);
  assert.equal(cell.displaysAfterEnd, 0, 'the loop stopped with the cell (no progress updates after it ended)');
  const next = await runCell([
    'const last = kit.lastInterrupt();',
    'const partial = last?.partial as kit.History | undefined;',
    `console.log(JSON.stringify({ message: last?.message, rounds: partial?.epochs.length, steps: partial?.history.loss.length, leaked: tf.memory().numTensors - tensorsBefore${seed} }));`,
  ].join('\n'));
  assert.equal(next.status, 'ok', `the next cell runs: ${next.stderr}`);
  const seen = JSON.parse(next.stdout.trim().split('\n').pop()!);
  assert.match(seen.message, /^stopped by interrupt: kit\.train after epoch \d+ of 500, step \d+$/);
  assert.equal(typeof seen.rounds, 'number', 'the partial history is reachable');
  assert.equal(seen.leaked, 0, 'no tensors left behind by the stopped loop');
}

test('Stop during kit.train ends the cell within 2 s with the kit\'s message; the next cell runs; no tensors leak', { timeout: 600_000 }, async () => {
  await stopTraining(1);
});

test('a second Stop in the same kernel works too (the kernel stays usable)', { timeout: 600_000 }, async () => {
  await stopTraining(2);
  const plain = await runCell("'still usable: ' + (1 + 1)");
  assert.match(plain.stdout, /still usable: 2/);
});

// compareStrategies is one interruptible loop around its runs (learning-rate search, training, evaluation): Stop ends the
// comparison itself, and the message names it (with the inner loop where the stop landed).
test('Stop during compareStrategies stops the comparison itself, and the next cell runs', { timeout: 600_000 }, async () => {
  const cell = await runCell("const cmp = await kit.compareStrategies({ source: 'digits-m-0-4', target: 'digits-m-5-9', mPerClass: [10], seeds: 1 });\ncmp.rows.length",
    { when: (displays) => displays >= 1, delayMs: 300 });
  assert.equal(cell.status, 'error');
  assert.ok(cell.secondsAfterStop !== null && cell.secondsAfterStop <= 2, `ended ${cell.secondsAfterStop} s after Stop`);
  assert.match(cell.stdout, /Interrupt received: kit\.compareStrategies stops/);
  assert.equal(cell.displaysAfterEnd, 0, 'the comparison stopped with the cell');
  const next = await runCell("'usable after a stopped comparison: ' + (2 + 2)");
  assert.match(next.stdout, /usable after a stopped comparison: 4/);
});

// Long loops whose owners wire lib/interrupt.ts in (see /work/coord/interrupt.md); each turns into a test like the above.
// kit.riskSweep is synchronous JavaScript: tslab runs a cell's synchronous part with breakOnSigint, so V8 ends it at
// once — no pausePoint needed, and the kernel stays usable.
test('Stop during a risk-bound sweep (kit.riskSweep, synchronous) ends the cell within 2 s; the next cell runs', { timeout: 600_000 }, async () => {
  const cell = await runCell(
    "const rows = kit.riskSweep({ ...kit.DEFAULT_RISK_CONFIG, seed: 1, reps: 100000, methods: ['erm'] }, 't', [20, 40, 80, 160, 320]);\nrows.length",
    { when: () => true, delayMs: 2000 },
  );
  assert.ok(cell.secondsAfterStop !== null, 'the interrupt was sent while the sweep ran');
  assert.equal(cell.status, 'error');
  assert.ok(cell.secondsAfterStop! <= 2, `the cell ended ${cell.secondsAfterStop} s after Stop (at most 2 s)`);
  assert.match(cell.stderr, /interrupted/i);
  const next = await runCell("'usable after a stopped sweep: ' + (3 + 3)");
  assert.match(next.stdout, /usable after a stopped sweep: 6/);
});
