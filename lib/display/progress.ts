/**
 * A progress bar that redraws in place: in a notebook through display_id + update_display_data (throttled),
 * on a terminal with `\r`. Shows done/total, elapsed, rate, ETA and custom fields (epoch, loss, …).
 */
import { interruptCount } from '../interrupt';
import { DisplayChannel, MimeBundle, escapeHtml, getDisplayChannel, newDisplayId } from './channel';

export interface ProgressOptions {
  total: number;
  label?: string;
  /** minimum milliseconds between redraws (default 250: four per second) */
  throttleMs?: number;
  /** unit of the rate (default 'it') */
  unit?: string;
  /** clock in ms (tests) */
  now?: () => number;
  /** display channel (default: the current one) */
  channel?: DisplayChannel;
  /** terminal stream for the text fallback (default process.stderr) */
  stream?: NodeJS.WritableStream;
}

export interface ProgressState {
  label: string;
  done: number;
  total: number;
  elapsedMs: number;
  fields: Record<string, string | number>;
  unit: string;
}

/** Seconds as 42s, 3m05s or 1h02m. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

function formatField(v: string | number): string {
  return typeof v === 'number' && !Number.isInteger(v) ? String(Number(v.toPrecision(4))) : String(v);
}

/** The numbers a bar shows: fraction, rate per second and ETA in seconds. */
export function progressNumbers(s: ProgressState): { fraction: number; rate: number; eta: number } {
  const fraction = s.total > 0 ? Math.min(1, s.done / s.total) : 0;
  const rate = s.elapsedMs > 0 ? s.done / (s.elapsedMs / 1000) : 0;
  const eta = rate > 0 ? (s.total - s.done) / rate : NaN;
  return { fraction, rate, eta };
}

/** One text line: `label ████░░░░ 30/100 30% · 12s · 2.5 it/s · ETA 28s · loss 0.53`. */
export function formatProgress(s: ProgressState, width = 20): string {
  const { fraction, rate, eta } = progressNumbers(s);
  const filled = Math.round(fraction * width);
  const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
  const parts = [
    `${s.label ? s.label + ' ' : ''}${bar} ${s.done}/${s.total} ${Math.round(fraction * 100)}%`,
    formatDuration(s.elapsedMs / 1000),
    `${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)} ${s.unit}/s`,
    s.done >= s.total ? 'done' : `ETA ${formatDuration(eta)}`,
    ...Object.entries(s.fields).map(([k, v]) => `${k} ${formatField(v)}`),
  ];
  return parts.join(' · ');
}

/** The MIME bundle of a progress state: an HTML bar and the text line. */
export function progressBundle(s: ProgressState): MimeBundle {
  const { fraction, rate, eta } = progressNumbers(s);
  const fields = Object.entries(s.fields).map(([k, v]) => `<span><b>${escapeHtml(k)}</b> ${escapeHtml(formatField(v))}</span>`).join(' ');
  const html = `<div class="kit-progress" style="font-family:monospace;font-size:13px">
${s.label ? `<b>${escapeHtml(s.label)}</b> ` : ''}<progress value="${s.done}" max="${s.total}" style="width:240px;vertical-align:middle"></progress>
${s.done}/${s.total} (${Math.round(fraction * 100)}%) · ${formatDuration(s.elapsedMs / 1000)} · ${rate >= 10 ? rate.toFixed(0) : rate.toFixed(2)} ${escapeHtml(s.unit)}/s · ${s.done >= s.total ? 'done' : `ETA ${formatDuration(eta)}`}${fields ? ' · ' + fields : ''}
</div>`;
  return { 'text/html': html, 'text/plain': formatProgress(s) };
}

/** A progress bar updated in place (notebook or terminal). */
export class ProgressBar {
  private readonly opts: Required<Pick<ProgressOptions, 'throttleMs' | 'unit'>> & ProgressOptions;
  private readonly started: number;
  private readonly displayId = newDisplayId();
  private readonly channel: DisplayChannel;
  private state: ProgressState;
  private shown = false;
  private lastDraw = -Infinity;
  private pending = false;
  private closed = false;
  private readonly bornWith = interruptCount();

  constructor(opts: ProgressOptions) {
    if (!(opts.total >= 0)) throw new Error(`ProgressBar: total must be a number ≥ 0, got ${opts.total}`);
    this.opts = { throttleMs: 250, unit: 'it', ...opts };
    this.channel = opts.channel ?? getDisplayChannel();
    this.started = this.now();
    this.state = { label: opts.label ?? '', done: 0, total: opts.total, elapsedMs: 0, fields: {}, unit: this.opts.unit };
  }

  private now(): number {
    return this.opts.now ? this.opts.now() : Date.now();
  }

  /** Set progress to `done` (and fields); redraws at most every throttleMs, always at the end. */
  update(done: number, fields?: Record<string, string | number>): void {
    if (this.closed) return;
    const t = this.now();
    this.state = { ...this.state, done, elapsedMs: t - this.started, fields: { ...this.state.fields, ...fields } };
    this.pending = true;
    if (t - this.lastDraw >= this.opts.throttleMs || done >= this.state.total) this.draw(t);
  }

  /** Draw the last state if not yet drawn and finish the line. */
  close(): void {
    if (this.closed) return;
    if (this.pending || !this.shown) {
      this.state = { ...this.state, elapsedMs: this.now() - this.started };
      this.draw(this.now());
    }
    if (!this.channel.rich) (this.opts.stream ?? process.stderr).write('\n');
    this.closed = true;
  }

  /** The current state (for tests and logs). */
  get current(): ProgressState {
    return this.state;
  }

  private draw(t: number): void {
    if (interruptCount() !== this.bornWith) return; // Stop ended the cell: a draw now would land in the next one
    this.lastDraw = t;
    this.pending = false;
    if (this.channel.rich) {
      this.channel.display(progressBundle(this.state), { displayId: this.displayId, update: this.shown });
    } else {
      (this.opts.stream ?? process.stderr).write('\r\x1b[K' + formatProgress(this.state));
    }
    this.shown = true;
  }
}

/** The kit's one progress-bar factory: a bar of `total` units (`unit`/s in the rate), in a notebook or on a terminal. */
export function progressBar(total: number, label: string, unit = 'it'): ProgressBar {
  return new ProgressBar({ total, label, unit });
}
