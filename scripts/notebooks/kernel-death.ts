/**
 * How a kernel ended, told plainly: out of memory (V8's fatal heap errors), killed by the runner (and why), killed
 * from outside, or an exit code with the tail of the kernel's log.
 */

/** How a kernel ended: exit code or signal. */
export interface KernelExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** The line of a kernel's log that says it ran out of memory (V8's fatal heap errors), if any. */
export function outOfMemoryLine(log: string): string | undefined {
  return log.split('\n').map((l) => l.trim()).find((l) => /heap out of memory|Reached heap limit|Fatal JavaScript (OOM|invalid size)|Allocation failed|out of memory/i.test(l));
}

/** Raised when the kernel process exits while a reply is awaited; says "out of memory" when V8 said so. */
export class KernelDiedError extends Error {
  constructor(readonly kernelExit: KernelExit, log: string, killReason?: string) {
    const how = `exit code ${kernelExit.code}${kernelExit.signal ? `, signal ${kernelExit.signal}` : ''}`;
    const oom = outOfMemoryLine(log);
    super(killReason ? `kernel died (${how}): ${killReason}` : oom
      ? `kernel died: out of memory (${how}) — V8 reported "${oom}". Load fewer or smaller images, use smaller batches, ` +
        'dispose tensors you no longer need (tf.tidy), or give the kernel more heap (NODE_OPTIONS=--max-old-space-size=4096).'
      : `kernel died (${how})${kernelExit.signal === 'SIGKILL' ? ' — killed from outside (the system may have run out of memory)' : ''}` +
        `${log.trim() ? `: ${log.trim().slice(-500)}` : ''}`);
  }
}
