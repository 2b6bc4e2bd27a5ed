/**
 * Axes for the static pictures of plotly figures (lib/display/static/svg.ts): linear, log and category scales from
 * the data, "nice" ticks (1, 2, 5 × 10^k), and plotly's conventions for ranges (a log axis's `range` is in log10 units,
 * `autorange: 'reversed'` flips it, bars start at zero).
 */

/** The kinds of axis the static renderer draws. */
export type AxisType = 'linear' | 'log' | 'category';

/** One tick: where (in pixels) and what it says. */
export interface Tick {
  px: number;
  label: string;
}

/** A scale from data values to pixels. */
export interface Scale {
  type: AxisType;
  /** pixel position of a data value, or null when it cannot be placed (not a number, ≤ 0 on a log axis, unknown category) */
  toPx(v: unknown): number | null;
  ticks: Tick[];
  /** the pixel span of one category (0 for numeric axes) */
  band: number;
  /** pixel position of the axis' lower end and upper end */
  px: [number, number];
}

/** What a scale is built from. */
export interface ScaleSpec {
  /** plotly's axis object (type, range, autorange, categoryarray) */
  axis: Record<string, unknown> | undefined;
  /** every value drawn on this axis */
  values: unknown[];
  /** pixel positions of the lower and upper ends of the axis (y axes: bottom, top) */
  px: [number, number];
  /** bars: the axis must include 0 */
  includeZero?: boolean;
}

const isNumeric = (v: unknown): boolean => (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)));

/** The axis type plotly would pick: the one asked for, else category when some value is not numeric, else linear. */
export function axisType(axis: Record<string, unknown> | undefined, values: unknown[]): AxisType {
  const t = axis?.type;
  if (t === 'log' || t === 'category' || t === 'linear') return t;
  return values.some((v) => v != null && !isNumeric(v)) ? 'category' : 'linear';
}

/** Tick values between lo and hi at a step of 1, 2 or 5 × 10^k, about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 6): { values: number[]; step: number } {
  if (!(hi > lo)) return { values: [lo], step: 1 };
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const values: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) values.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return { values, step };
}

/** A tick label: as many decimals as the step needs, thousands without exponent. */
export function formatTick(v: number, step: number): string {
  const decimals = Math.max(0, Math.min(10, -Math.floor(Math.log10(step) + 1e-9)));
  if (Math.abs(v) >= 1e6 || (v !== 0 && Math.abs(v) < 1e-4)) return v.toExponential(1).replace('e+', 'e');
  return v.toFixed(decimals);
}

function logTickLabel(exp: number, mantissa: number): string {
  const v = mantissa * 10 ** exp;
  if (exp >= -3 && exp <= 5) return String(Number(v.toPrecision(6)));
  return mantissa === 1 ? `1e${exp}` : `${mantissa}e${exp}`;
}

/** The extent of numbers, widened 5 % each side (plotly's padding for lines and markers); bars include 0. */
function numericExtent(nums: number[], includeZero: boolean): [number, number] {
  let lo = Math.min(...nums);
  let hi = Math.max(...nums);
  if (includeZero) { lo = Math.min(lo, 0); hi = Math.max(hi, 0); }
  if (lo === hi) { const d = lo === 0 ? 1 : Math.abs(lo) * 0.1; return [lo - d, hi + d]; }
  const pad = (hi - lo) * 0.05;
  return [includeZero && lo === 0 ? 0 : lo - pad, hi + pad];
}

function categoryScale(spec: ScaleSpec): Scale {
  const listed = Array.isArray(spec.axis?.categoryarray) ? (spec.axis!.categoryarray as unknown[]).map(String) : [];
  const cats = [...new Set([...listed, ...spec.values.filter((v) => v != null).map(String)])];
  const reversed = spec.axis?.autorange === 'reversed';
  const [a, b] = reversed ? [spec.px[1], spec.px[0]] : spec.px;
  const band = cats.length ? (b - a) / cats.length : 0;
  const at = (i: number) => a + band * (i + 0.5);
  return {
    type: 'category', band: Math.abs(band), px: spec.px,
    toPx: (v) => { const i = v == null ? -1 : cats.indexOf(String(v)); return i < 0 ? null : at(i); },
    ticks: cats.map((c, i) => ({ px: at(i), label: c })),
  };
}

/** A linear, log or category scale for one axis. */
export function buildScale(spec: ScaleSpec): Scale {
  const type = axisType(spec.axis, spec.values);
  if (type === 'category') return categoryScale(spec);
  const log = type === 'log';
  const nums = spec.values.filter(isNumeric).map(Number).filter((n) => !log || n > 0).map((n) => (log ? Math.log10(n) : n));
  const given = Array.isArray(spec.axis?.range) && spec.axis!.range.length === 2 && spec.axis!.range.every(isNumeric) ? (spec.axis!.range as unknown[]).map(Number) as [number, number] : null;
  let [lo, hi] = given ?? (nums.length ? numericExtent(nums, Boolean(spec.includeZero) && !log) : [0, 1]);
  if (spec.axis?.autorange === 'reversed' && !given) [lo, hi] = [hi, lo];
  const [p0, p1] = spec.px;
  const map = (t: number) => p0 + ((t - lo) / (hi - lo || 1)) * (p1 - p0);
  const toPx = (v: unknown) => {
    if (!isNumeric(v)) return null;
    const n = Number(v);
    if (log && n <= 0) return null;
    return map(log ? Math.log10(n) : n);
  };
  const [a, b] = lo < hi ? [lo, hi] : [hi, lo];
  let ticks: Tick[];
  if (log) {
    const decades = Math.floor(b) - Math.ceil(a) + 1;
    const mantissas = decades <= 2 ? [1, 2, 5] : [1];
    const every = Math.max(1, Math.ceil(decades / 8));
    ticks = [];
    for (let e = Math.floor(a); e <= Math.ceil(b); e++) {
      if ((e - Math.floor(a)) % every !== 0) continue;
      for (const m of mantissas) { const t = e + Math.log10(m); if (t >= a - 1e-9 && t <= b + 1e-9) ticks.push({ px: map(t), label: logTickLabel(e, m) }); }
    }
  } else {
    const { values, step } = niceTicks(a, b);
    ticks = values.map((v) => ({ px: map(v), label: formatTick(v, step) }));
  }
  return { type, toPx, ticks, band: 0, px: spec.px };
}
