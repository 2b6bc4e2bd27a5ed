import type { BenchRow } from './types';

/** Training images per second of the EfficientNet-style source before #16 (session 2, idle machine). */
export const EFFNET_BASELINE_TRAIN = 320;

function fmt(x: number | null | undefined): string {
  return x == null ? '—' : x >= 100 ? x.toFixed(0) : x.toFixed(1);
}

/** The table printed by `npm run bench`. */
export function formatTable(rows: BenchRow[]): string {
  const head = ['backend', 'model', 'px', 'threads', 'default', 'train img/s', 'infer img/s', 'load', 'note'];
  const body = rows.map((r) => [
    r.backend,
    r.model,
    String(r.imageSize),
    r.threads == null ? '' : String(r.threads),
    r.default ? 'yes' : '',
    fmt(r.trainImagesPerSec),
    fmt(r.inferImagesPerSec),
    r.loadAverage ? r.loadAverage[0].toFixed(1) : '',
    r.note ?? '',
  ]);
  const numeric = new Set([2, 3, 5, 6, 7]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => (numeric.has(i) ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

const train = (r: BenchRow) => r.trainImagesPerSec ?? 0;
const best = (rs: BenchRow[]) => rs.reduce((a, b) => (train(b) > train(a) ? b : a));
const threadsOf = (r: BenchRow) => r.threads ?? 1;
const label = (r: BenchRow) => `wasm (${threadsOf(r)} thread${threadsOf(r) === 1 ? '' : 's'}${r.default ? ', default' : ''})`;

/** The wasm rows of the reference net at `size`: the default configuration, the 1-thread one, the fastest. */
function wasmRows(rows: BenchRow[], size: number): { all: BenchRow[]; dflt?: BenchRow; single?: BenchRow } {
  const all = rows.filter((r) => r.model === 'reference-cnn' && r.backend === 'wasm' && r.imageSize === size && !r.busy);
  return { all, dflt: all.find((r) => r.default), single: all.find((r) => threadsOf(r) === 1) };
}

/**
 * Ratios of the reference net per image size: wasm/cpu (1 thread against the 1-thread cpu backend), and wasm's
 * default configuration and its other thread counts against PyTorch (best of 1–2 threads) and tensorflow.
 */
export function ratioLines(rows: BenchRow[]): string[] {
  const out: string[] = [];
  const sizes = [...new Set(rows.filter((r) => r.model === 'reference-cnn').map((r) => r.imageSize))].sort((a, b) => a - b);
  for (const size of sizes) {
    const { all, dflt, single } = wasmRows(rows, size);
    if (all.length === 0) continue;
    for (const other of ['cpu', 'pytorch-cpu', 'tensorflow']) {
      const o = rows.find((r) => r.model === 'reference-cnn' && r.backend === other && r.imageSize === size);
      if (o == null || !o.trainImagesPerSec || !o.inferImagesPerSec) continue;
      const ratio = (w: BenchRow) => `${(train(w) / o.trainImagesPerSec!).toFixed(2)}× training, ${((w.inferImagesPerSec ?? 0) / o.inferImagesPerSec!).toFixed(2)}× inference`;
      // The cpu backend runs one thread: compare like with like.
      const shown = other === 'cpu' ? [single ?? best(all)] : [dflt ?? best(all), ...all.filter((r) => r !== (dflt ?? best(all)))];
      out.push(`${size} px: ${shown.map((w) => `${label(w)}/${other} = ${ratio(w)}`).join('; ')}`);
    }
  }
  return out;
}

/** One target of issue #16 and whether this run meets it. */
export interface TargetCheck {
  target: string;
  value: number | null;
  goal: number;
  met: boolean | null;
}

/**
 * The targets of #16, from the default-configuration rows (wasm as a user gets it) against PyTorch CPU (best of 1–2
 * threads) measured in the same run; `met` is null when a row is missing.
 */
export function targetChecks(rows: BenchRow[]): TargetCheck[] {
  const torch = (size: number) => rows.find((r) => r.backend === 'pytorch-cpu' && r.model === 'reference-cnn' && r.imageSize === size);
  const checks: TargetCheck[] = [];
  const add = (target: string, value: number | null, goal: number) => checks.push({ target, value, goal, met: value == null ? null : value >= goal });
  for (const [size, goal] of [[32, 0.5], [64, 0.5], [128, 1]] as const) {
    const w = wasmRows(rows, size).dflt;
    const t = torch(size);
    add(`reference CNN ${size} px training, wasm default / PyTorch`, w && t?.trainImagesPerSec ? train(w) / t.trainImagesPerSec : null, goal);
  }
  const w32 = wasmRows(rows, 32).dflt;
  const t32 = torch(32);
  add('reference CNN 32 px inference, wasm default / PyTorch', w32?.inferImagesPerSec && t32?.inferImagesPerSec ? w32.inferImagesPerSec / t32.inferImagesPerSec : null, 1);
  const eff = rows.find((r) => r.model === 'effnet-digits-m-0-4' && r.backend === 'wasm' && r.default && !r.busy);
  add(`effnet-digits-m-0-4 training images/s, wasm default (3× the ${EFFNET_BASELINE_TRAIN} before)`, eff?.trainImagesPerSec ?? null, 3 * EFFNET_BASELINE_TRAIN);
  return checks;
}

/** `targetChecks` as lines of text. */
export function targetLines(rows: BenchRow[]): string[] {
  return targetChecks(rows).map((c) => {
    const v = c.value == null ? 'not measured' : c.goal >= 10 ? c.value.toFixed(0) : `${c.value.toFixed(2)}×`;
    const verdict = c.met == null ? '' : c.met ? ' — met' : ' — not met';
    return `target ${c.target} ≥ ${c.goal >= 10 ? c.goal : `${c.goal}×`}: ${v}${verdict}`;
  });
}

/**
 * With one core busy (`--busy`): the default configuration against one thread, per model and size, training and
 * inference — the default must not be more than 5 % slower than one thread.
 */
export function busyLines(rows: BenchRow[]): string[] {
  const busy = rows.filter((r) => r.busy && r.backend === 'wasm');
  const out: string[] = [];
  for (const key of [...new Set(busy.map((r) => `${r.model}@${r.imageSize}`))]) {
    const same = busy.filter((r) => `${r.model}@${r.imageSize}` === key);
    const dflt = same.find((r) => r.default);
    const single = same.find((r) => threadsOf(r) === 1);
    if (dflt == null || single == null || dflt === single) continue;
    const pct = (a: number | null, b: number | null) => (a && b ? `${(((a - b) / b) * 100).toFixed(1)} %` : '—');
    out.push(
      `busy neighbour, ${dflt.model} ${dflt.imageSize} px: ${label(dflt)} against 1 thread: training ${fmt(dflt.trainImagesPerSec)} vs ${fmt(single.trainImagesPerSec)} ` +
        `(${pct(dflt.trainImagesPerSec, single.trainImagesPerSec)}), inference ${fmt(dflt.inferImagesPerSec)} vs ${fmt(single.inferImagesPerSec)} (${pct(dflt.inferImagesPerSec, single.inferImagesPerSec)})`,
    );
  }
  return out;
}
