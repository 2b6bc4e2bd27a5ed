/**
 * How the training code reaches lib/display: plots and the in-place progress bar (a notebook's display
 * channel, or `\r` redraws on a terminal's stderr).
 */
import { ProgressBar, showPlot } from '../display';

/** What the training loop needs of a progress bar. */
export interface ProgressLike {
  update(done: number, fields?: Record<string, string | number>): void;
  close(): void;
}

/** Shows a plotly figure through lib/display's showPlot. */
export function showPlotIfAvailable(figure: { data: unknown; layout: unknown }): boolean {
  showPlot(figure.data as Parameters<typeof showPlot>[0], figure.layout as Parameters<typeof showPlot>[1]);
  return true;
}

/** A progress bar counting optimisation steps. */
export function makeProgressBar(total: number, label: string, unit = 'step'): ProgressLike {
  return new ProgressBar({ total, label, unit });
}
