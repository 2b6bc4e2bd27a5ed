/**
 * Feedback pages, drawn by the site's renderer: one page per student and notebook (the executed notebook, each
 * check's result beside its cell, hidden tests not shown, what the grader changed), an index per student and one for
 * the instructor. Layout: DIR/assets/ (once), DIR/index.html, DIR/<student>/{index.html,<notebook>.html,.ipynb}.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Notebook, NotebookCell, cellSource, toSourceLines } from '../lib/nbformat';
import type { NotebookResult } from '../notebooks/execute';
import { notebookPage, slidesPage } from '../site/pages';
import { escapeHtml } from '../site/render';
import { copyAssets } from '../site';
import { nbgraderMeta } from './nbgrader';
import { withoutHiddenTests } from './release';
import type { CellScore } from './score';
import { safeName } from './submissions';

/** Everything the grader knows about one student's notebook. */
export interface GradedNotebook {
  student: string;
  notebook: string;
  file: string;
  scores: CellScore[];
  changes: string[];
  problems: string[];
  unreadable?: string;
  /** executed notebook (null when it could not be read or run) */
  nb: Notebook | null;
  result: NotebookResult | null;
  seconds: number;
}

const STYLE = `<style>
.grade { border-left: 5px solid #888; padding: .35rem .8rem; margin: .2rem 0 1rem; border-radius: 4px; background: #f6f8fa; font-size: .92rem; }
.grade.passed { border-color: #1a7f37; background: #effaf2; } .grade.failed, .grade.kernel-died, .grade.unreadable { border-color: #cf222e; background: #fff5f5; }
.grade.timeout, .grade.not-run { border-color: #9a6700; background: #fffbea; } .grade code { white-space: pre-wrap; }
table.scores td, table.scores th { padding: .2rem .6rem; border-bottom: 1px solid #ddd; text-align: left; }
</style>`;

const total = (s: CellScore[]) => ({ score: s.reduce((a, c) => a + c.score, 0), max: s.reduce((a, c) => a + c.maxScore, 0) });

function markdownCell(id: string, html: string): NotebookCell {
  return { id, cell_type: 'markdown', metadata: {}, source: toSourceLines(html) };
}

function resultBox(s: CellScore): string {
  const mark = s.status === 'passed' ? '✔' : '✘';
  return `<div class="grade ${escapeHtml(s.status)}">${mark} <strong>${escapeHtml(s.gradeId)}</strong>: ${s.score} / ${s.maxScore} — ${escapeHtml(s.status)}${s.message ? `<br><code>${escapeHtml(s.message)}</code>` : ''}</div>`;
}

/** The summary at the top of a feedback page. */
function summaryHtml(g: GradedNotebook): string {
  const t = total(g.scores);
  const rows = g.scores.map((s) => `<tr><td>${escapeHtml(s.gradeId)}</td><td>${s.score} / ${s.maxScore}</td><td>${escapeHtml(s.status)}</td></tr>`).join('');
  const list = (title: string, items: string[]) => (items.length ? `<p><strong>${title}</strong></p><ul>${items.map((i) => `<li>${escapeHtml(i)}</li>`).join('')}</ul>` : '');
  return `${STYLE}
<h1>Feedback: ${escapeHtml(g.notebook)} — ${escapeHtml(g.student)}</h1>
<p><strong>Score: ${t.score} / ${t.max}</strong>${g.unreadable ? '' : ` · graded in ${g.seconds.toFixed(1)} s`}</p>
${g.unreadable ? `<div class="grade unreadable">This submission could not be graded: ${escapeHtml(g.unreadable)}</div>` : ''}
<table class="scores"><thead><tr><th>check</th><th>score</th><th>status</th></tr></thead><tbody>${rows}</tbody></table>
${list('What the grader changed before running it', g.changes)}${list('Problems', g.problems)}`;
}

/** The executed notebook with a summary cell first, each check's result after its cell, hidden tests removed. */
export function feedbackNotebook(g: GradedNotebook): Notebook {
  const base: Notebook = g.nb ? JSON.parse(JSON.stringify(g.nb)) : { nbformat: 4, nbformat_minor: 5, metadata: {}, cells: [] };
  const cells: NotebookCell[] = [markdownCell('feedback-summary', summaryHtml(g))];
  for (const cell of base.cells) {
    cell.metadata.tags = (cell.metadata.tags ?? []).filter((t) => t !== 'raises-exception');
    if (!cell.metadata.tags.length) delete cell.metadata.tags;
    const gid = nbgraderMeta(cell)?.grade_id;
    const score = gid !== undefined ? g.scores.find((s) => s.gradeId === gid) : undefined;
    if (score) cell.source = toSourceLines(withoutHiddenTests(cellSource(cell), cell.id));
    cells.push(cell);
    if (score) cells.push(markdownCell(`feedback-${cell.id}`, resultBox(score)));
  }
  return { ...base, cells };
}

/** Site pages sit next to assets/; feedback pages one folder below. */
const assetsUp = (html: string) => html.replace(/(href|src)="assets\//g, '$1="../assets/');

/** Write one student's page for one notebook (and the executed notebook it shows). */
export function writeFeedbackPage(dir: string, g: GradedNotebook): string {
  const sdir = path.join(dir, safeName(g.student));
  fs.mkdirSync(sdir, { recursive: true });
  const nb = feedbackNotebook(g);
  const p = { name: g.notebook, nb, result: g.result };
  // the download is the page's notebook: results included, hidden tests not
  fs.writeFileSync(path.join(sdir, `${g.notebook}.ipynb`), JSON.stringify(nb, null, 1) + '\n');
  fs.writeFileSync(path.join(sdir, `${g.notebook}.slides.html`), assetsUp(slidesPage(p)));
  const file = path.join(sdir, `${g.notebook}.html`);
  fs.writeFileSync(file, assetsUp(notebookPage(p)));
  return file;
}

function page(title: string, body: string, up: boolean): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>
<link rel="stylesheet" href="${up ? '../' : ''}assets/site.css">${STYLE}</head><body><main>${body}</main></body></html>\n`;
}

/** The student's index and the instructor's overview of every student. */
export function writeIndexes(dir: string, graded: GradedNotebook[]): void {
  const students = [...new Set(graded.map((g) => g.student))].sort();
  const overview: string[] = [];
  for (const s of students) {
    const mine = graded.filter((g) => g.student === s);
    const rows = mine.map((g) => {
      const t = total(g.scores);
      return `<tr><td><a href="${escapeHtml(g.notebook)}.html">${escapeHtml(g.notebook)}</a></td><td>${t.score} / ${t.max}</td><td>${escapeHtml(g.unreadable ? 'unreadable' : g.changes.length ? `${g.changes.length} change(s)` : '')}</td></tr>`;
    }).join('');
    const body = `<h1>Feedback for ${escapeHtml(s)}</h1><table class="scores"><tr><th>notebook</th><th>score</th><th>notes</th></tr>${rows}</table>`;
    fs.writeFileSync(path.join(dir, safeName(s), 'index.html'), page(`Feedback — ${s}`, body, true));
    for (const g of mine) {
      const t = total(g.scores);
      overview.push(`<tr><td><a href="${escapeHtml(safeName(s))}/index.html">${escapeHtml(s)}</a></td><td><a href="${escapeHtml(safeName(s))}/${escapeHtml(g.notebook)}.html">${escapeHtml(g.notebook)}</a></td><td>${t.score} / ${t.max}</td><td>${escapeHtml([g.unreadable, ...g.changes, ...g.problems].filter(Boolean).join('; '))}</td></tr>`);
    }
  }
  fs.writeFileSync(path.join(dir, 'index.html'), page('Grades', `<h1>Grades</h1><table class="scores"><tr><th>student</th><th>notebook</th><th>score</th><th>notes</th></tr>${overview.join('\n')}</table>`, false));
}

/** Copy the site's assets into the feedback folder once. */
export function prepareFeedbackDir(dir: string): void {
  fs.mkdirSync(dir, { recursive: true });
  copyAssets(dir);
}
