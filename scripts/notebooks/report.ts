/**
 * build/report.json (one entry per notebook, merged with earlier runs) and the end-of-run summary table.
 */
import * as fs from 'fs';
import * as path from 'path';
import { NotebookResult } from './execute';

export interface Report {
  /** ISO time of the last run that wrote this file */
  generated: string;
  /** KIT_QUICK was set for the last run */
  quick: boolean;
  notebooks: NotebookResult[];
}

/** Read a report.json, or an empty report if absent or unreadable. */
export function readReport(file: string): Report {
  try {
    const r = JSON.parse(fs.readFileSync(file, 'utf8')) as Report;
    if (Array.isArray(r.notebooks)) return r;
  } catch { /* absent or broken: start afresh */ }
  return { generated: '', quick: false, notebooks: [] };
}

/** Merge results into report.json (entries for other notebooks are kept), sorted by name. */
export function writeReport(file: string, results: NotebookResult[], quick: boolean): Report {
  const old = readReport(file);
  const byName = new Map(old.notebooks.map((n) => [n.name, n]));
  for (const r of results) byName.set(r.name, r);
  const report: Report = { generated: new Date().toISOString(), quick, notebooks: [...byName.values()].sort((a, b) => a.name.localeCompare(b.name)) };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  return report;
}

/** The most telling line of an error text: a JS `…Error:` line, a tslab diagnostic `line:col - …`, else the first line. */
export function errorHeadline(error: string): string {
  const lines = error.split('\n').map((l) => l.trim()).filter(Boolean);
  return lines.find((l) => /^([A-Z]\w*)?Error\b|^\d+:\d+ - |timeout|kernel died/.test(l)) ?? lines[0] ?? '';
}

/** A plain-text table: notebook, status, cells, seconds, and the first line of any error. */
export function summaryTable(results: NotebookResult[]): string {
  const rows = results.map((r) => [
    r.name, r.status, `${r.cellsRun}/${r.codeCells}`, r.seconds.toFixed(1),
    r.failure ? `cell ${r.failure.cellIndex}: ${errorHeadline(r.failure.error)}`.slice(0, 100) : '',
  ]);
  const head = ['notebook', 'status', 'cells', 'seconds', 'error'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const fmt = (r: string[]) => r.map((c, i) => (i === 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(head), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}
