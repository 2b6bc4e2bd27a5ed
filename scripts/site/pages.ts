/**
 * Whole pages: the index, a notebook page (with its run status) and its slides (presenting mode).
 */
import { Notebook, NotebookCell, cellSource } from '../lib/nbformat';
import type { NotebookResult } from '../notebooks/execute';
import { errorHeadline } from '../notebooks/report';
import { PLOTLY_MIME, escapeHtml, notebookTitle, renderCell } from './render';

export interface PageNotebook {
  name: string;
  nb: Notebook | null;
  result: NotebookResult | null;
}

function head(title: string, opts: { katex: boolean; plotly: boolean; bodyClass?: string; bodyData?: string }): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/site.css">
<link rel="stylesheet" href="assets/hljs.css">
${opts.katex ? '<link rel="stylesheet" href="assets/katex/katex.min.css">' : ''}
${opts.plotly ? '<script src="assets/plotly.js"></script>' : ''}
<script src="assets/site.js"></script>
</head><body${opts.bodyClass ? ` class="${opts.bodyClass}"` : ''}${opts.bodyData ?? ''}>`;
}

/** True when any output of the notebook is a plotly figure. */
export function hasPlots(nb: Notebook): boolean {
  return nb.cells.some((c) => (c.outputs ?? []).some((o) => Boolean((o as { data?: Record<string, unknown> }).data?.[PLOTLY_MIME])));
}

function statusBadge(r: NotebookResult | null): string {
  const s = r?.status ?? 'not run';
  return `<span class="badge ${escapeHtml(s)}">${escapeHtml(s)}</span>`;
}

function failureBox(p: PageNotebook): string {
  const f = p.result?.failure;
  if (!f) return '';
  const cell = p.nb && f.cellIndex >= 0 ? p.nb.cells[f.cellIndex] : undefined;
  const where = cell ? `<a href="#cell-${escapeHtml(cell.id)}">cell ${f.cellIndex}</a>` : f.cellIndex >= 0 ? `cell ${f.cellIndex}` : 'start-up';
  return `<div class="failure"><strong>${escapeHtml(p.result!.status)}</strong> at ${where}<pre>${escapeHtml(f.error)}</pre></div>`;
}

/** The notebook page. */
export function notebookPage(p: PageNotebook): string {
  const nb = p.nb!;
  const title = notebookTitle(nb.cells, p.name);
  const failIdx = p.result?.failure?.cellIndex ?? -1;
  const cells = nb.cells.map((c, i) => renderCell(c, i === failIdx ? `the notebook stopped here (${p.result!.status})` : undefined)).join('\n');
  const r = p.result;
  return `${head(title, { katex: true, plotly: hasPlots(nb) })}
<header class="top"><a href="index.html">← all notebooks</a><span class="spacer"></span>${statusBadge(r)}
${r ? `<span>${r.cellsRun}/${r.codeCells} cells · ${r.seconds.toFixed(1)} s</span>` : ''}<a href="${escapeHtml(p.name)}.ipynb" download title="the executed notebook">⤓ .ipynb</a><a href="${escapeHtml(p.name)}.slides.html" title="presenting mode">▶ Present</a></header>
<main>
${failureBox(p)}
${r?.warnings?.length ? `<div class="failure" style="border-color:#9a6700;background:#fffbea">${r.warnings.map(escapeHtml).join('<br>')}</div>` : ''}
${cells}
<footer>${escapeHtml(p.name)}.ipynb · executed by the kit's runner</footer>
</main></body></html>
`;
}

/**
 * Split cells into slides: by `metadata.slideshow.slide_type` when any cell has one ('slide'/'subslide' start a
 * slide, 'skip'/'notes' are left out), otherwise at each markdown cell that starts with a heading (#, ##, ###).
 */
export function splitSlides(cells: NotebookCell[]): NotebookCell[][] {
  const typeOf = (c: NotebookCell) => (c.metadata?.slideshow as { slide_type?: string } | undefined)?.slide_type;
  const byMeta = cells.some((c) => typeOf(c) !== undefined);
  const slides: NotebookCell[][] = [];
  for (const c of cells) {
    const t = typeOf(c);
    if (byMeta && (t === 'skip' || t === 'notes')) continue;
    const starts = byMeta ? t === 'slide' || t === 'subslide' : c.cell_type === 'markdown' && /^\s*#{1,3}\s/.test(cellSource(c));
    if (starts || slides.length === 0) slides.push([c]);
    else slides[slides.length - 1].push(c);
  }
  return slides;
}

/** The presenting-mode page of a notebook. */
export function slidesPage(p: PageNotebook): string {
  const nb = p.nb!;
  const title = notebookTitle(nb.cells, p.name);
  const slides = splitSlides(nb.cells.filter((c) => !c.metadata?.tags?.includes('injected-parameters')));
  const body = slides.map((s, i) => `<section class="slide" id="slide-${i + 1}">\n${s.map((c) => renderCell(c)).join('\n')}\n</section>`).join('\n');
  return `${head(`${title} — slides`, { katex: true, plotly: hasPlots(nb), bodyClass: 'slides-page', bodyData: ` data-notebook="${escapeHtml(p.name)}.html"` })}
<div class="slides">
${body}
</div>
<div class="slide-progress" id="slide-progress"></div>
<nav class="slide-bar"><button id="prev" title="previous (←)">←</button><button id="next" title="next (→, space)">→</button>
<span id="slide-counter"></span><span class="spacer"></span><span>${escapeHtml(title)}</span>
<a href="${escapeHtml(p.name)}.html" title="back to the notebook (Esc)">✕</a></nav>
<script src="assets/slides.js"></script>
</body></html>
`;
}

/** The index page: every notebook with its status, cells, time and links. */
export function indexPage(list: PageNotebook[], generated: string): string {
  const rows = list.map((p) => {
    const r = p.result;
    const title = p.nb ? notebookTitle(p.nb.cells, p.name) : p.name;
    const link = p.nb ? `<a href="${escapeHtml(p.name)}.html">${escapeHtml(title)}</a>` : escapeHtml(title);
    const err = r?.failure ? `<br><span class="error">cell ${r.failure.cellIndex}: ${escapeHtml(errorHeadline(r.failure.error).slice(0, 160))}</span>` : '';
    return `<tr><td>${link}<br><small>${escapeHtml(p.name)}.ipynb</small>${err}</td><td>${statusBadge(r)}</td>
<td class="num">${r ? `${r.cellsRun}/${r.codeCells}` : ''}</td><td class="num">${r ? r.seconds.toFixed(1) + ' s' : ''}</td>
<td class="nowrap">${p.nb ? `<a href="${escapeHtml(p.name)}.slides.html">▶ present</a>` : ''}</td></tr>`;
  }).join('\n');
  const ok = list.filter((p) => p.result?.status === 'ok').length;
  return `${head('Transfer learning with TypeScript — notebooks', { katex: false, plotly: false })}
<main>
<h1>Transfer learning with TypeScript</h1>
<p>${ok} of ${list.length} notebooks ran without error${generated ? ` · run ${escapeHtml(generated.replace('T', ' ').slice(0, 16))} UTC` : ''}.</p>
<table class="index"><thead><tr><th>notebook</th><th>status</th><th>cells</th><th>time</th><th></th></tr></thead>
<tbody>
${rows}
</tbody></table>
<footer>Built offline from the executed notebooks (build/notebooks) and build/report.json.</footer>
</main></body></html>
`;
}
