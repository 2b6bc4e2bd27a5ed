/**
 * The risk-bound notebook's figures: a sweep's medians, predictions, single runs and fitted log-log lines turned
 * into plain series for `logLogFigure` (lib/display/figures/risk.ts, the one place that knows plotly).
 */
import type { Data, Layout } from 'plotly.js';
import { LogLogSeries, logLogFigure } from '../display/figures/risk';
import { LogLogFit, SlopeSpec, SweepSummary, sweepSlope } from './summary';
import { SweepRow } from './sweep';
import { RiskMethod } from './tasks';

/** How each method is named and coloured in the figures and tables. */
export const METHOD_STYLE: Record<RiskMethod, { name: string; color: string }> = {
  erm: { name: 'transfer (least squares)', color: '#1f77b4' },
  pairwise: { name: 'transfer (pairwise moments)', color: '#8c564b' },
  moments: { name: 'transfer (TJJ moments)', color: '#9467bd' },
  scratch: { name: 'from scratch (OLS)', color: '#d62728' },
  minnorm: { name: 'from scratch (min-norm LS)', color: '#ff7f0e' },
  ridge: { name: 'from scratch (ridge)', color: '#e377c2' },
  oracle: { name: 'oracle (true B*)', color: '#2ca02c' },
};

/** A line to fit: one method's medians over the points `spec` selects. */
export interface FitSpec extends SlopeSpec {
  method: RiskMethod;
}

/** Options of `riskFigure`. */
export interface RiskFigureOptions {
  title: string;
  xTitle: string;
  /** x coordinate of a point (default: the swept value). */
  x?: SlopeSpec['x'];
  /** Methods to draw (default: every method in the summaries). */
  methods?: RiskMethod[];
  /** Fitted log-log lines to add (their slopes are returned in `fits`). */
  fits?: FitSpec[];
  /** Draw each method's median prediction as a dashed line (default true). */
  predicted?: boolean;
  /** Single repetitions, drawn as faint dots. */
  rows?: SweepRow[];
  /** Split each method's points into curves by this label (e.g. s => 'n = ' + s.n), coloured by group. */
  split?: (s: Pick<SweepRow, 'value' | 'nu' | 'n' | 't' | 'nt' | 'm'>) => string;
}

/** Colours of the curves when a figure is split into groups. */
const GROUP_COLORS = ['#d62728', '#ff7f0e', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b'];

/** A log-log figure of a sweep: medians, predictions, single runs and fitted lines (with their slopes). */
export function riskFigure(
  summaries: SweepSummary[],
  opts: RiskFigureOptions,
): { data: Partial<Data>[]; layout: Partial<Layout>; fits: Partial<Record<RiskMethod, LogLogFit>> } {
  const xOf = opts.x ?? ((s) => s.value);
  const methods = opts.methods ?? [...new Set(summaries.map((s) => s.method))];
  const series: LogLogSeries[] = [];
  const groups = opts.split ? [...new Set(summaries.map(opts.split))] : [''];
  for (const method of methods) {
    groups.forEach((group, gi) => {
      const inGroup = (s: Parameters<NonNullable<RiskFigureOptions['split']>>[0]) => !opts.split || opts.split(s) === group;
      const name = group ? `${METHOD_STYLE[method].name}, ${group}` : METHOD_STYLE[method].name;
      const color = group ? GROUP_COLORS[gi % GROUP_COLORS.length] : METHOD_STYLE[method].color;
      const mine = summaries.filter((s) => s.method === method && inGroup(s));
      if (opts.rows) {
        const pts = opts.rows.filter((r) => r.method === method && r.excess !== null && inGroup(r));
        series.push({ name: `${name}, single runs`, kind: 'runs', color, x: pts.map(xOf), y: pts.map((r) => r.excess) });
      }
      const med = mine.filter((s) => s.median !== null);
      series.push({ name: `${name}, median`, kind: 'median', color, x: med.map(xOf), y: med.map((s) => s.median) });
      const pred = mine.filter((s) => s.predicted !== null);
      if (opts.predicted !== false && pred.length > 0) series.push({ name: `${name}, predicted`, kind: 'predicted', color, x: pred.map(xOf), y: pred.map((s) => s.predicted) });
    });
  }
  const fits: Partial<Record<RiskMethod, LogLogFit>> = {};
  for (const spec of opts.fits ?? []) {
    const fit = sweepSlope(summaries, spec.method, { x: spec.x ?? xOf, where: spec.where });
    fits[spec.method] = fit;
    const xs = summaries.filter((s) => s.method === spec.method && s.median !== null && (spec.where?.(s) ?? true)).map(spec.x ?? xOf);
    const ends = [Math.min(...xs), Math.max(...xs)];
    series.push({ name: `${METHOD_STYLE[spec.method].name}, fit: slope ${fit.slope.toFixed(2)}`, kind: 'fit', x: ends, y: ends.map((x) => Math.exp(fit.intercept) * x ** fit.slope) });
  }
  return { ...logLogFigure(series, { title: opts.title, xTitle: opts.xTitle, yTitle: 'excess risk ‖β̂ − β₀‖²' }), fits };
}
