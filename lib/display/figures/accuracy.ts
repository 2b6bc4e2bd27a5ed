/**
 * Figures of the strategy experiments: accuracy against m (one line per strategy), accuracy against the cut
 * (AnB / AnB+ / probe with the scratch baseline, like Yosinski et al. 2014's figure 2), and validation accuracy
 * against the learning rate (is the chosen value inside the grid?). Every point is a mean over seeds with ± std bars.
 */

/** A plotly figure (data + layout), ready for showPlot. */
export interface Figure {
  data: Array<Record<string, unknown>>;
  layout: Record<string, unknown>;
}

/** The summary fields a figure reads (lib/train's SummaryRow has them). */
export interface SummaryPoint {
  strategy: string;
  m: number;
  cutAt: string;
  runs: number;
  accuracy: number;
  accuracyStd: number;
}

/** Display names of the runs (Yosinski's names in a cut sweep). */
const CUT_NAMES: Record<string, string> = {
  freeze: 'AnB: first layers copied and frozen, the rest re-initialised and trained',
  finetune: 'AnB+: first layers copied and fine-tuned, the rest re-initialised',
  probe: 'linear probe: a linear head on the pooled features at the cut',
};

function line(name: string, x: unknown[], pts: SummaryPoint[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'scatter',
    mode: 'lines+markers',
    name,
    x,
    y: pts.map((p) => p.accuracy),
    error_y: { type: 'data', array: pts.map((p) => p.accuracyStd), visible: true },
    ...extra,
  };
}

/** Mean test accuracy (± std over seeds) against m, one line per strategy. */
export function accuracyByMFigure(summary: SummaryPoint[], title: string): Figure {
  const strategies = [...new Set(summary.map((s) => s.strategy))];
  return {
    data: strategies.map((s) => {
      const pts = summary.filter((r) => r.strategy === s).sort((a, b) => a.m - b.m);
      return line(s, pts.map((p) => p.m), pts);
    }),
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'target images per class (m)' }, type: 'log' },
      yaxis: { title: { text: 'test accuracy' }, range: [0, 1] },
    },
  };
}

/**
 * Accuracy against the cut, like Yosinski et al.'s figure 2: AnB (freeze), AnB+ (finetune) and the probe as lines
 * over the cuts in order, the scratch baseline (cutAt 'none') as a dashed line with its ± std band.
 */
export function cutSweepFigure(summary: SummaryPoint[], cuts: string[], title: string): Figure {
  const data: Array<Record<string, unknown>> = [];
  for (const s of ['freeze', 'finetune', 'probe']) {
    const pts = cuts.map((c) => summary.find((r) => r.strategy === s && r.cutAt === c)).filter((p): p is SummaryPoint => p !== undefined);
    if (pts.length) data.push(line(CUT_NAMES[s], pts.map((p) => p.cutAt), pts));
  }
  const base = summary.find((r) => r.strategy === 'scratch');
  if (base) {
    const band = (y: number) => cuts.map(() => y);
    data.push({ type: 'scatter', mode: 'lines', x: cuts, y: band(base.accuracy + base.accuracyStd), line: { width: 0 }, showlegend: false, hoverinfo: 'skip' });
    data.push({
      type: 'scatter',
      mode: 'lines',
      name: `scratch baseline (nothing copied): ${base.accuracy.toFixed(3)} ± ${base.accuracyStd.toFixed(3)}`,
      x: cuts,
      y: band(base.accuracy),
      line: { dash: 'dash', color: 'grey' },
    });
    data.push({
      type: 'scatter',
      mode: 'lines',
      x: cuts,
      y: band(base.accuracy - base.accuracyStd),
      line: { width: 0 },
      fill: 'tonexty',
      fillcolor: 'rgba(128,128,128,0.15)',
      showlegend: false,
      hoverinfo: 'skip',
    });
  }
  return {
    data,
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'copied from the source up to and including (the cut)' }, type: 'category' },
      yaxis: { title: { text: 'test accuracy (mean ± std over seeds)' }, range: [0, 1] },
      legend: { orientation: 'h', y: -0.3 },
    },
  };
}

/** Validation accuracy (mean ± std over seeds) against the learning rate, one line per strategy: is the best value interior? */
export function lrSearchFigure(points: Array<{ strategy: string; lr: number; mean: number; std: number }>, title: string): Figure {
  const strategies = [...new Set(points.map((p) => p.strategy))];
  return {
    data: strategies.map((s) => {
      const pts = points.filter((p) => p.strategy === s).sort((a, b) => a.lr - b.lr);
      return {
        type: 'scatter',
        mode: 'lines+markers',
        name: s,
        x: pts.map((p) => p.lr),
        y: pts.map((p) => p.mean),
        error_y: { type: 'data', array: pts.map((p) => p.std), visible: true },
      };
    }),
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'learning rate (Adam; the copied base of fine-tuning at 0.1 ×)' }, type: 'log' },
      yaxis: { title: { text: 'best validation accuracy' }, range: [0, 1] },
    },
  };
}
