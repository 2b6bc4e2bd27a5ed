/**
 * Safe writing into a cache folder that several processes share: a lock file per item (`<item>.lock`, owner pid +
 * host + heartbeat), private temporary names that carry the owner (`<item>.tmp-<host>-<pid>-<token>`) so leftovers of
 * dead processes can be told apart and removed, atomic file writes, and one clear error for a folder that is not writable.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

/** Who holds a lock, as written in the lock file. */
export interface LockOwner {
  pid: number;
  host: string;
  token: string;
  /** The owner's temporary folder or file (so that waiters can show its progress). */
  tmp: string;
}

/** A held lock: its owner record (the private temporary path to build into) and how to let go. */
export interface HeldLock {
  owner: LockOwner;
  release(): void;
}

/** A lock not refreshed for this long belongs to a process that is gone (another machine, or a stuck one). */
const STALE_MS = 60_000;
const HEARTBEAT_MS = 5_000;
/** Temporary leftovers of other machines are removed after a day. */
const LEFTOVER_MS = 24 * 3600_000;

const HOST = os.hostname().replace(/[^A-Za-z0-9]/g, '') || 'host';

/** True while process `pid` exists on this machine. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'; // exists, owned by someone else
  }
}

/** The error for a cache location the kit cannot write, naming it and the fix. */
export function notWritable(dir: string, err: NodeJS.ErrnoException): Error {
  return new Error(
    `The kit's data cache ${dir} is not writable (${err.code}): the embedded images are written there on first use. ` +
      'Set KIT_CACHE_DIR to a writable folder (e.g. export KIT_CACHE_DIR=$HOME/.cache/transfer-kit) or make this one writable.',
  );
}

/** Whether an error means "this location cannot be written" (permissions, read-only file system). */
export function isNotWritable(e: unknown): e is NodeJS.ErrnoException {
  return ['EACCES', 'EPERM', 'EROFS'].includes((e as NodeJS.ErrnoException)?.code ?? '');
}

/** A private temporary sibling of `target`, named after this process. */
export function tmpName(target: string, token = crypto.randomBytes(4).toString('hex')): string {
  return `${target}.tmp-${HOST}-${process.pid}-${token}`;
}

/** Write a file so that readers see the old bytes or the new ones, never a part (a private temporary, then rename). */
export function writeFileAtomic(file: string, data: Uint8Array | string): void {
  const tmp = tmpName(file);
  try {
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

/** Host and pid of a temporary sibling's name: `<base>.tmp-<host>-<pid>-<token>` (or the kit's earlier `<base>.tmp-<pid>-<ms>`). */
function leftoverOwner(name: string, base: string): { host: string; pid: number } | undefined {
  if (!name.startsWith(`${base}.tmp-`) && !name.startsWith(`${base}.old-`)) return undefined;
  const rest = name.slice(base.length + 5);
  const current = /^([A-Za-z0-9]+)-(\d+)-/.exec(rest);
  if (current) return { host: current[1], pid: Number(current[2]) };
  const earlier = /^(\d+)-\d{13}$/.exec(rest); // written on this machine
  return earlier ? { host: HOST, pid: Number(earlier[1]) } : undefined;
}

/**
 * Remove temporary (`.tmp-`) and replaced (`.old-`) siblings of `target` left by processes that died: on this machine
 * when their pid is gone, from other machines after a day. Returns what was removed.
 */
export function removeLeftovers(target: string): string[] {
  const dir = path.dirname(target);
  const base = path.basename(target);
  const removed: string[] = [];
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    const m = leftoverOwner(name, base);
    if (!m) continue;
    const p = path.join(dir, name);
    let dead = m.host === HOST && !alive(m.pid);
    if (!dead && m.host !== HOST) {
      try {
        dead = Date.now() - fs.statSync(p).mtimeMs > LEFTOVER_MS;
      } catch {
        continue;
      }
    }
    if (!dead) continue;
    try {
      fs.rmSync(p, { recursive: true, force: true });
      removed.push(p);
    } catch { /* not ours to remove (a read-only cache): harmless */ }
  }
  return removed;
}

function readOwner(lockPath: string): { owner: LockOwner | null; ageMs: number } | undefined {
  try {
    const ageMs = Date.now() - fs.statSync(lockPath).mtimeMs;
    try {
      return { owner: JSON.parse(fs.readFileSync(lockPath, 'utf8')) as LockOwner, ageMs };
    } catch {
      return { owner: null, ageMs }; // being written right now, or garbage
    }
  } catch {
    return undefined; // gone
  }
}

/** Take away a lock whose owner is gone; only the one whose record was seen (a newer lock is put back). */
function breakStale(lockPath: string, seen: LockOwner | null): void {
  const aside = `${lockPath}.stale-${HOST}-${process.pid}-${crypto.randomBytes(4).toString('hex')}`;
  try {
    fs.renameSync(lockPath, aside);
  } catch {
    return; // someone else broke it first
  }
  const now = readOwner(aside)?.owner;
  if (seen && now && now.token !== seen.token) {
    try {
      fs.linkSync(aside, lockPath); // a live lock taken meanwhile: put it back (fails if yet another exists)
    } catch { /* leave it */ }
  }
  fs.rmSync(aside, { force: true });
}

/**
 * Take `<target>.lock`, waiting while a live process holds it (`onWait` is called once with its owner); a lock
 * whose owner died, or that was not refreshed for a minute, is broken. Throws `notWritable` for a read-only location.
 */
export async function acquireLock(target: string, onWait?: (owner: LockOwner) => void, maxWaitMs = 20 * 60_000): Promise<HeldLock> {
  const lockPath = `${target}.lock`;
  const owner: LockOwner = { pid: process.pid, host: HOST, token: crypto.randomBytes(8).toString('hex'), tmp: '' };
  owner.tmp = tmpName(target, owner.token);
  const t0 = Date.now();
  let told = false;
  for (;;) {
    try {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(lockPath, JSON.stringify(owner), { flag: 'wx' });
      return holding(lockPath, owner);
    } catch (e) {
      if (isNotWritable(e)) throw notWritable(path.dirname(target), e);
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const seen = readOwner(lockPath);
    if (!seen) continue;
    const dead = seen.owner ? (seen.owner.host === HOST && !alive(seen.owner.pid)) || seen.ageMs > STALE_MS : seen.ageMs > 5_000;
    if (dead) {
      breakStale(lockPath, seen.owner);
      continue;
    }
    if (seen.owner && !told && onWait) onWait(seen.owner);
    told = true;
    if (Date.now() - t0 > maxWaitMs) {
      throw new Error(`Waited ${Math.round(maxWaitMs / 60_000)} min for ${lockPath} (process ${seen.owner?.pid ?? '?'} on ${seen.owner?.host ?? '?'}); if no such process runs, delete that file`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function holding(lockPath: string, owner: LockOwner): HeldLock {
  const beat = setInterval(() => {
    try {
      const t = new Date();
      fs.utimesSync(lockPath, t, t);
    } catch { /* broken by someone: release() will notice */ }
  }, HEARTBEAT_MS);
  beat.unref();
  return {
    owner,
    release() {
      clearInterval(beat);
      if (readOwner(lockPath)?.owner?.token === owner.token) fs.rmSync(lockPath, { force: true });
    },
  };
}
