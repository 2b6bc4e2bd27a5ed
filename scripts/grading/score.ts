/**
 * Score the graded cells of an executed notebook by nbgrader's rule for autograder tests: full points when the
 * cell ran without an error output and without anything on stderr, else 0 (tslab prints a cell's last value on
 * stdout, not as an execute_result, so nbgrader's partial credit from a numeric value does not arise), and the
 * grades.csv rows.
 */
import { Notebook, NotebookCell } from '../lib/nbformat';
import { gradeCells, nbgraderMeta } from './nbgrader';
import type { GradeRun } from './run';

/** How a graded cell fared. */
export type CellStatus = 'passed' | 'failed' | 'timeout' | 'kernel-died' | 'not-run' | 'unreadable';

/** One graded cell's score. */
export interface CellScore {
  gradeId: string;
  score: number;
  maxScore: number;
  status: CellStatus;
  /** the first line of what the check said (its ✔ line, or the error) */
  message: string;
}

type Out = { output_type: string; name?: string; text?: string | string[]; ename?: string; evalue?: string; traceback?: string[] };

const text = (v: string | string[] | undefined) => (Array.isArray(v) ? v.join('') : v ?? '');

/** The first telling line of a cell's error (stderr stream or error output), without tslab's source excerpt. */
export function errorLine(outputs: Out[]): string {
  const err = outputs.find((o) => o.output_type === 'error');
  if (err) return `${err.ename ?? 'Error'}: ${err.evalue ?? ''}`.trim();
  const stderr = outputs.filter((o) => o.output_type === 'stream' && o.name === 'stderr').map((o) => text(o.text)).join('');
  const lines = stderr.split('\n').map((l) => l.trim().replace(/^\[/, '')).filter(Boolean);
  return lines.find((l) => /^[A-Z]\w*(Error|Exception)\b|^\d+:\d+ - |^stopped/.test(l)) ?? lines[0] ?? '';
}

/** nbgrader's verdict on one executed test cell: failed when it has an error output or any stderr output. */
export function cellFailed(cell: NotebookCell): boolean {
  return ((cell.outputs ?? []) as Out[]).some((o) => o.output_type === 'error' || (o.output_type === 'stream' && o.name === 'stderr'));
}

/** Score every grade cell of the source notebook against the executed submission. */
export function scoreNotebook(source: Notebook, run: GradeRun): CellScore[] {
  const nb = run.nb;
  return gradeCells(source).map(({ gradeId, points }) => {
    const base = { gradeId, maxScore: points };
    const at = nb ? nb.cells.findIndex((c) => nbgraderMeta(c)?.grade_id === gradeId) : -1;
    if (!nb || at < 0) return { ...base, score: 0, status: 'not-run' as const, message: run.stopped?.reason ?? 'the notebook did not run' };
    const cell = nb.cells[at];
    const incident = run.incidents.find((i) => i.cellIndex === at);
    if (incident) return { ...base, score: 0, status: incident.kind, message: incident.kind === 'timeout' ? 'this cell timed out' : 'this cell ended the kernel' };
    const outputs = (cell.outputs ?? []) as Out[];
    if (cell.execution_count == null && outputs.length === 0) {
      const why = run.stopped && at > run.stopped.cellIndex ? `not run: ${run.stopped.reason}` : 'not run';
      return { ...base, score: 0, status: 'not-run' as const, message: why };
    }
    if (cellFailed(cell)) return { ...base, score: 0, status: 'failed' as const, message: errorLine(outputs) };
    const said = outputs.filter((o) => o.output_type === 'stream').map((o) => text(o.text)).join('').split('\n').find((l) => l.trim()) ?? '';
    return { ...base, score: points, status: 'passed' as const, message: said.trim() };
  });
}

/** Zero scores for every grade cell of a notebook that could not be graded at all. */
export function unreadableScores(source: Notebook, reason: string): CellScore[] {
  return gradeCells(source).map(({ gradeId, points }) => ({ gradeId, score: 0, maxScore: points, status: 'unreadable' as const, message: reason }));
}

/** One CSV field (RFC 4180 quoting when needed). */
export function csvField(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export const CSV_HEADER = 'student,notebook,grade_id,score,max_score,status';

/** grades.csv rows of one student's notebook. */
export function csvRows(student: string, notebook: string, scores: CellScore[]): string[] {
  return scores.map((s) => [student, notebook, s.gradeId, s.score, s.maxScore, s.status].map(csvField).join(','));
}
