import { threadsPerJob } from '../../lib/backend/cores';

/**
 * Runs `run(i)` for every i in [0, count), at most `jobs` at a time, starting them in order of i; once `stopped()`
 * is true no further one starts (the ones running finish). The notebook runner, the grader and the references
 * command share it: each of their jobs is one kernel.
 */
export async function runJobs(count: number, jobs: number, run: (i: number) => Promise<void>, stopped: () => boolean = () => false): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count && !stopped()) await run(next++);
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(jobs, count)) }, worker));
}

/**
 * What each of `jobs` kernels run at once adds to its environment: its share of the cores for the kit's wasm
 * threads (lib/backend/cores.ts, threadsPerJob: one core left spare), unless KIT_WASM_THREADS is set — then every kernel inherits it.
 */
export function kernelThreadsEnv(jobs: number, env: NodeJS.ProcessEnv = process.env, cores?: number): Record<string, string> {
  if (env.KIT_WASM_THREADS != null && env.KIT_WASM_THREADS !== '') return {};
  return { KIT_WASM_THREADS: String(threadsPerJob(jobs, cores)) };
}
