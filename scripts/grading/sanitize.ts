/**
 * Prepare a submission for grading, as nbgrader's autograde does before it executes: read it (bad JSON or a
 * non-notebook is reported, never fatal), take the kernelspec from the source, drop repeated grade ids, restore
 * every locked cell (tests with their hidden part, read-only cells) from the instructor's notebook — edited ones
 * overwritten, deleted ones put back after the cell that preceded them — and restore the answer cells' metadata.
 * Every change is reported. The submission file itself is only read.
 */
import { Notebook, NotebookCell, cellSource, toSourceLines } from '../lib/nbformat';
import { computeChecksum, isLocked, isSolution, nbgraderMeta } from './nbgrader';

/** A submission ready to run, or the reason it cannot be. */
export interface Sanitized {
  nb: Notebook | null;
  /** why the submission could not be read (nb is then null) */
  unreadable?: string;
  /** what was changed to grade it (restored tests, kernelspec, …) */
  changes: string[];
  /** what the student's notebook lacks that was not restored */
  problems: string[];
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function gradeId(cell: NotebookCell): string | undefined {
  return nbgraderMeta(cell)?.grade_id;
}

/** Parse and check the shape of a submission; returns the notebook or the reason it is unreadable. */
export function parseSubmission(text: string): { nb?: Notebook; unreadable?: string; problems: string[] } {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    return { unreadable: `not valid JSON (${(e as Error).message}): the file is not a notebook, or was cut short`, problems: [] };
  }
  const nb = raw as Notebook;
  if (!nb || typeof nb !== 'object' || nb.nbformat !== 4 || !Array.isArray(nb.cells)) {
    return { unreadable: `not an nbformat 4 notebook (expected "nbformat": 4 and a "cells" list, got nbformat ${JSON.stringify((nb as { nbformat?: unknown })?.nbformat)})`, problems: [] };
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  const cells: NotebookCell[] = [];
  nb.cells.forEach((c, i) => {
    const ok = c && typeof c === 'object' && ['code', 'markdown', 'raw'].includes(c.cell_type) && (typeof c.source === 'string' || Array.isArray(c.source));
    if (!ok) {
      problems.push(`cells[${i}] is not a notebook cell (no cell_type or source): left out`);
      return;
    }
    const cell = clone(c);
    cell.metadata = cell.metadata && typeof cell.metadata === 'object' ? cell.metadata : {};
    if (typeof cell.id !== 'string' || !/^[a-zA-Z0-9-_]{1,64}$/.test(cell.id) || seen.has(cell.id)) cell.id = `submitted-${i}`;
    seen.add(cell.id);
    cells.push(cell);
  });
  nb.metadata = nb.metadata && typeof nb.metadata === 'object' ? nb.metadata : {};
  return { nb: { ...nb, nbformat_minor: 5, cells }, problems };
}

function kernelLabel(meta: Record<string, unknown>): string {
  const ks = meta.kernelspec as { name?: string; language?: string } | undefined;
  return ks ? `${ks.name ?? '?'} (language ${ks.language ?? '?'})` : 'missing';
}

/** Where a cell of the source that the submission lacks goes back: after the nearest earlier source cell it has. */
function insertionIndex(source: Notebook, sourceIndex: number, work: NotebookCell[]): number {
  for (let j = sourceIndex - 1; j >= 0; j--) {
    const s = source.cells[j];
    const gid = gradeId(s);
    const at = work.findIndex((c) => (gid !== undefined && gradeId(c) === gid) || c.id === s.id);
    if (at >= 0) return at + 1;
  }
  return 0;
}

/**
 * Restore a parsed submission against the instructor's notebook (`source`, with solutions and hidden tests) and
 * the released one (`released`, its checksums tell whether a student edited a locked cell).
 */
export function restoreSubmission(sub: Notebook, source: Notebook, released: Notebook): { nb: Notebook; changes: string[]; problems: string[] } {
  const changes: string[] = [];
  const problems: string[] = [];
  const nb = clone(sub);
  if (kernelLabel(nb.metadata) !== kernelLabel(source.metadata)) {
    changes.push(`kernelspec was ${kernelLabel(nb.metadata)}: graded with ${kernelLabel(source.metadata)}`);
  }
  nb.metadata = { ...nb.metadata, kernelspec: clone(source.metadata.kernelspec), language_info: clone(source.metadata.language_info) };
  // repeated grade ids (a copied test cell): the first keeps its role
  const ids = new Set<string>();
  nb.cells.forEach((c, i) => {
    const gid = gradeId(c);
    if (gid === undefined) return;
    if (ids.has(gid)) {
      delete (c.metadata as { nbgrader?: unknown }).nbgrader;
      changes.push(`cells[${i}] repeated the grade id '${gid}': graded as an ordinary cell`);
    } else ids.add(gid);
  });
  const releasedById = new Map(released.cells.filter((c) => gradeId(c)).map((c) => [gradeId(c)!, c]));
  source.cells.forEach((s, si) => {
    const gid = gradeId(s);
    if (gid === undefined || !(isLocked(s) || isSolution(s))) return;
    let at = nb.cells.findIndex((c) => gradeId(c) === gid);
    if (at < 0) at = nb.cells.findIndex((c) => c.id === s.id && gradeId(c) === undefined);
    const label = isSolution(s) ? `answer cell '${gid}'` : `${nbgraderMeta(s)!.grade ? 'test' : 'read-only'} cell '${gid}'`;
    if (at < 0) {
      if (isSolution(s)) problems.push(`${label} was deleted: not restored (the answer is the student's), so its tests fail`);
      else {
        nb.cells.splice(insertionIndex(source, si, nb.cells), 0, clone(s));
        changes.push(`${label} was deleted: restored from the source`);
      }
      return;
    }
    const cell = nb.cells[at];
    if (isSolution(s)) {
      cell.metadata = { ...cell.metadata, nbgrader: clone(nbgraderMeta(s)) };
      if (cell.cell_type !== s.cell_type) {
        changes.push(`${label} was turned into a ${cell.cell_type} cell: graded as ${s.cell_type} again`);
        cell.cell_type = s.cell_type;
      }
      return;
    }
    const rel = releasedById.get(gid);
    const probe: NotebookCell = { ...cell, cell_type: s.cell_type, metadata: { nbgrader: clone(nbgraderMeta(rel ?? s)) } };
    const asSource = cell.cell_type === s.cell_type && cellSource(cell) === cellSource(s);
    const edited = !asSource && (cell.cell_type !== s.cell_type || !rel || computeChecksum(probe) !== nbgraderMeta(rel)!.checksum);
    if (edited) changes.push(`${label} was edited: restored from the source`);
    nb.cells[at] = { ...clone(s), id: cell.id };
  });
  const have = new Set(nb.cells.map((c) => c.id));
  const missing = released.cells.filter((c) => !gradeId(c) && !have.has(c.id)).map((c) => c.id);
  if (missing.length) problems.push(`${missing.length} lesson cell(s) of the released notebook are missing (ids ${missing.slice(0, 8).join(', ')}${missing.length > 8 ? ', …' : ''}): not restored`);
  return { nb, changes, problems };
}

/** Mark every code cell to run on after an error (nbgrader executes the whole notebook), outputs cleared. */
export function prepareForRun(nb: Notebook): Notebook {
  const out = clone(nb);
  for (const c of out.cells) {
    if (c.cell_type !== 'code') continue;
    c.outputs = [];
    c.execution_count = null;
    const tags = (c.metadata.tags ?? []).filter((t) => t !== 'raises-exception');
    c.metadata.tags = [...tags, 'raises-exception'];
    c.source = toSourceLines(cellSource(c));
  }
  return out;
}

/** Read, restore and prepare one submission's text. */
export function sanitize(text: string, source: Notebook, released: Notebook): Sanitized {
  const parsed = parseSubmission(text);
  if (!parsed.nb) return { nb: null, unreadable: parsed.unreadable, changes: [], problems: parsed.problems };
  const r = restoreSubmission(parsed.nb, source, released);
  return { nb: r.nb, changes: r.changes, problems: [...parsed.problems, ...r.problems] };
}
