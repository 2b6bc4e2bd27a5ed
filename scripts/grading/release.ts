/**
 * The student version of an instructor notebook, as nbgrader's generate_assignment makes it: solutions replaced by
 * the stub, hidden tests removed, outputs cleared, grade / solution / locked cells checksummed and marked
 * undeletable (test and read-only cells also uneditable).
 */
import { Notebook, NotebookCell, cellSource, toSourceLines } from '../lib/nbformat';
import {
  BEGIN_HIDDEN, BEGIN_SOLUTION, CODE_STUB, END_HIDDEN, END_SOLUTION, TEXT_STUB,
  computeChecksum, isGrade, isLocked, isSolution, metadataProblems, nbgraderMeta, replaceRegions, solutionLines,
} from './nbgrader';

/** What a release did to one notebook. */
export interface ReleaseSummary {
  name: string;
  solutionCells: number;
  gradeCells: number;
  points: number;
  hiddenRegions: number;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** Strip the hidden-test regions of a source (what a student's copy of a test cell shows). */
export function withoutHiddenTests(source: string, where: string): string {
  return replaceRegions(source, BEGIN_HIDDEN, END_HIDDEN, null, where).source;
}

function releaseCell(cell: NotebookCell, where: string, counts: { hidden: number }): void {
  const src = cellSource(cell);
  const stub = cell.cell_type === 'code' ? CODE_STUB.split('\n') : TEXT_STUB.split('\n');
  const sol = replaceRegions(src, BEGIN_SOLUTION, END_SOLUTION, stub, where);
  if (sol.found && !isSolution(cell)) throw new Error(`${where}: a solution region in a cell that is not a solution cell (set metadata.nbgrader.solution = true)`);
  let out = isSolution(cell) && !sol.found ? stub.join('\n') : sol.source;
  const hid = replaceRegions(out, BEGIN_HIDDEN, END_HIDDEN, null, where);
  if (hid.found && !isGrade(cell)) throw new Error(`${where}: a hidden-test region in a cell that is not a grade cell (set metadata.nbgrader.grade = true)`);
  if (hid.found) counts.hidden++;
  out = hid.source;
  cell.source = toSourceLines(out);
  if (cell.cell_type === 'code') {
    cell.outputs = [];
    cell.execution_count = null;
  }
  const m = nbgraderMeta(cell);
  if (m && (isGrade(cell) || isSolution(cell) || isLocked(cell))) {
    // nbgrader's LockCells defaults: answers undeletable; tests and read-only cells also uneditable
    cell.metadata.deletable = false;
    if (!isSolution(cell)) cell.metadata.editable = false;
    m.checksum = computeChecksum(cell);
    m.cell_type = cell.cell_type;
  }
}

/** Release one instructor notebook (not changed); throws naming the notebook and cell on bad metadata or markers. */
export function releaseNotebook(source: Notebook, name: string): { nb: Notebook; summary: ReleaseSummary } {
  const problems = metadataProblems(source, name);
  if (problems.length) throw new Error(`${name}: nbgrader metadata is not valid:\n  ${problems.join('\n  ')}`);
  const language = (source.metadata.kernelspec as { language?: string } | undefined)?.language;
  if (language !== 'typescript') throw new Error(`${name}: kernelspec.language is '${language}', expected 'typescript' (the only language whose code stub the kit knows)`);
  const nb = clone(source);
  delete nb.metadata.celltoolbar;
  const counts = { hidden: 0 };
  nb.cells.forEach((cell, i) => releaseCell(cell, `${name}: cells[${i}] (id ${cell.id})`, counts));
  const grades = nb.cells.filter(isGrade);
  const summary: ReleaseSummary = {
    name,
    solutionCells: nb.cells.filter(isSolution).length,
    gradeCells: grades.length,
    points: grades.reduce((s, c) => s + Number(nbgraderMeta(c)!.points ?? 0), 0),
    hiddenRegions: counts.hidden,
  };
  const leaks = leakedLines(source, nb);
  if (leaks.length) throw new Error(`${name}: the release still contains solution or hidden-test text:\n  ${leaks.join('\n  ')}`);
  return { nb, summary };
}

/**
 * Lines of the source's solution and hidden-test regions that appear in the released notebook (lines that also
 * occur outside those regions in the source, like a lone `}`, are not counted).
 */
export function leakedLines(source: Notebook, released: Notebook): string[] {
  const secret = new Set<string>();
  const open = new Set<string>();
  for (const c of source.cells) {
    const src = cellSource(c);
    for (const l of solutionLines(src)) secret.add(l);
    const outside = replaceRegions(replaceRegions(src, BEGIN_SOLUTION, END_SOLUTION, null, c.id).source, BEGIN_HIDDEN, END_HIDDEN, null, c.id).source;
    for (const l of outside.split('\n')) open.add(l.trim());
  }
  const text = new Set(released.cells.flatMap((c) => cellSource(c).split('\n').map((l) => l.trim())));
  const markers = [...text].filter((l) => [BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN].some((m) => l.includes(m)));
  return [...markers, ...[...secret].filter((l) => !open.has(l) && text.has(l))];
}
