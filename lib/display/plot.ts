/**
 * Plotly figures as a MIME bundle: `application/vnd.plotly.v1+json` (VS Code, JupyterLab with plotly's extension, the
 * kit's site), a `text/html` fallback (classic Notebook, JupyterLab without the extension), and `text/plain`.
 *
 * The HTML fallback survives what a student does to a page:
 * - a fresh kernel's first figure carries plotly.js inline (offline); later figures wait for it;
 * - after a tab reload or in a new tab (no plotly.js in the page, the kernel unaware), a figure loads plotly.js from
 *   Jupyter's own file server (`<base>/files/…/node_modules/plotly.js-dist-min/plotly.min.js`);
 * - where scripts do not run (an untrusted notebook, GitHub, nbviewer) it shows a static SVG picture of the figure
 *   (lib/display/static/svg.ts) and a line saying why and what to do; when plotly.js draws, both go away.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Config, Data, Layout } from 'plotly.js';
import { MimeBundle, escapeHtml, getDisplayChannel, newDisplayId } from './channel';
import { figureSvg } from './static/svg';

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

const BUNDLES = ['plotly.js-dist-min/plotly.min.js', 'plotly.js-dist/plotly.js'];

function plotlyFile(): string {
  for (const id of BUNDLES) {
    try {
      return require.resolve(id);
    } catch { /* try the next bundle */ }
  }
  throw new Error('showPlot: neither plotly.js-dist-min nor plotly.js-dist is installed (needed for the HTML fallback): run npm ci');
}

function plotlyScript(): string {
  return fs.readFileSync(plotlyFile(), 'utf8').replace(/<\/script/gi, '<\\/script');
}

/**
 * Where the page may fetch plotly.js from Jupyter's file server: the path from the notebook's folder (the kernel's
 * working directory) and the path from the kit's folder and up to two folders above it — whichever folder Jupyter was
 * started in, one of them is under its root when the kit is.
 */
export function plotlyUrlHints(cwd: string = process.cwd(), file: string = plotlyFile()): { fromNotebook: string; fromRoots: string[] } {
  const parts = path.resolve(file).split(path.sep).filter(Boolean);
  const nm = parts.lastIndexOf('node_modules');
  const tail = parts.slice(nm);
  const above = parts.slice(Math.max(0, nm - 3), nm);
  const fromRoots = [tail.join('/')];
  for (let k = above.length - 1; k >= 0; k--) fromRoots.push([...above.slice(k), ...tail].join('/'));
  return { fromNotebook: path.relative(cwd, file).split(path.sep).join('/'), fromRoots };
}

/** A short text summary of a figure for text/plain. */
function plotSummary(data: Partial<Data>[], layout: Partial<Layout>): string {
  const title = typeof layout.title === 'string' ? layout.title : (layout.title as { text?: string } | undefined)?.text;
  const traces = data.map((t) => `${(t as { type?: string }).type ?? 'scatter'}${(t as { name?: string }).name ? ` "${(t as { name?: string }).name}"` : ''}`);
  return `<Plotly figure${title ? ` "${title}"` : ''}: ${traces.join(', ') || 'no traces'}>`;
}

/** What the fallback says where no script runs: why there is no interactive plot, and what to do. */
export const NO_SCRIPT_NOTE =
  'This is a static picture: the interactive plot needs JavaScript, which this page did not run. ' +
  'In Jupyter, trust the notebook (Notebook: File → Trust Notebook; JupyterLab: Trust Notebook in the command palette; ' +
  'or jupyter trust FILE.ipynb) and run the cell again — or open this notebook\'s page in the kit\'s site (npm start, then build/site/).';

/** What it says when scripts run but plotly.js cannot be found in the page or on Jupyter's file server. */
export const NO_PLOTLY_NOTE =
  'plotly.js could not be loaded into this page (a reload or a new tab loses it, and Jupyter\'s file server did not serve ' +
  'node_modules/ from the folder it was started in). The picture above is static. For the interactive plot: ' +
  'Kernel → Restart & Run All, or start Jupyter in the kit\'s folder.';

/** The in-page script: draw with window.Plotly, else load it (once per page) from Jupyter's file server, else say so. */
function drawScript(id: string, figJson: string, hints: ReturnType<typeof plotlyUrlHints>, hasPicture: boolean): string {
  const noPlotly = hasPicture ? NO_PLOTLY_NOTE : NO_PLOTLY_NOTE.replace('The picture above is static. ', '');
  return `<script>(function () {
  var fig = ${figJson};
  var hints = ${JSON.stringify(hints)};
  var root = document.getElementById(${JSON.stringify(id)});
  if (!root) return;
  var note = root.querySelector('.kit-plot-note');
  if (note) note.textContent = 'Loading the interactive plot…';
  function base() {
    var b = document.body && document.body.getAttribute('data-base-url');
    if (b) return b;
    var cfg = document.getElementById('jupyter-config-data');
    if (cfg) { try { var c = JSON.parse(cfg.textContent); if (c.baseUrl) return c.baseUrl; } catch (e) {} }
    var m = location.pathname.match(/^(.*?\\/)(notebooks|lab|doc|tree|edit|voila)(\\/|$)/);
    return m ? m[1] : '/';
  }
  function urls() {
    var files = location.origin + base().replace(/\\/?$/, '/') + 'files/';
    var out = [];
    var nb = document.body && document.body.getAttribute('data-notebook-path');
    if (!nb) { var m = decodeURIComponent(location.pathname).match(/\\/(?:notebooks|lab\\/tree|doc\\/tree)\\/(.*\\.ipynb)/); nb = m && m[1]; }
    if (nb) { try { out.push(new URL(hints.fromNotebook, files + encodeURI(nb)).href); } catch (e) {} }
    hints.fromRoots.forEach(function (p) { out.push(files + encodeURI(p)); });
    return out.filter(function (u, i) { return u.indexOf(files) === 0 && out.indexOf(u) === i; });
  }
  function load() {
    if (window.Plotly) return Promise.resolve(window.Plotly);
    if (window.__kitPlotlyLoad) return window.__kitPlotlyLoad;
    var list = urls();
    window.__kitPlotlyLoad = new Promise(function (resolve, reject) {
      (function next(i) {
        if (window.Plotly) return resolve(window.Plotly);
        if (i >= list.length) { window.__kitPlotlyLoad = null; return reject(new Error('plotly.js not found')); }
        var s = document.createElement('script');
        s.src = list[i];
        s.onload = function () { if (window.Plotly) resolve(window.Plotly); else next(i + 1); };
        s.onerror = function () { s.parentNode && s.parentNode.removeChild(s); next(i + 1); };
        document.head.appendChild(s);
      })(0);
    });
    return window.__kitPlotlyLoad;
  }
  function wait(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }
  // A figure shown just after the one carrying plotly.js inline may run first: give that script a moment.
  function draw(Plotly) {
    var div = document.createElement('div');
    div.className = 'kit-plot-live';
    root.insertBefore(div, root.firstChild);
    return Plotly.newPlot(div, fig.data, fig.layout, fig.config).then(function () {
      var stale = root.querySelector('.kit-plot-static');
      if (stale) stale.parentNode.removeChild(stale);
    });
  }
  function fail(e) {
    if (note) note.textContent = ${JSON.stringify(noPlotly)} + (e && e.message && e.message !== 'plotly.js not found' ? ' (' + e.message + ')' : '');
  }
  (window.Plotly ? Promise.resolve() : wait(300)).then(load).then(draw, function (e) {
    // Not in the page nor on the file server: another output may still be bringing it (front-ends render in any order).
    var tries = 0;
    (function poll() {
      if (window.Plotly) return draw(window.Plotly).catch(fail);
      if (++tries < 25) return setTimeout(poll, 200);
      fail(e);
    })();
  }).catch(fail);
})();</script>`;
}

/**
 * The MIME bundle of a figure. `inlinePlotly` puts plotly.js into the HTML fallback (a fresh kernel's first figure;
 * later figures find it in the page, or load it from Jupyter's file server).
 */
export function plotBundle(data: Partial<Data>[], layout: Partial<Layout> = {}, opts: { config?: Partial<Config>; html?: boolean; inlinePlotly?: boolean } = {}): MimeBundle {
  const fig = { data, layout, config: opts.config ?? {} };
  const summary = plotSummary(data, layout);
  const bundle: MimeBundle = { [PLOTLY_MIME]: JSON.parse(JSON.stringify(fig)), 'text/plain': summary };
  if (opts.html !== false) {
    const id = `kit-plot-${newDisplayId()}`;
    const figJson = JSON.stringify(fig).replace(/</g, '\\u003c');
    const lib = opts.inlinePlotly ? `<script>if (!window.Plotly) {${plotlyScript()}\n}</script>` : '';
    const svg = figureSvg(fig.data as Array<Record<string, unknown>>, fig.layout as Record<string, unknown>);
    const width = Number((layout as { width?: number }).width ?? 700);
    const picture = svg ? `<img src="data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}" alt="${escapeHtml(summary)}" width="${width}" style="max-width:100%;height:auto">` : '';
    const note = svg ? NO_SCRIPT_NOTE : NO_SCRIPT_NOTE.replace('This is a static picture: the', `${summary} — the`);
    bundle['text/html'] = `${lib}<div id="${id}" class="kit-plot"><div class="kit-plot-static">${picture}<p class="kit-plot-note">${escapeHtml(note)}</p></div></div>
${drawScript(id, figJson, plotlyUrlHints(), Boolean(svg))}`;
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
