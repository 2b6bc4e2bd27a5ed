/**
 * Live progress of running notebooks: one line redrawn in place on a TTY, plain lines otherwise.
 */
export interface ProgressState {
  name: string;
  done: number;
  total: number;
  started: number;
}

/** Progress display for concurrently running notebooks. */
export class RunProgress {
  private running = new Map<string, ProgressState>();
  private timer: NodeJS.Timeout | null = null;
  constructor(private out: NodeJS.WriteStream = process.stderr, private tty = Boolean(process.stderr.isTTY)) {
    if (this.tty) this.timer = setInterval(() => this.draw(), 500);
  }

  start(name: string, total = 0): void {
    this.running.set(name, { name, done: 0, total, started: Date.now() });
    if (!this.tty) this.out.write(`▶ ${name}\n`);
    this.draw();
  }

  cell(name: string, done: number, total: number, seconds: number): void {
    const s = this.running.get(name);
    if (!s) return;
    s.done = done; s.total = total;
    if (!this.tty) this.out.write(`  ${name}: cell ${done}/${total} (${seconds.toFixed(1)} s)\n`);
    this.draw();
  }

  finish(name: string, line: string): void {
    this.running.delete(name);
    this.clear();
    this.out.write(line + '\n');
    this.draw();
  }

  private clear(): void {
    if (this.tty) this.out.write('\r\x1b[K');
  }

  private draw(): void {
    if (!this.tty) return;
    const cols = this.out.columns || 100;
    const parts = [...this.running.values()].map((s) => `${s.name} ${s.done}/${s.total || '?'} ${((Date.now() - s.started) / 1000).toFixed(0)}s`);
    this.out.write('\r\x1b[K' + (parts.length ? `⏳ ${parts.join(' │ ')}` : '').slice(0, cols - 1));
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }
}
