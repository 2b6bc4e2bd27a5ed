/**
 * Log-log figures of measured curves against predictions (the risk-bound notebook's plots): plain series in,
 * plotly data + layout out, for `showPlot`. Each series is drawn as medians (lines + markers), a prediction
 * (dashed), single runs (faint dots) or a fitted line (dotted black, its slope in the legend).
 */
import type { Data, Layout } from 'plotly.js';

/** One curve of a log-log figure. */
export interface LogLogSeries {
  name: string;
  kind: 'median' | 'predicted' | 'runs' | 'fit';
  x: number[];
  y: Array<number | null>;
  /** CSS colour (fits are drawn black). */
  color?: string;
}

/** Titles of a log-log figure. */
export interface LogLogLayout {
  title: string;
  xTitle: string;
  yTitle: string;
}

function trace(s: LogLogSeries): Partial<Data> {
  const base = { type: 'scatter' as const, x: s.x, y: s.y, name: s.name };
  if (s.kind === 'runs') return { ...base, mode: 'markers', marker: { color: s.color, size: 4, opacity: 0.25 }, showlegend: false, hoverinfo: 'skip' };
  if (s.kind === 'predicted') return { ...base, mode: 'lines', line: { color: s.color, dash: 'dash' } };
  if (s.kind === 'fit') return { ...base, mode: 'lines', line: { color: 'black', width: 1, dash: 'dot' } };
  return { ...base, mode: 'lines+markers', line: { color: s.color } };
}

/** plotly data + layout of a log-log figure; series with no finite point are left out. */
export function logLogFigure(series: LogLogSeries[], layout: LogLogLayout): { data: Partial<Data>[]; layout: Partial<Layout> } {
  const drawn = series.filter((s) => s.y.some((v) => v !== null && Number.isFinite(v) && v > 0));
  return {
    data: drawn.map(trace),
    layout: {
      title: { text: layout.title },
      xaxis: { type: 'log', title: { text: layout.xTitle } },
      yaxis: { type: 'log', title: { text: layout.yTitle } },
      legend: { orientation: 'h', y: -0.25 },
      margin: { t: 50 },
    },
  };
}
