// scripts/lib/jobs.ts: the job pool the notebook runner, the grader and the references command share.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { kernelThreadsEnv, runJobs } from '../../scripts/lib/jobs';
import { availableCores, cgroupCpuQuota, threadsFor, threadsPerJob } from '../../lib/backend/cores';

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

test('the default leaves one core spare (1 thread on 2 cores, 2 from 3 up), and each kernel run at once gets that of its share of the cores, unless KIT_WASM_THREADS is set', () => {
  assert.deepEqual([1, 2, 3, 4, 16].map(threadsFor), [1, 1, 2, 2, 2], 'one core spare, at most DEFAULT_MAX_THREADS');
  assert.equal(threadsPerJob(1, 2), 1, 'one notebook on 2 cores: 1 thread');
  assert.equal(threadsPerJob(1, 4), 2, 'one notebook on 4 cores: 2 threads');
  assert.equal(threadsPerJob(2, 4), 1, 'npm start (2 at a time) on 4 cores: 1 each');
  assert.equal(threadsPerJob(2, 6), 2, 'on 6 cores: 2 each');
  assert.equal(threadsPerJob(3, 2), 1, 'never fewer than 1');
  assert.deepEqual(kernelThreadsEnv(2, {}, 8), { KIT_WASM_THREADS: '2' });
  assert.deepEqual(kernelThreadsEnv(2, {}, 2), { KIT_WASM_THREADS: '1' });
  assert.deepEqual(kernelThreadsEnv(2, { KIT_WASM_THREADS: '2' }, 2), {}, "the user's setting is inherited as it is");
  assert.deepEqual(kernelThreadsEnv(2, { KIT_WASM_THREADS: '' }, 2), { KIT_WASM_THREADS: '1' });
});

test('availableCores honours a cgroup CPU quota (v2 cpu.max, v1 cfs files, on the way up from the process\'s cgroup) and ignores a missing or unlimited one', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-cgroup-'));
  const write = (file: string, text: string) => {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  };
  try {
    const inContainer = '0::/\n';
    assert.equal(cgroupCpuQuota(root, inContainer), null, 'no cgroup files: no quota');
    assert.equal(cgroupCpuQuota(root, null), null, 'no /proc/self/cgroup either');
    assert.equal(availableCores(root, inContainer), os.availableParallelism());
    write('cpu.max', 'max 100000\n');
    assert.equal(cgroupCpuQuota(root, inContainer), null, 'v2 unlimited');
    write('cpu.max', '150000 100000\n');
    assert.equal(cgroupCpuQuota(root, inContainer), 1.5);
    assert.equal(cgroupCpuQuota(root, null), 1.5, 'the mount root is read when the process cgroup is unknown');
    assert.equal(availableCores(root, inContainer), 1, 'a pod limited to 1.5 CPUs: 1 core');
    write('cpu.max', '50000 100000\n');
    assert.equal(availableCores(root, inContainer), 1, 'half a CPU still counts as one');
    fs.rmSync(path.join(root, 'cpu.max'));
    // Under systemd (TLJH's limits.cpu): the quota sits on the user's service, below the root.
    const tljh = '0::/system.slice/jupyter-ann.service\n';
    write('system.slice/jupyter-ann.service/cpu.max', '100000 100000\n');
    write('system.slice/cpu.max', '400000 100000\n');
    assert.equal(cgroupCpuQuota(root, tljh), 1, 'the tightest quota on the way up');
    assert.equal(cgroupCpuQuota(root, '0::/system.slice/jupyter-bob.service\n'), 4, "a parent's quota applies to its children");
    fs.rmSync(path.join(root, 'system.slice'), { recursive: true });
    const v1 = '3:cpuset:/\n2:cpu,cpuacct:/kubepods/pod1\n';
    write('cpu,cpuacct/kubepods/pod1/cpu.cfs_quota_us', '-1\n');
    write('cpu,cpuacct/kubepods/pod1/cpu.cfs_period_us', '100000\n');
    assert.equal(cgroupCpuQuota(root, v1), null, 'v1 unlimited');
    write('cpu,cpuacct/kubepods/pod1/cpu.cfs_quota_us', '400000\n');
    assert.equal(cgroupCpuQuota(root, v1), 4);
    assert.equal(availableCores(root, v1), Math.min(4, os.availableParallelism()));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
