/**
 * Figures for the risk-bound notebook: medians of a sweep on log-log axes, the closed-form prediction as a
 * dashed line, faint dots for the single repetitions, and fitted log-log lines whose slopes are returned.
 * Returns plotly data + layout for `showPlot` (lib/display); nothing here draws by itself.
 */
import type { Data, Layout } from 'plotly.js';
import { RiskMethod } from './tasks';
import { LogLogFit, SweepRow, SweepSummary, fitLogLogSlope } from './sweep';

/** How each method is named and coloured in the figures. */
export const METHOD_STYLE: Record<RiskMethod, { name: string; color: string }> = {
  als: { name: 'transfer (ALS)', color: '#1f77b4' },
  moments: { name: 'transfer (TJJ moments)', color: '#9467bd' },
  pairwise: { name: 'transfer (pairwise moments)', color: '#8c564b' },
  scratch: { name: 'from scratch (OLS)', color: '#d62728' },
  oracle: { name: 'oracle (true B*)', color: '#2ca02c' },
};

/** A line to fit: one method's medians over the points with minX ≤ x ≤ maxX. */
export interface FitSpec {
  method: RiskMethod;
  minX?: number;
  maxX?: number;
}

/** Options of `riskFigure`. */
export interface RiskFigureOptions {
  title: string;
  xTitle: string;
  /** x coordinate of a summary (default: the swept value); also applied to rows via their fields. */
  x?: (s: Pick<SweepSummary, 'value' | 'nu' | 'nt' | 'm'>) => number;
  /** Methods to draw (default: every method in the summaries). */
  methods?: RiskMethod[];
  /** Fitted log-log lines to add (their slopes are returned in `fits`). */
  fits?: FitSpec[];
  /** Draw each method's median prediction as a dashed line (default true). */
  predicted?: boolean;
  /** Single repetitions, drawn as faint dots. */
  rows?: SweepRow[];
}

/** A log-log figure of a sweep: medians, predictions, single runs and fitted lines (with their slopes). */
export function riskFigure(
  summaries: SweepSummary[],
  opts: RiskFigureOptions,
): { data: Partial<Data>[]; layout: Partial<Layout>; fits: Partial<Record<RiskMethod, LogLogFit>> } {
  const xOf = opts.x ?? ((s) => s.value);
  const methods = opts.methods ?? [...new Set(summaries.map((s) => s.method))];
  const data: Partial<Data>[] = [];
  for (const method of methods) {
    const style = METHOD_STYLE[method];
    const sel = summaries.filter((s) => s.method === method && s.median !== null);
    if (opts.rows) {
      const pts = opts.rows.filter((r) => r.method === method && r.excess !== null);
      data.push({
        type: 'scatter', mode: 'markers', x: pts.map((r) => xOf(r)), y: pts.map((r) => r.excess),
        marker: { color: style.color, size: 4, opacity: 0.25 }, name: `${style.name}, single runs`, showlegend: false, hoverinfo: 'skip',
      });
    }
    data.push({ type: 'scatter', mode: 'lines+markers', x: sel.map(xOf), y: sel.map((s) => s.median), name: `${style.name}, median`, line: { color: style.color } });
    const pred = summaries.filter((s) => s.method === method && s.predicted !== null);
    if (opts.predicted !== false && pred.length > 0) {
      data.push({ type: 'scatter', mode: 'lines', x: pred.map(xOf), y: pred.map((s) => s.predicted), name: `${style.name}, predicted`, line: { color: style.color, dash: 'dash' } });
    }
  }
  const fits: Partial<Record<RiskMethod, LogLogFit>> = {};
  for (const spec of opts.fits ?? []) {
    const sel = summaries.filter(
      (s) => s.method === spec.method && s.median !== null && xOf(s) >= (spec.minX ?? -Infinity) && xOf(s) <= (spec.maxX ?? Infinity),
    );
    const xs = sel.map(xOf);
    const fit = fitLogLogSlope(xs, sel.map((s) => s.median));
    fits[spec.method] = fit;
    const ends = [Math.min(...xs), Math.max(...xs)];
    data.push({
      type: 'scatter', mode: 'lines', x: ends, y: ends.map((x) => Math.exp(fit.intercept) * x ** fit.slope),
      name: `${METHOD_STYLE[spec.method].name}, fit: slope ${fit.slope.toFixed(2)}`, line: { color: 'black', width: 1, dash: 'dot' },
    });
  }
  const layout: Partial<Layout> = {
    title: { text: opts.title },
    xaxis: { type: 'log', title: { text: opts.xTitle } },
    yaxis: { type: 'log', title: { text: 'excess risk ‖β̂ − β₀‖²' } },
    legend: { orientation: 'h', y: -0.25 },
    margin: { t: 50 },
  };
  return { data, layout, fits };
}
