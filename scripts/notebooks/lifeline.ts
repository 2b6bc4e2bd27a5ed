/**
 * The runner ends when the program that started it ends. `npm run notebooks` runs npm → sh → tsx → runner, and a
 * SIGTERM to npm (`timeout npm run …`, a cancelled CI job) ends npm and sh but reaches neither tsx nor the runner,
 * which would keep running with their kernels. So the runner notes the processes between itself and npm (or just
 * its parent when not run by npm) and checks each second that they are still there, as they were.
 */
import * as fs from 'fs';
import * as path from 'path';

interface Link {
  pid: number;
  /** the parent it had when the runner started (undefined: not checked, for the top of the chain) */
  ppid?: number;
  name: string;
}

/** ppid and state of a process from /proc (Linux); undefined when it is gone or /proc is absent. */
function procStat(pid: number): { ppid: number; state: string } | undefined {
  try {
    const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0], ppid: Number(fields[1]) };
  } catch {
    return undefined;
  }
}

function commandName(pid: number): string {
  try {
    // npm sets its process title, so its cmdline may be one string: "npm run notebooks …"
    const args = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const words = [...(args[0] ?? '').split(' ').slice(0, 1), ...args.slice(1, 3)];
    return words.some((a) => /^(npm|npm-cli\.js)$/.test(path.basename(a))) ? 'npm' : path.basename(words[0] ?? '?');
  } catch {
    return '?';
  }
}

/** The processes to watch: the parent, and when run by npm every process up to and including npm. */
export function lifelineChain(): Link[] {
  const chain: Link[] = [];
  let pid = process.ppid;
  const underNpm = Boolean(process.env.npm_lifecycle_event);
  for (let depth = 0; depth < 8 && pid > 1; depth++) {
    const st = procStat(pid);
    if (!st) break;
    const name = commandName(pid);
    chain.push({ pid, ppid: st.ppid, name });
    if (!underNpm || name === 'npm') break;
    pid = st.ppid;
  }
  if (underNpm && chain.at(-1)?.name !== 'npm') chain.splice(1); // npm not found: watch the parent only
  if (chain.length) chain[chain.length - 1].ppid = undefined; // the top may be re-parented (nohup), as long as it lives
  return chain;
}

/**
 * Calls `onGone` (once) when a process of the chain has ended, or was re-parented because a process between it
 * and npm ended. Without /proc (macOS, Windows) it watches the runner's parent id instead. Returns a stop function.
 */
export function watchLifeline(onGone: (why: string) => void, intervalMs = 1000): () => void {
  const chain = lifelineChain();
  const firstParent = process.ppid;
  const timer = setInterval(() => {
    let why: string | undefined;
    if (chain.length === 0) {
      if (process.ppid !== firstParent) why = `the runner's parent (pid ${firstParent}) ended`;
    } else {
      if (process.ppid !== chain[0].pid) why = `the runner's parent (${chain[0].name}, pid ${chain[0].pid}) ended`;
      for (const link of chain) {
        if (why) break;
        const st = procStat(link.pid);
        if (!st || st.state === 'Z') why = `${link.name} (pid ${link.pid}), which started the runner, ended`;
        else if (link.ppid !== undefined && st.ppid !== link.ppid) why = `the process that started ${link.name} (pid ${link.ppid}) ended`;
      }
    }
    if (why) {
      clearInterval(timer);
      onGone(why);
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
