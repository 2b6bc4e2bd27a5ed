/**
 * Notebook → HTML fragments: markdown with KaTeX math rendered at build time, highlighted TypeScript,
 * outputs (plotly, HTML, SVG, PNG/JPEG, ANSI streams, errors).
 */
import MarkdownIt from 'markdown-it';
import markdownItKatex from '@vscode/markdown-it-katex';
import hljs from 'highlight.js/lib/core';
import typescript from 'highlight.js/lib/languages/typescript';
import { NotebookCell, cellSource } from '../lib/nbformat';
import { ansiToHtml } from './ansi';

hljs.registerLanguage('typescript', typescript);

const md = new MarkdownIt({ html: true, linkify: true, typographer: false, highlight: (code, lang) => highlightCode(code, lang) });
md.use(markdownItKatex, { throwOnError: false, enableBareBlocks: true, enableFencedBlocks: true });

export const PLOTLY_MIME = 'application/vnd.plotly.v1+json';

/** Escape text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Highlight code (TypeScript by default) into hljs-classed HTML. */
export function highlightCode(code: string, lang = 'typescript'): string {
  const language = !lang || ['ts', 'typescript', 'js', 'javascript'].includes(lang) ? 'typescript' : lang;
  return hljs.getLanguage(language) ? hljs.highlight(code, { language, ignoreIllegals: true }).value : escapeHtml(code);
}

/** Markdown (with $…$ and $$…$$ math) to HTML. */
export function renderMarkdown(src: string): string {
  return md.render(src);
}

function text(v: unknown): string {
  return Array.isArray(v) ? v.join('') : String(v ?? '');
}

/** JSON for embedding inside a <script> element. */
export function scriptJson(v: unknown): string {
  return JSON.stringify(v).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** Render one MIME bundle, choosing the richest type the site understands. */
export function renderBundle(data: Record<string, unknown>): string {
  if (data[PLOTLY_MIME]) {
    return `<div class="kit-plot"><script type="application/json" class="kit-fig">${scriptJson(data[PLOTLY_MIME])}</script></div>`;
  }
  if (data['text/html'] !== undefined) return `<div class="out-html">${text(data['text/html'])}</div>`;
  if (data['image/svg+xml'] !== undefined) return `<div class="out-image">${text(data['image/svg+xml'])}</div>`;
  for (const mime of ['image/png', 'image/jpeg', 'image/gif']) {
    if (data[mime] !== undefined) return `<div class="out-image"><img alt="output" src="data:${mime};base64,${text(data[mime]).replace(/\s/g, '')}"></div>`;
  }
  if (data['text/markdown'] !== undefined) return `<div class="out-markdown">${renderMarkdown(text(data['text/markdown']))}</div>`;
  if (data['text/latex'] !== undefined) return `<div class="out-markdown">${renderMarkdown(text(data['text/latex']))}</div>`;
  if (data['text/plain'] !== undefined) return `<pre class="out-text">${ansiToHtml(text(data['text/plain']))}</pre>`;
  return `<pre class="out-text">[${escapeHtml(Object.keys(data).join(', '))}]</pre>`;
}

/** Render one nbformat output. */
export function renderOutput(o: Record<string, any>): string {
  switch (o.output_type) {
    case 'stream':
      return `<pre class="out-stream ${o.name === 'stderr' ? 'stderr' : 'stdout'}">${ansiToHtml(text(o.text))}</pre>`;
    case 'display_data':
    case 'execute_result':
      return renderBundle(o.data ?? {});
    case 'error':
      return `<pre class="out-stream stderr out-error">${ansiToHtml((o.traceback ?? []).length ? (o.traceback as string[]).join('\n') : `${o.ename}: ${o.evalue}`)}</pre>`;
    default:
      return '';
  }
}

/** Render a cell (markdown or code with its outputs); `failure` marks the cell where the notebook stopped. */
export function renderCell(cell: NotebookCell, failure?: string): string {
  const src = cellSource(cell);
  if (cell.cell_type === 'markdown') return `<section class="cell markdown" id="cell-${escapeHtml(cell.id)}">${renderMarkdown(src)}</section>`;
  if (cell.cell_type === 'raw') return `<section class="cell raw"><pre>${escapeHtml(src)}</pre></section>`;
  const tags = (cell.metadata?.tags ?? []).filter((t) => t !== '');
  const count = cell.execution_count ?? ' ';
  const outputs = (cell.outputs ?? []).map((o) => renderOutput(o as Record<string, any>)).join('\n');
  return `<section class="cell code${failure ? ' failed' : ''}" id="cell-${escapeHtml(cell.id)}">
<div class="input"><span class="prompt">[${count}]</span><pre class="source hljs"><code class="language-typescript">${highlightCode(src)}</code></pre>${tags.length ? `<span class="tags">${tags.map((t) => `<span class="tag">${escapeHtml(t)}</span>`).join('')}</span>` : ''}</div>
${outputs ? `<div class="outputs">${outputs}</div>` : ''}${failure ? `<div class="failure-note">${escapeHtml(failure)}</div>` : ''}
</section>`;
}

/** The notebook's title: its first markdown heading, else the file name. */
export function notebookTitle(cells: NotebookCell[], fallback: string): string {
  for (const c of cells) {
    if (c.cell_type !== 'markdown') continue;
    const m = /^#{1,3}\s+(.+)$/m.exec(cellSource(c));
    if (m) return m[1].replace(/[*_`$]/g, '').trim();
  }
  return fallback;
}
