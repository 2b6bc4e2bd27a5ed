/**
 * Minimal nbformat 4.5 types and helpers shared by the kit's scripts (runner, site, hygiene, authoring).
 */
import { createHash } from 'crypto';

export interface NotebookCell {
  id: string;
  cell_type: 'code' | 'markdown' | 'raw';
  metadata: Record<string, unknown> & { tags?: string[] };
  source: string | string[];
  outputs?: unknown[];
  execution_count?: number | null;
}

export interface Notebook {
  nbformat: 4;
  nbformat_minor: number;
  metadata: Record<string, unknown>;
  cells: NotebookCell[];
}

/** The kernelspec and language metadata every kit notebook carries. */
export const TSLAB_METADATA = {
  kernelspec: { name: 'tslab', display_name: 'TypeScript', language: 'typescript' },
  language_info: {
    name: 'typescript',
    file_extension: '.ts',
    mimetype: 'text/typescript',
    codemirror_mode: { name: 'javascript', typescript: true },
  },
};

/** A cell's source as one string (nbformat allows a string or a list of lines). */
export function cellSource(cell: Pick<NotebookCell, 'source'>): string {
  return Array.isArray(cell.source) ? cell.source.join('') : cell.source;
}

/** Split text into nbformat's list-of-lines form (each line keeps its newline but the last). */
export function toSourceLines(text: string): string[] {
  const lines = text.split('\n');
  return lines.map((l, i) => (i < lines.length - 1 ? l + '\n' : l)).filter((l, i, a) => !(i === a.length - 1 && l === ''));
}

/** A stable cell id (nbformat 4.5: 1–64 chars of [a-zA-Z0-9-_]) from a notebook name and the cell's position. */
export function stableCellId(notebookName: string, index: number): string {
  return createHash('sha1').update(`${notebookName}#${index}`).digest('hex').slice(0, 12);
}
