import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// How many threads the kit's wasm kernels use by default, and each kernel's share when scripts run several at once.
// No tfjs here: the notebook runner and the grader import it.

/**
 * The default number of threads for the kit's kernels on this machine: `threadsFor(availableCores())`. Scripts that
 * run several kernels at once give each its share instead (`threadsPerJob`).
 */
export function defaultWasmThreads(): number {
  return threadsFor(availableCores());
}

/**
 * Threads for `cores` cores: one core left spare, at most DEFAULT_MAX_THREADS, at least 1 — so 1 on 2 cores and 2 from
 * 3 cores up. On 2 free cores 2 threads trained the reference CNN 1.4–1.7× faster than 1 (sessions 7 and 8), but the
 * rule is that the default may never be more than 5 % slower than one thread with one core held by another job, and
 * on 2 cores it was: over 3 paired runs the reference CNN at 64 px trained at 0.90× and inferred at 0.91× of one
 * thread (docs/backend.md, "Session 8"). With a core to spare, one busy core still leaves the two threads two free
 * cores (not measured here: this sandbox has 2 cores).
 */
export function threadsFor(cores: number): number {
  return Math.max(1, Math.min(DEFAULT_MAX_THREADS, cores - 1));
}

/** The most threads used by default. More than 2 has not been measured. */
export const DEFAULT_MAX_THREADS = 2;

/**
 * Threads for each of `jobs` kernels run at once by the notebook runner or the grader: `threadsFor` their share of
 * the cores — two notebooks at a time on 2 or on 4 cores run one thread each, on 6 cores two each.
 */
export function threadsPerJob(jobs: number, cores = availableCores()): number {
  return threadsFor(Math.floor(cores / Math.max(1, jobs)));
}

/**
 * Cores this process may use: the CPUs it may run on (`os.availableParallelism`), fewer if a cgroup CPU quota
 * says so — a JupyterHub or Binder pod limited to 1 CPU sees all of the host's CPUs in os.cpus(). `cgroupRoot`
 * and `selfCgroup` (the text of /proc/self/cgroup) are for tests.
 */
export function availableCores(cgroupRoot = '/sys/fs/cgroup', selfCgroup?: string | null): number {
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const quota = cgroupCpuQuota(cgroupRoot, selfCgroup);
  return Math.max(1, quota == null ? cpus : Math.min(cpus, Math.floor(quota)));
}

/**
 * CPUs allowed by the tightest cgroup quota on the way from this process's cgroup up to the root (cgroup v2
 * `cpu.max`, else v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`); null if there is none. In a container the process's
 * cgroup is the mount's root; under systemd (The Littlest JupyterHub's `limits.cpu`) it is a path below it, named
 * in /proc/self/cgroup.
 */
export function cgroupCpuQuota(root: string, selfCgroup: string | null = readText('/proc/self/cgroup')): number | null {
  const lines = (selfCgroup ?? '').split('\n');
  const v2 = lines.find((l) => l.startsWith('0::'))?.slice(3) ?? '/';
  const v1Line = lines.map((l) => l.split(':')).find((f) => f.length >= 3 && f[1].split(',').includes('cpu'));
  const ratio = (quota: number, period: number) => (quota > 0 && period > 0 ? Math.max(1, quota / period) : null);
  const tightest = (base: string, rel: string, one: (dir: string) => number | null) => {
    let best: number | null = null;
    const parts = rel.split('/').filter(Boolean);
    for (let k = parts.length; k >= 0; k--) {
      const q = one(path.join(base, ...parts.slice(0, k)));
      if (q != null) best = best == null ? q : Math.min(best, q);
    }
    return best;
  };
  const fromV2 = tightest(root, v2, (dir) => {
    const f = readText(path.join(dir, 'cpu.max'))?.trim().split(/\s+/);
    return f == null || f[0] === 'max' ? null : ratio(Number(f[0]), Number(f[1] ?? 100000));
  });
  if (fromV2 != null) return fromV2;
  for (const controller of ['cpu', 'cpu,cpuacct']) {
    const fromV1 = tightest(path.join(root, controller), v1Line?.[2] ?? '/', (dir) => {
      const q = readText(path.join(dir, 'cpu.cfs_quota_us'));
      const p = readText(path.join(dir, 'cpu.cfs_period_us'));
      return q == null || p == null ? null : ratio(Number(q), Number(p));
    });
    if (fromV1 != null) return fromV1;
  }
  return null;
}

function readText(file: string): string | null {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}
