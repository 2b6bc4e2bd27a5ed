// scripts/lib/jobs.ts: the job pool the notebook runner, the grader and the references command share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runJobs } from '../../scripts/lib/jobs';

const tick = () => new Promise((r) => setTimeout(r, 2));

test('runJobs starts jobs in order, never more than `jobs` at once, and runs each once', async () => {
  const started: number[] = [];
  let running = 0;
  let peak = 0;
  await runJobs(7, 3, async (i) => {
    started.push(i);
    peak = Math.max(peak, ++running);
    await tick();
    running--;
  });
  assert.deepEqual(started, [0, 1, 2, 3, 4, 5, 6]);
  assert.equal(peak, 3);
});

test('runJobs starts nothing once stopped() is true; the jobs already running finish', async () => {
  const finished: number[] = [];
  let stop = false;
  await runJobs(10, 2, async (i) => {
    if (i === 2) stop = true;
    await tick();
    finished.push(i);
  }, () => stop);
  assert.deepEqual(finished.sort((a, b) => a - b), [0, 1, 2], 'job 2 stops the pool: 0 and 1 were running, nothing after 2 starts');
});

test('runJobs with no jobs to run returns at once; jobs ≥ count runs them all together', async () => {
  await runJobs(0, 4, async () => assert.fail('nothing to run'));
  let running = 0;
  let peak = 0;
  await runJobs(3, 8, async () => {
    peak = Math.max(peak, ++running);
    await tick();
    running--;
  });
  assert.equal(peak, 3);
});
