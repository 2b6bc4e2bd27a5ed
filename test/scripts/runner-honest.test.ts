// Issue #15: honest runner results — an error thrown in a timer or an unawaited promise after its cell returned
// fails the notebook; a Python notebook is refused with a clear message; an out-of-memory death says so and names
// the cell; a null in the cell list is reported, not crashed on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Report } from '../../scripts/notebooks/report';
import { runRunner, tmp, writeNotebook } from './runner-helpers';

test('late errors, a Python kernelspec, out of memory and a null cell: each reported as a failure of the right cell', { timeout: 300_000 }, async () => {
  const dir = tmp();
  try {
    const nb = (name: string, cells: unknown[], meta?: Record<string, unknown>) => writeNotebook(path.join(dir, `${name}.ipynb`), cells, meta);
    const files = [
      nb('timer', ['console.log("one");', 'setTimeout(() => { throw new Error("late boom"); }, 50);\nconsole.log("returned");',
        'await new Promise((r) => setTimeout(r, 1500));\nconsole.log("two");', 'console.log("three");']),
      nb('rejection', ['Promise.reject(new Error("nobody awaited me"));\nconsole.log("returned");']),
      nb('last-timer', ['console.log("one");', 'setTimeout(() => { throw new Error("after the last cell"); }, 100);']),
      nb('python', ['import numpy as np\nnp.zeros(3)'], {
        kernelspec: { name: 'python3', display_name: 'Python 3', language: 'python' }, language_info: { name: 'python' },
      }),
      nb('oom', ['console.log("before");', 'const keep: number[][] = [];\nwhile (true) keep.push(new Array(1e5).fill(Math.random()));']),
      nb('null-cell', ['console.log(1);', null, 'console.log(2);']),
    ];
    // A small heap for the kernels, so that the endless allocation ends quickly (the runner shares it: it needs little).
    const r = await runRunner([...files, '--out', path.join(dir, 'out'), '--jobs', '2'], { env: { NODE_OPTIONS: '--max-old-space-size=400' } });
    assert.equal(r.status, 1, r.stdout + r.stderr);
    const report = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'report.json'), 'utf8')) as Report;
    const by = Object.fromEntries(report.notebooks.map((n) => [n.name, n]));
    const fail = (name: string) => by[name]?.failure ?? assert.fail(`${name}: no failure in ${JSON.stringify(by[name])}`);
    assert.equal(by.timer.status, 'failed');
    // the timer of cell 1 fires while cell 2 runs: reported there (the kernel cannot tell whose timer it was)
    assert.equal(fail('timer').cellIndex, 2);
    assert.match(fail('timer').error, /late boom/);
    assert.match(fail('timer').error, /outside the cell's own code.*may come from an earlier cell/);
    assert.equal(by.timer.cellsRun, 3, 'execution stops there');
    assert.equal(fail('rejection').cellIndex, 0);
    assert.match(fail('rejection').error, /nobody awaited me/);
    assert.equal(fail('last-timer').cellIndex, 1);
    assert.match(fail('last-timer').error, /after the last cell/);
    const executed = JSON.parse(fs.readFileSync(path.join(dir, 'out', 'notebooks', 'last-timer.ipynb'), 'utf8'));
    assert.match(JSON.stringify(executed.cells[1].outputs), /after the last cell/, 'the late error is in the cell\'s outputs');

    assert.equal(by.python.status, 'failed');
    assert.match(fail('python').error, /kernel is 'python3' \(language python\).*TypeScript notebooks/);
    assert.equal(by.python.cellsRun, 0, 'no cell was run');

    assert.equal(by.oom.status, 'kernel-died');
    assert.equal(fail('oom').cellIndex, 1);
    assert.match(fail('oom').error, /^kernel died: out of memory/);
    assert.match(r.stdout, /oom\s+kernel-died\s+2\/2\s+[\d.]+\s+cell 1: kernel died: out of memory/);

    assert.equal(by['null-cell'].status, 'failed');
    assert.equal(fail('null-cell').cellIndex, 1);
    assert.match(fail('null-cell').error, /cells\[1\] is null, not a cell/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
