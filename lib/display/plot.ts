/**
 * Plotly figures as a MIME bundle: `application/vnd.plotly.v1+json` (JupyterLab with jupyterlab-plotly, VS Code,
 * the kit's site) + a `text/html` fallback that draws with plotly.js inlined once per kernel session (offline)
 * + `text/plain`.
 */
import * as fs from 'fs';
import type { Config, Data, Layout } from 'plotly.js';
import { MimeBundle, escapeHtml, getDisplayChannel, newDisplayId } from './channel';

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

export interface PlotOptions {
  /** plotly config (e.g. { responsive: true }) */
  config?: Partial<Config>;
  /** include the text/html fallback (default true) */
  html?: boolean;
  /** update this display instead of adding a new one */
  displayId?: string;
  /** update an existing display (needs displayId) */
  update?: boolean;
}

let plotlyInlined = false;

/** Forget that plotly.js was inlined (the next HTML fallback carries it again). */
export function resetPlotlyInline(): void {
  plotlyInlined = false;
}

function plotlyScript(): string {
  for (const id of ['plotly.js-dist-min/plotly.min.js', 'plotly.js-dist/plotly.js']) {
    try {
      return fs.readFileSync(require.resolve(id), 'utf8').replace(/<\/script/gi, '<\\/script');
    } catch { /* try the next bundle */ }
  }
  throw new Error('showPlot: neither plotly.js-dist-min nor plotly.js-dist is installed (needed for the HTML fallback)');
}

/** A short text summary of a figure for text/plain. */
function plotSummary(data: Partial<Data>[], layout: Partial<Layout>): string {
  const title = typeof layout.title === 'string' ? layout.title : (layout.title as { text?: string } | undefined)?.text;
  const traces = data.map((t) => `${(t as { type?: string }).type ?? 'scatter'}${(t as { name?: string }).name ? ` "${(t as { name?: string }).name}"` : ''}`);
  return `<Plotly figure${title ? ` "${title}"` : ''}: ${traces.join(', ') || 'no traces'}>`;
}

/**
 * The MIME bundle of a figure. `inlinePlotly` puts plotly.js into the HTML fallback (once per page is enough:
 * later figures wait for window.Plotly).
 */
export function plotBundle(data: Partial<Data>[], layout: Partial<Layout> = {}, opts: { config?: Partial<Config>; html?: boolean; inlinePlotly?: boolean } = {}): MimeBundle {
  const fig = { data, layout, config: opts.config ?? {} };
  const bundle: MimeBundle = { [PLOTLY_MIME]: JSON.parse(JSON.stringify(fig)), 'text/plain': plotSummary(data, layout) };
  if (opts.html !== false) {
    const id = `kit-plot-${newDisplayId()}`;
    const figJson = JSON.stringify(fig).replace(/</g, '\\u003c');
    const lib = opts.inlinePlotly ? `<script>if (!window.Plotly) {${plotlyScript()}\n}</script>` : '';
    bundle['text/html'] = `${lib}<div id="${id}" class="kit-plot" style="min-height:360px"></div>
<script>(function () {
  var fig = ${figJson};
  var tries = 0;
  function draw() {
    var el = document.getElementById(${JSON.stringify(id)});
    if (window.Plotly && el) { window.Plotly.newPlot(el, fig.data, fig.layout, fig.config); return; }
    if (++tries < 100) { setTimeout(draw, 100); return; }
    if (el) el.textContent = ${JSON.stringify(escapeHtml(plotSummary(data, layout)) + ' (plotly.js did not load: re-run the first plot cell)')};
  }
  draw();
})();</script>`;
  }
  return bundle;
}

/** Show an interactive plotly figure (in a kernel: plotly MIME + HTML fallback; in a terminal: a summary line). */
export function showPlot(data: Partial<Data>[], layout: Partial<Layout> = {}, opts: PlotOptions = {}): void {
  const channel = getDisplayChannel();
  const inline = channel.rich && opts.html !== false && !plotlyInlined;
  channel.display(plotBundle(data, layout, { config: opts.config, html: opts.html, inlinePlotly: inline }), { displayId: opts.displayId, update: opts.update });
  if (inline) plotlyInlined = true;
}
