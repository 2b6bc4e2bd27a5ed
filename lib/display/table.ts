/**
 * Tables as HTML (+ text/plain): from a danfo DataFrame or an array of records.
 */
import { MimeBundle, escapeHtml, getDisplayChannel } from './channel';

export interface TableOptions {
  /** rows shown at most (default 50); the rest is counted in a note */
  maxRows?: number;
  /** significant digits for numbers (default 4) */
  precision?: number;
  /** a caption above the table */
  caption?: string;
  /** show the row index column (default: true for DataFrames, false for records) */
  index?: boolean;
}

/** The shape of a danfo DataFrame the table needs (duck-typed, so lib/display does not load danfo). */
export interface DataFrameLike {
  columns: string[];
  values: unknown[][] | unknown[];
  index: Array<string | number>;
}

function isDataFrame(x: unknown): x is DataFrameLike {
  const d = x as DataFrameLike;
  return !!d && !Array.isArray(x) && Array.isArray(d.columns) && Array.isArray(d.values) && Array.isArray(d.index);
}

/** Rows, columns and index of a DataFrame or of records (columns: union of keys in first-seen order). */
export function tableData(df: DataFrameLike | Record<string, unknown>[]): { columns: string[]; rows: unknown[][]; index: Array<string | number> } {
  if (isDataFrame(df)) {
    const rows = (df.values as unknown[]).map((r) => (Array.isArray(r) ? r : [r]));
    return { columns: df.columns.map(String), rows, index: df.index };
  }
  if (!Array.isArray(df)) throw new Error(`showTable: expected a danfo DataFrame or an array of records, got ${typeof df}`);
  const columns: string[] = [];
  for (const r of df) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  return { columns, rows: df.map((r) => columns.map((c) => r[c])), index: df.map((_, i) => i) };
}

/** Format one cell value: numbers to `precision` significant digits, integers as they are. */
export function formatCell(v: unknown, precision = 4): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? String(Number(v.toPrecision(precision))) : String(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The MIME bundle of a table: text/html and text/plain. */
export function tableBundle(df: DataFrameLike | Record<string, unknown>[], opts: TableOptions = {}): MimeBundle {
  const { columns, rows, index } = tableData(df);
  const maxRows = opts.maxRows ?? 50;
  const shown = rows.slice(0, maxRows);
  const withIndex = opts.index ?? isDataFrame(df);
  const cells = shown.map((r) => r.map((v) => formatCell(v, opts.precision)));
  const numeric = columns.map((_, j) => shown.every((r) => r[j] === null || r[j] === undefined || typeof r[j] === 'number'));
  const more = rows.length > maxRows ? `${rows.length - maxRows} more rows (${rows.length} in all)` : '';
  const head = (withIndex ? '<th></th>' : '') + columns.map((c) => `<th>${escapeHtml(c)}</th>`).join('');
  const body = cells.map((r, i) => '<tr>' + (withIndex ? `<th>${escapeHtml(String(index[i]))}</th>` : '') +
    r.map((c, j) => `<td${numeric[j] ? ' style="text-align:right"' : ''}>${escapeHtml(c)}</td>`).join('') + '</tr>').join('\n');
  const html = `<table class="kit-table dataframe">${opts.caption ? `<caption>${escapeHtml(opts.caption)}</caption>` : ''}
<thead><tr>${head}</tr></thead>
<tbody>
${body}
</tbody></table>${more ? `<p class="kit-table-more">${escapeHtml(more)}</p>` : ''}`;
  const textRows = [withIndex ? ['', ...columns] : columns, ...cells.map((r, i) => (withIndex ? [String(index[i]), ...r] : r))];
  const widths = textRows[0].map((_, j) => Math.max(...textRows.map((r) => r[j].length)));
  const text = [opts.caption ?? '', ...textRows.map((r) => r.map((c, j) => (j < r.length && numeric[withIndex ? j - 1 : j] ? c.padStart(widths[j]) : c.padEnd(widths[j]))).join('  ').trimEnd()), more]
    .filter((l) => l !== '').join('\n');
  return { 'text/html': html, 'text/plain': text };
}

/** Show a DataFrame or records as an HTML table (text in a terminal). */
export function showTable(df: DataFrameLike | Record<string, unknown>[], opts: TableOptions = {}): void {
  getDisplayChannel().display(tableBundle(df, opts));
}
