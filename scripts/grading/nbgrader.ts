/**
 * nbgrader's cell conventions, written from its documentation (metadata format, schema version 3, the
 * generate_assignment and autograde steps): cell roles, the cell checksum, solution and hidden-test regions,
 * and the metadata rules. The kit's release and grade commands use these so their notebooks work with nbgrader too.
 */
import { createHash } from 'crypto';
import { Notebook, NotebookCell, cellSource } from '../lib/nbformat';

/** `metadata.nbgrader` of a cell (schema version 3). */
export interface NbgraderMeta {
  schema_version: number;
  grade: boolean;
  solution: boolean;
  locked: boolean;
  task?: boolean;
  grade_id?: string;
  points?: number;
  checksum?: string;
  cell_type?: 'code' | 'markdown' | 'raw';
}

export const SCHEMA_VERSION = 3;
export const BEGIN_SOLUTION = 'BEGIN SOLUTION';
export const END_SOLUTION = 'END SOLUTION';
export const BEGIN_HIDDEN = 'BEGIN HIDDEN TESTS';
export const END_HIDDEN = 'END HIDDEN TESTS';
/** What replaces a TypeScript solution (nbgrader_config.py sets the same stub). */
export const CODE_STUB = '// YOUR CODE HERE';
/** What replaces a written (markdown) solution: nbgrader's default text stub. */
export const TEXT_STUB = 'YOUR ANSWER HERE';

/** The cell's nbgrader metadata, or null. */
export function nbgraderMeta(cell: NotebookCell): NbgraderMeta | null {
  const m = (cell.metadata as { nbgrader?: unknown }).nbgrader;
  return m && typeof m === 'object' && !Array.isArray(m) ? (m as NbgraderMeta) : null;
}

/** A grade cell: autograder tests (code) or a manually graded answer. */
export function isGrade(cell: NotebookCell): boolean {
  return nbgraderMeta(cell)?.grade === true;
}

/** A solution cell: where the student writes an answer. */
export function isSolution(cell: NotebookCell): boolean {
  return nbgraderMeta(cell)?.solution === true;
}

/** A locked cell (restored from the source when graded): grade cells that are not solutions, and read-only cells. */
export function isLocked(cell: NotebookCell): boolean {
  const m = nbgraderMeta(cell);
  if (!m || m.solution) return false;
  return m.grade === true || m.locked === true;
}

/** Python's str(float(x)) for the point values nbgrader hashes (2 → '2.0', 0.5 → '0.5'). */
export function pythonFloat(x: number): string {
  if (Number.isInteger(x) && Math.abs(x) < 1e16) return x.toFixed(1);
  return String(x).replace(/e([+-])(\d)$/, 'e$10$2');
}

/**
 * nbgrader's cell checksum: MD5 of the source, the cell type, whether it is grade / solution / locked (Python's
 * True/False), its grade_id and, for grade cells, its points as a Python float.
 */
export function computeChecksum(cell: NotebookCell): string {
  const m = nbgraderMeta(cell);
  if (!m?.grade_id) throw new Error(`checksum: the cell ${cell.id} has no nbgrader grade_id`);
  const py = (b: boolean) => (b ? 'True' : 'False');
  const h = createHash('md5');
  h.update(cellSource(cell), 'utf8');
  h.update(cell.cell_type, 'utf8');
  h.update(py(isGrade(cell)) + py(isSolution(cell)) + py(isLocked(cell)), 'utf8');
  h.update(m.grade_id, 'utf8');
  if (isGrade(cell)) h.update(pythonFloat(Number(m.points)), 'utf8');
  return h.digest('hex');
}

/** Where a region was malformed: the notebook's cell and the problem. */
export class RegionError extends Error {}

/**
 * Replace every line range between a line containing `begin` and one containing `end` (markers included) by
 * `replacement` lines (indented like the begin line; none to delete). Returns the new source and whether any
 * region was found. Nested or unterminated regions throw.
 */
export function replaceRegions(source: string, begin: string, end: string, replacement: string[] | null, where: string): { source: string; found: boolean } {
  const out: string[] = [];
  let inside = false;
  let found = false;
  for (const line of source.split('\n')) {
    if (line.includes(begin)) {
      if (inside) throw new RegionError(`${where}: nested '${begin}' (close the first region with '${end}')`);
      inside = true;
      found = true;
      const indent = /^\s*/.exec(line)![0];
      for (const r of replacement ?? []) out.push(indent + r);
    } else if (line.includes(end)) {
      if (!inside) throw new RegionError(`${where}: '${end}' without a '${begin}' before it`);
      inside = false;
    } else if (!inside) out.push(line);
  }
  if (inside) throw new RegionError(`${where}: '${begin}' without a matching '${end}'`);
  return { source: out.join('\n'), found };
}

/** The lines between solution markers (what the release must not contain), trimmed, blank lines dropped. */
export function solutionLines(source: string): string[] {
  const lines: string[] = [];
  let inside = false;
  for (const line of source.split('\n')) {
    if (line.includes(BEGIN_SOLUTION) || line.includes(BEGIN_HIDDEN)) inside = true;
    else if (line.includes(END_SOLUTION) || line.includes(END_HIDDEN)) inside = false;
    else if (inside && line.trim() !== '') lines.push(line.trim());
  }
  return lines;
}

const GRADE_ID = /^[a-zA-Z0-9_-]+$/;

/**
 * nbgrader's metadata rules (schema version 3) for every cell of a notebook; returns the problems, each naming the
 * cell. Types and keys: grade/solution/locked booleans, schema_version 3, grade_id of [A-Za-z0-9_-] when the cell is
 * grade, solution or locked, points ≥ 0 on grade cells, markdown grade cells also solutions (and the reverse),
 * task cells markdown, grade ids unique.
 */
export function metadataProblems(nb: Notebook, name: string): string[] {
  const problems: string[] = [];
  const ids = new Map<string, number>();
  const allowed = new Set(['schema_version', 'grade', 'solution', 'locked', 'task', 'grade_id', 'points', 'checksum', 'cell_type']);
  nb.cells.forEach((cell, i) => {
    const m = nbgraderMeta(cell);
    if (!m) return;
    const where = `${name}: cells[${i}] (id ${cell.id})`;
    for (const k of Object.keys(m)) if (!allowed.has(k)) problems.push(`${where}: unknown nbgrader key '${k}'`);
    if (m.schema_version !== SCHEMA_VERSION) problems.push(`${where}: nbgrader.schema_version must be ${SCHEMA_VERSION}, got ${JSON.stringify(m.schema_version)}`);
    for (const k of ['grade', 'solution', 'locked'] as const) if (typeof m[k] !== 'boolean') problems.push(`${where}: nbgrader.${k} must be true or false`);
    if (m.task !== undefined && typeof m.task !== 'boolean') problems.push(`${where}: nbgrader.task must be true or false`);
    const role = m.grade || m.solution || m.locked || m.task;
    if (role) {
      if (typeof m.grade_id !== 'string' || !GRADE_ID.test(m.grade_id)) problems.push(`${where}: needs a grade_id of letters, digits, '-' and '_'`);
      else if (ids.has(m.grade_id)) problems.push(`${where}: grade_id '${m.grade_id}' is also used by cells[${ids.get(m.grade_id)}]`);
      else ids.set(m.grade_id, i);
    }
    if (m.grade && !(typeof m.points === 'number' && m.points >= 0)) problems.push(`${where}: a grade cell needs points ≥ 0`);
    if (m.points !== undefined && (typeof m.points !== 'number' || m.points < 0)) problems.push(`${where}: points must be a number ≥ 0`);
    if (m.checksum !== undefined && !/^[0-9a-f]{32}$/.test(String(m.checksum))) problems.push(`${where}: checksum must be 32 hex digits`);
    if (m.cell_type !== undefined && !['code', 'markdown', 'raw'].includes(m.cell_type)) problems.push(`${where}: cell_type must be code, markdown or raw`);
    if (m.task) {
      if (cell.cell_type !== 'markdown') problems.push(`${where}: a task cell must be markdown`);
    } else if (cell.cell_type === 'markdown' && Boolean(m.grade) !== Boolean(m.solution)) {
      problems.push(`${where}: a markdown cell must be both grade and solution (a manually graded answer) or neither`);
    }
  });
  return problems;
}

/** The grade cells of a notebook in order: grade_id, points, index. */
export function gradeCells(nb: Notebook): Array<{ gradeId: string; points: number; index: number }> {
  const out: Array<{ gradeId: string; points: number; index: number }> = [];
  nb.cells.forEach((c, index) => {
    const m = nbgraderMeta(c);
    if (m?.grade && m.grade_id) out.push({ gradeId: m.grade_id, points: Number(m.points ?? 0), index });
  });
  return out;
}
