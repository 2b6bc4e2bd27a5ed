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
