/**
 * Debian's classic Jupyter Notebook server for scripts/try-frontend.ts, set up as a new student's would be: Jupyter
 * folders of its own (a clean HOME, its own data/config/runtime dirs), the kit's kernels installed with
 * `npm run install-kernel`, `jupyter notebook` started in the kit's folder. `stop()` leaves no process behind.
 */
import { ChildProcess, spawn, spawnSync } from 'child_process';
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { freePorts } from '../notebooks/jupyter-client';

/** What is missing for the browser check, or null when Jupyter Notebook and Chromium are both here. */
export function missingPrerequisites(chromium: string): string | null {
  const nb = spawnSync('jupyter', ['notebook', '--version'], { encoding: 'utf8', timeout: 60_000 });
  if (nb.status !== 0) return "Jupyter Notebook is not installed (apt-get install jupyter-notebook python3-nbclient python3-jupyter-client)";
  if (!fs.existsSync(chromium)) return `${chromium} is not installed (apt-get install chromium)`;
  return null;
}

/** A Jupyter Notebook server rooted at the kit's folder, with its own Jupyter folders and token. */
export class NotebookServer {
  readonly token = randomBytes(16).toString('hex');
  readonly env: NodeJS.ProcessEnv;
  private proc: ChildProcess | null = null;
  log = '';
  port = 0;

  /** `home`: an empty folder that becomes HOME and holds the Jupyter folders; `env`: extra variables for the kernels. */
  constructor(readonly kitRoot: string, readonly home: string, env: Record<string, string> = {}) {
    this.env = {
      ...process.env,
      HOME: home,
      JUPYTER_DATA_DIR: path.join(home, '.local', 'share', 'jupyter'),
      JUPYTER_CONFIG_DIR: path.join(home, '.jupyter'),
      JUPYTER_RUNTIME_DIR: path.join(home, '.local', 'share', 'jupyter', 'runtime'),
      ...env,
    };
    delete this.env.JUPYTER_PATH;
  }

  /** `npm run install-kernel` as the README says; returns its output. */
  installKernels(): string {
    const res = spawnSync('npm', ['run', '--silent', 'install-kernel'], { cwd: this.kitRoot, env: this.env, encoding: 'utf8' });
    if (res.status !== 0) throw new Error(`npm run install-kernel failed (${res.status}):\n${res.stdout}${res.stderr}`);
    return res.stdout.trim();
  }

  /** `jupyter kernelspec list` as this student's Jupyter sees it (Debian's jupyter-client package has the command). */
  kernelspecList(): string {
    const res = spawnSync('jupyter', ['kernelspec', 'list'], { env: this.env, encoding: 'utf8' });
    if (res.status === 0) return res.stdout.trim();
    // Without that package: the same application from python3-jupyter-client.
    const py = spawnSync('/usr/bin/python3', ['-c', 'from jupyter_client.kernelspecapp import KernelSpecApp; KernelSpecApp.launch_instance()', 'list'], { env: this.env, encoding: 'utf8' });
    return py.stdout.trim() || (res.stderr + py.stderr).trim();
  }

  /** Version of Debian's Notebook. */
  version(): string {
    return spawnSync('jupyter', ['notebook', '--version'], { env: this.env, encoding: 'utf8' }).stdout.trim();
  }

  /** Starts `jupyter notebook` in the kit's folder and waits until it answers. */
  async start(timeoutMs = 60_000): Promise<void> {
    [this.port] = await freePorts(1);
    this.proc = spawn('jupyter', ['notebook', '--no-browser', '--ip=127.0.0.1', `--port=${this.port}`, '--port-retries=0',
      `--NotebookApp.token=${this.token}`, ...(process.getuid?.() === 0 ? ['--allow-root'] : [])], { cwd: this.kitRoot, env: this.env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b: Buffer) => { this.log = (this.log + b.toString()).slice(-50_000); };
    this.proc.stdout?.on('data', keep);
    this.proc.stderr?.on('data', keep);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.proc.exitCode != null) throw new Error(`jupyter notebook exited (${this.proc.exitCode}):\n${this.log.slice(-3000)}`);
      try {
        const res = await fetch(`${this.url('api/status')}`);
        if (res.ok) return;
      } catch { /* not listening yet */ }
      if (Date.now() > deadline) throw new Error(`jupyter notebook did not answer within ${timeoutMs / 1000} s:\n${this.log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 300));
    }
  }

  /** A URL on this server, with the token. */
  url(rel: string): string {
    return `http://127.0.0.1:${this.port}/${rel}${rel.includes('?') ? '&' : '?'}token=${this.token}`;
  }

  /**
   * Resident memory (MB) of the processes the server started — its kernels, or only the one with `kernelId` (its
   * connection file is named after it) — summed; 0 when none run (Linux /proc).
   */
  kernelsRssMB(kernelId?: string): number {
    const pid = this.proc?.pid;
    if (!pid || !fs.existsSync('/proc/self/status')) return 0;
    const parent = new Map<number, number>();
    for (const e of fs.readdirSync('/proc')) {
      if (!/^\d+$/.test(e)) continue;
      try { parent.set(Number(e), Number(fs.readFileSync(`/proc/${e}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1])); } catch { /* gone */ }
    }
    const under = (p: number): boolean => { for (let q = parent.get(p); q; q = parent.get(q)) if (q === pid) return true; return false; };
    const mine = (p: number): boolean => {
      if (!kernelId) return true;
      try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(`kernel-${kernelId}.json`); } catch { return false; }
    };
    let kb = 0;
    for (const p of parent.keys()) {
      if (!under(p) || !mine(p)) continue;
      try { kb += Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0); } catch { /* gone */ }
    }
    return kb / 1024;
  }

  /** Stops the server and its kernels (SIGTERM, then SIGKILL for the whole process group). */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p?.pid || p.exitCode != null) return;
    const gone = new Promise<void>((r) => p.once('exit', () => r()));
    try { process.kill(-p.pid, 'SIGTERM'); } catch { /* already gone */ }
    await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
    try { process.kill(-p.pid, 'SIGKILL'); } catch { /* none left */ }
  }
}

/**
 * Keeps notebooks/ as it was: remembers every file's content and which extra files and folders exist, and puts it
 * back (a student's Run All and saves happen in the real folder, as they would).
 */
export class NotebookFolderGuard {
  private readonly files = new Map<string, Buffer>();
  private readonly existed = new Set<string>();

  constructor(readonly dir: string) {
    for (const name of fs.readdirSync(dir)) {
      const p = path.join(dir, name);
      this.existed.add(name);
      if (fs.statSync(p).isFile()) this.files.set(name, fs.readFileSync(p));
    }
  }

  /** The names of files whose content differs now (what `git status` would show modified). */
  changed(): string[] {
    return [...this.files].filter(([name, data]) => !fs.existsSync(path.join(this.dir, name)) || !fs.readFileSync(path.join(this.dir, name)).equals(data)).map(([n]) => n);
  }

  restore(): void {
    for (const [name, data] of this.files) {
      const p = path.join(this.dir, name);
      if (!fs.existsSync(p) || !fs.readFileSync(p).equals(data)) fs.writeFileSync(p, data);
    }
    for (const name of fs.readdirSync(this.dir)) {
      if (!this.existed.has(name)) fs.rmSync(path.join(this.dir, name), { recursive: true, force: true });
    }
  }
}
