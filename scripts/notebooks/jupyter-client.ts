/**
 * A tslab kernel in its own process group, driven over ZeroMQ (shell, control, iopub).
 * One kernel per notebook; `stop()` always leaves no process behind.
 */
import { ChildProcess, spawn } from 'child_process';
import { randomBytes, randomUUID } from 'crypto';
import * as fs from 'fs';
import * as net from 'net';
import * as os from 'os';
import * as path from 'path';
import * as zmq from 'zeromq';
import { KernelDiedError, KernelExit } from './kernel-death';
import { JupyterMessage, decodeMessage, encodeMessage, newMessage } from './protocol';

export { KernelDiedError, outOfMemoryLine } from './kernel-death';
export type { KernelExit } from './kernel-death';

export interface ConnectionInfo {
  /** 'ipc' (Unix sockets in the kernel's private folder) except on Windows, where it is 'tcp' */
  transport: 'tcp' | 'ipc';
  ip: string;
  shell_port: number;
  iopub_port: number;
  stdin_port: number;
  control_port: number;
  hb_port: number;
  key: string;
  signature_scheme: 'hmac-sha256';
  kernel_name: string;
}

export interface KernelOptions {
  /** working directory of the kernel (the notebook's folder) */
  cwd: string;
  /** extra environment variables */
  env?: Record<string, string>;
  /** seconds to wait for kernel_info_reply */
  startTimeout?: number;
  /** the tslab executable (default: the repo's node_modules/.bin/tslab) */
  tslabBin?: string;
  /** force TCP on 127.0.0.1 instead of Unix sockets (the default except on Windows) */
  transport?: 'tcp' | 'ipc';
}

/** Every live kernel process of this runner, so a signal handler can stop them all. */
export const liveKernels = new Set<KernelClient>();

/** Free TCP ports on 127.0.0.1 (held open together so they are distinct, then released). */
export async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Server>((resolve, reject) => {
      const s = net.createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** True when something accepts TCP connections on ip:port. */
function canConnect(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: ip, port });
    const done = (ok: boolean) => { sock.destroy(); resolve(ok); };
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
    sock.setTimeout(1000, () => done(false));
  });
}

/** Preloaded into each kernel: it exits when its stdin pipe from the runner closes. */
const KERNEL_GUARD = path.join(__dirname, 'kernel-guard.js');

/** The repository's tslab launcher. */
export function defaultTslabBin(): string {
  return path.resolve(__dirname, '..', '..', 'node_modules', '.bin', 'tslab');
}

type Listener = (msg: JupyterMessage) => void;

/**
 * Node flags that make a kernel write V8 CPU profiles (its main thread, and the worker threads that inherit its flags,
 * e.g. the augmentation worker) into KIT_KERNEL_CPU_PROF's folder when it ends: how the grading and notebook timings
 * were taken apart (open a .cpuprofile in Chrome's DevTools, Performance tab). NODE_OPTIONS cannot carry --cpu-prof.
 */
export function profileArgs(env: NodeJS.ProcessEnv): string[] {
  const dir = env.KIT_KERNEL_CPU_PROF;
  return dir ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(dir)] : [];
}

/** A client for one tslab kernel process. */
export class KernelClient {
  readonly session = randomUUID();
  readonly conn: ConnectionInfo;
  readonly connFile: string;
  private proc: ChildProcess | null = null;
  private shell = new zmq.Dealer({ linger: 0 });
  private control = new zmq.Dealer({ linger: 0 });
  private iopub = new zmq.Subscriber({ linger: 0 });
  private replyWaiters = new Map<string, (msg: JupyterMessage) => void>();
  private iopubListeners = new Set<Listener>();
  private exitWaiters = new Set<(exit: KernelExit) => void>();
  /** set once the process has exited */
  exit: KernelExit | null = null;
  /** messages dropped because their signature did not verify */
  badSignatures = 0;
  private closed = false;
  /** the kernel's own stdout/stderr outside any cell (startup failures) */
  log = '';

  private constructor(conn: ConnectionInfo, connFile: string) {
    this.conn = conn;
    this.connFile = connFile;
  }

  /**
   * Start a kernel, connect to it and wait for its kernel_info_reply. A start-up that fails (tslab can crash
   * while binding its sockets — a port taken by another process between our probe and its bind, or a
   * message arriving while a bind is in progress) is retried with fresh ports, up to `attempts` times.
   */
  static async start(opts: KernelOptions, attempts = 3): Promise<KernelClient> {
    let lastError: Error | null = null;
    for (let attempt = 1; attempt <= attempts; attempt++) {
      const k = await KernelClient.launch(opts);
      try {
        await k.connect(opts.startTimeout ?? 60);
        return k;
      } catch (e) {
        await k.stop();
        lastError = e as Error;
        const log = k.log.trim();
        if (log && !lastError.message.includes(log.slice(-200))) lastError = new Error(`${lastError.message}\nkernel log: ${log.slice(-800)}`);
        if (/cannot start /.test(k.log)) break; // the launcher itself is missing: retrying will not help
      }
    }
    throw new Error(`${lastError?.message ?? 'unknown error'}${attempts > 1 ? ` (after ${attempts} attempts)` : ''}`);
  }

  private static async launch(opts: KernelOptions): Promise<KernelClient> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-kernel-'));
    // Unix sockets in the kernel's own folder: no two kernels (of this runner or of concurrent runners) can
    // race for an address, as TCP ports probed free and then released can. tslab binds
    // `${transport}://${ip}:${port}`, i.e. the socket files <dir>/k:1 … <dir>/k:5 here.
    const ipc = process.platform !== 'win32' && opts.transport !== 'tcp';
    const [shell, iopub, stdin, control, hb] = ipc ? [1, 2, 3, 4, 5] : await freePorts(5);
    const conn: ConnectionInfo = {
      transport: ipc ? 'ipc' : 'tcp', ip: ipc ? path.join(dir, 'k') : '127.0.0.1',
      shell_port: shell, iopub_port: iopub, stdin_port: stdin, control_port: control, hb_port: hb,
      key: randomBytes(32).toString('hex'), signature_scheme: 'hmac-sha256', kernel_name: 'tslab',
    };
    const connFile = path.join(dir, 'connection.json');
    fs.writeFileSync(connFile, JSON.stringify(conn), { mode: 0o600 });
    const k = new KernelClient(conn, connFile);
    k.spawn(opts);
    return k;
  }

  private spawn(opts: KernelOptions): void {
    const bin = opts.tslabBin ?? defaultTslabBin();
    // detached: the kernel leads its own process group, so one kill(-pid) reaches anything it starts.
    // stdin is a pipe the runner never writes to: kernel-guard.js ends the kernel when it closes (the runner died).
    const env = { ...process.env, ...opts.env, KIT_KERNEL_GUARD: path.dirname(this.connFile) };
    const proc = spawn(process.execPath, [...profileArgs(env), '--require', KERNEL_GUARD, bin, 'kernel', '--config-path', this.connFile], {
      cwd: opts.cwd,
      env,
      detached: true,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    proc.stdin?.on('error', () => undefined); // EPIPE once the kernel is gone
    this.proc = proc;
    liveKernels.add(this);
    const keep = (b: Buffer) => { this.log = (this.log + b.toString()).slice(-20000); };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    const ended = (code: number | null, signal: NodeJS.Signals | null) => {
      if (this.exit) return;
      this.exit = { code, signal };
      liveKernels.delete(this);
      for (const w of this.exitWaiters) w(this.exit);
      this.exitWaiters.clear();
    };
    proc.on('exit', ended);
    // e.g. the tslab launcher is missing: fail now rather than after the start-up timeout
    proc.on('error', (err) => { this.log += `\ncannot start ${bin}: ${err.message}`; ended(null, null); });
  }

  /**
   * Wait until the kernel listens on all its ports or socket files (its binds are complete), so that no request reaches it
   * mid-bind; fails fast when the process exits or reports an error during start-up.
   */
  private async waitListening(deadline: number): Promise<void> {
    const c = this.conn;
    const pending = new Set([c.shell_port, c.iopub_port, c.control_port, c.stdin_port, c.hb_port]);
    while (pending.size > 0) {
      if (this.exit) throw new KernelDiedError(this.exit, this.log);
      this.throwIfStartupFailed();
      if (Date.now() > deadline) throw new Error(`tslab kernel: ports ${[...pending].join(', ')} not listening in time\n${this.log}`);
      for (const port of [...pending]) {
        const up = c.transport === 'ipc' ? fs.existsSync(`${c.ip}:${port}`) : await canConnect(c.ip, port);
        if (up) pending.delete(port);
      }
      if (pending.size > 0) await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** With KIT_RUNNER_DEBUG=1, start-up phases go to stderr with the time since launch (diagnosing slow starts). */
  private debug(what: string): void {
    if (process.env.KIT_RUNNER_DEBUG === '1') {
      process.stderr.write(`[kernel ${this.proc?.pid ?? '?'} +${((Date.now() - this.launched) / 1000).toFixed(1)} s] ${what}\n`);
    }
  }

  private readonly launched = Date.now();

  /**
   * tslab binds its five sockets concurrently and serves shell as soon as that one is bound; a request then
   * makes it publish 'busy' on iopub, which throws "Socket is blocked by a bind" when iopub's bind has not
   * settled yet in zeromq.js (the socket file or port already exists by then). The kernel stays alive but
   * never replies, so start-up watches its log and gives up on such a kernel at once (start() retries).
   */
  private throwIfStartupFailed(): void {
    if (/UnhandledPromiseRejection|EADDRINUSE|Socket is blocked/.test(this.log)) {
      throw new Error(`tslab failed while starting: ${this.log.trim().slice(-500)}`);
    }
  }

  /** `p`, or the start-up failure (see throwIfStartupFailed) or death of the kernel, whichever comes first. */
  private watchStartup<T>(p: Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const failed = new Promise<never>((_, reject) => {
      timer = setInterval(() => {
        try {
          if (this.exit) throw new KernelDiedError(this.exit, this.log);
          this.throwIfStartupFailed();
        } catch (e) {
          reject(e);
        }
      }, 100);
    });
    return Promise.race([p, failed]).finally(() => clearInterval(timer));
  }

  private async connect(timeoutSeconds: number): Promise<void> {
    await this.waitListening(Date.now() + timeoutSeconds * 1000);
    this.debug('sockets bound');
    const addr = (port: number) => `${this.conn.transport}://${this.conn.ip}:${port}`;
    this.shell.connect(addr(this.conn.shell_port));
    this.control.connect(addr(this.conn.control_port));
    this.iopub.connect(addr(this.conn.iopub_port));
    this.iopub.subscribe();
    void this.pump(this.shell, (m) => this.dispatchReply(m));
    void this.pump(this.control, (m) => this.dispatchReply(m));
    void this.pump(this.iopub, (m) => { for (const l of [...this.iopubListeners]) l(m); });
    const deadline = Date.now() + timeoutSeconds * 1000;
    // Give the binds a moment to settle in zeromq.js after the sockets appear (see throwIfStartupFailed).
    await new Promise((r) => setTimeout(r, 200));
    await this.watchStartup(this.request('kernel_info_request', {}, timeoutSeconds));
    this.debug('kernel_info_reply');
    // iopub is a PUB/SUB pair: a subscription joins late, so repeat a cheap request until its status arrives.
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`tslab kernel: no iopub message within ${timeoutSeconds}s\n${this.log}`);
      const seen = await this.watchStartup(new Promise<boolean>((resolve) => {
        let msgId = '';
        const timer = setTimeout(() => { this.iopubListeners.delete(l); resolve(false); }, Math.min(left, 500));
        const l: Listener = (m) => {
          if (m.parent_header.msg_id === msgId && m.header.msg_type === 'status') {
            clearTimeout(timer); this.iopubListeners.delete(l); resolve(true);
          }
        };
        this.iopubListeners.add(l);
        msgId = this.send('kernel_info_request', {}, 'shell');
      }));
      if (seen) {
        this.debug('iopub status seen');
        return;
      }
    }
  }

  private async pump(sock: zmq.Dealer | zmq.Subscriber, handle: (m: JupyterMessage) => void): Promise<void> {
    try {
      for await (const frames of sock) {
        let msg: JupyterMessage;
        try {
          msg = decodeMessage(frames as Buffer[], this.conn.key);
        } catch {
          this.badSignatures++;
          continue;
        }
        handle(msg);
      }
    } catch {
      // socket closed
    }
  }

  private dispatchReply(msg: JupyterMessage): void {
    const id = msg.parent_header.msg_id;
    const w = id ? this.replyWaiters.get(id) : undefined;
    if (w) {
      this.replyWaiters.delete(id!);
      w(msg);
    }
  }

  /** Send a request on shell or control; returns its msg_id. */
  send(msgType: string, content: unknown, channel: 'shell' | 'control' = 'shell'): string {
    const msg = newMessage(msgType, this.session, content);
    const sock = channel === 'shell' ? this.shell : this.control;
    sock.send(encodeMessage(msg, this.conn.key)).catch(() => undefined);
    return msg.header.msg_id;
  }

  /** Wait for the reply to msgId; rejects if the kernel exits or the timeout passes. */
  waitReply(msgId: string, timeoutSeconds: number): Promise<JupyterMessage> {
    return new Promise((resolve, reject) => {
      const done = (fn: () => void) => { clearTimeout(timer); this.replyWaiters.delete(msgId); this.exitWaiters.delete(onExit); fn(); };
      const timer = setTimeout(() => done(() => reject(new Error(`no reply within ${timeoutSeconds}s`))), timeoutSeconds * 1000);
      const onExit = (e: KernelExit) => done(() => reject(new KernelDiedError(e, this.log, this.killReason)));
      if (this.exit) return onExit(this.exit);
      this.exitWaiters.add(onExit);
      this.replyWaiters.set(msgId, (m) => done(() => resolve(m)));
    });
  }

  /** Send a request and wait for its reply. */
  request(msgType: string, content: unknown, timeoutSeconds: number, channel: 'shell' | 'control' = 'shell'): Promise<JupyterMessage> {
    return this.waitReply(this.send(msgType, content, channel), timeoutSeconds);
  }

  /** Listen to every iopub message; returns a function that stops listening. */
  onIopub(l: Listener): () => void {
    this.iopubListeners.add(l);
    return () => this.iopubListeners.delete(l);
  }

  /** Resolves when the process exits (immediately if it already has). */
  waitExit(timeoutMs = Infinity): Promise<KernelExit | null> {
    if (this.exit) return Promise.resolve(this.exit);
    return new Promise((resolve) => {
      const w = (e: KernelExit) => { clearTimeout(timer); resolve(e); };
      const timer = Number.isFinite(timeoutMs) ? setTimeout(() => { this.exitWaiters.delete(w); resolve(null); }, timeoutMs) : undefined;
      this.exitWaiters.add(w);
    });
  }

  /** Interrupt the running cell: tslab handles SIGINT (vm `breakOnSigint`), not interrupt_request. */
  interrupt(): void {
    this.signal('SIGINT');
  }

  /** Send a signal to the kernel's whole process group. */
  signal(sig: NodeJS.Signals): void {
    if (!this.proc?.pid || this.exit) return;
    try {
      process.kill(-this.proc.pid, sig);
    } catch {
      try { this.proc.kill(sig); } catch { /* already gone */ }
    }
  }

  /** why the runner killed this kernel, when it did */
  killReason: string | undefined;

  /** Synchronous last resort for exit handlers: SIGKILL the process group (the reason goes into the error). */
  killNow(reason = 'killed by the runner'): void {
    if (!this.exit) this.killReason ??= reason;
    this.signal('SIGKILL');
  }

  /** Shut down politely (shutdown_request on control), then SIGKILL the group after graceMs; close sockets. */
  async stop(graceMs = 1500): Promise<void> {
    if (this.proc && !this.exit) {
      this.send('shutdown_request', { restart: false }, 'control');
      const e = await this.waitExit(graceMs);
      if (!e) {
        this.signal('SIGKILL');
        await this.waitExit(3000);
      }
    }
    // tslab exits on shutdown but its process group may hold children: clear it anyway.
    if (this.proc?.pid) { try { process.kill(-this.proc.pid, 'SIGKILL'); } catch { /* none left */ } }
    if (!this.closed) {
      this.closed = true;
      this.proc?.stdin?.destroy();
      for (const s of [this.shell, this.control, this.iopub]) s.close();
      fs.rmSync(path.dirname(this.connFile), { recursive: true, force: true });
    }
    liveKernels.delete(this);
  }
}
