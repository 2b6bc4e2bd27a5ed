/** The confusion-matrix heatmap: true class down, predicted class across, the counts in the cells. */
import { showPlot } from '../plot';

/** A plotly figure (data + layout) of a confusion matrix: rows true class, columns predicted, counts in cells. */
export interface PlotlyFigure {
  data: Array<Record<string, unknown>>;
  layout: Record<string, unknown>;
}

/** The plotly heatmap spec of a confusion matrix (true class down, predicted class across, counts annotated). */
export function confusionMatrixFigure(cm: number[][], classNames?: string[], title = 'Confusion matrix'): PlotlyFigure {
  const names = classNames ?? cm.map((_, i) => String(i));
  if (names.length !== cm.length || cm.some((row) => row.length !== cm.length)) {
    throw new Error(
      `confusionMatrixFigure: expected a square ${names.length}×${names.length} matrix matching ${names.length} class names, got ${cm.length}×${cm[0]?.length ?? 0}`,
    );
  }
  const max = Math.max(1, ...cm.flat());
  const annotations = cm.flatMap((row, i) =>
    row.map((v, j) => ({
      x: names[j],
      y: names[i],
      text: String(v),
      showarrow: false,
      font: { color: v > max / 2 ? 'white' : 'black' },
    })),
  );
  return {
    data: [{ type: 'heatmap', z: cm, x: names, y: names, colorscale: 'Blues', hovertemplate: 'true %{y}<br>predicted %{x}<br>%{z}<extra></extra>' }],
    layout: {
      title: { text: title },
      xaxis: { title: { text: 'predicted class' }, type: 'category' },
      yaxis: { title: { text: 'true class' }, type: 'category', autorange: 'reversed' },
      annotations,
      width: 120 + 45 * names.length,
      height: 100 + 45 * names.length,
    },
  };
}

/** Shows the confusion matrix heatmap (from `confusionMatrix(yTrue, yPred)`) and returns its figure. */
export function plotConfusionMatrix(cm: number[][], classNames?: string[], title?: string): PlotlyFigure {
  const figure = confusionMatrixFigure(cm, classNames, title);
  showPlot(figure.data as Parameters<typeof showPlot>[0], figure.layout as Parameters<typeof showPlot>[1]);
  return figure;
}
