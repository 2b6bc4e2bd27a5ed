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

/** The kit's Jupyter kernel: the kernelspec folder name (what notebooks' metadata and `--kernel_name` use). */
export const KERNEL_NAME = 'tslab';
/** The name shown in JupyterLab / Notebook / VS Code's kernel picker (the installed kernel.json says the same). */
export const KERNEL_DISPLAY_NAME = 'TypeScript (transfer kit)';

/**
 * The kernelspec and language metadata every kit notebook carries — exactly what Jupyter writes on opening:
 * Notebook and JupyterLab copy the kernel.json's name, display_name and language, and the language_info of tslab's
 * kernel_info_reply (tslab/dist/jupyter.js `handleKernel`, key order included), and mark the notebook changed
 * when either differs. Equal here, opening a notebook changes nothing.
 */
export const TSLAB_METADATA = {
  kernelspec: { name: KERNEL_NAME, display_name: KERNEL_DISPLAY_NAME, language: 'typescript' },
  language_info: {
    name: 'typescript',
    version: '3.7.2',
    mimetype: 'text/typescript',
    file_extension: '.ts',
    codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true },
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

const CELL_ID = /^[a-zA-Z0-9-_]{1,64}$/;
const MIME = /^[a-zA-Z0-9\-+.]+\/[a-zA-Z0-9\-+.]+$/;

function isMultiline(v: unknown): boolean {
  return typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkKeys(where: string, o: Record<string, unknown>, required: string[], allowed: string[], errors: string[]): void {
  for (const k of required) if (!(k in o)) errors.push(`${where}: missing '${k}'`);
  for (const k of Object.keys(o)) if (!allowed.includes(k)) errors.push(`${where}: unexpected property '${k}'`);
}

function checkBundle(where: string, data: unknown, errors: string[]): void {
  if (!isObject(data)) { errors.push(`${where}: expected a MIME bundle object`); return; }
  for (const [mime, v] of Object.entries(data)) {
    if (!MIME.test(mime)) errors.push(`${where}: '${mime}' is not a MIME type`);
    else if (!/[+/]json$/.test(mime) && !isMultiline(v)) errors.push(`${where}['${mime}']: expected a string or a list of strings`);
  }
}

/** Check one output against nbformat 4.5's output schemas. */
function checkOutput(where: string, o: unknown, errors: string[]): void {
  if (!isObject(o)) { errors.push(`${where}: expected an object`); return; }
  switch (o.output_type) {
    case 'stream':
      checkKeys(where, o, ['output_type', 'name', 'text'], ['output_type', 'name', 'text'], errors);
      if (typeof o.name !== 'string') errors.push(`${where}: stream name must be a string`);
      if (!isMultiline(o.text)) errors.push(`${where}: stream text must be a string or list of strings`);
      break;
    case 'display_data':
    case 'execute_result': {
      const keys = o.output_type === 'execute_result' ? ['output_type', 'execution_count', 'data', 'metadata'] : ['output_type', 'data', 'metadata'];
      checkKeys(where, o, keys, keys, errors);
      checkBundle(`${where}.data`, o.data, errors);
      if (!isObject(o.metadata)) errors.push(`${where}: metadata must be an object`);
      if (o.output_type === 'execute_result' && !(o.execution_count === null || (Number.isInteger(o.execution_count) && (o.execution_count as number) >= 0))) {
        errors.push(`${where}: execution_count must be an integer ≥ 0 or null`);
      }
      break;
    }
    case 'error':
      checkKeys(where, o, ['output_type', 'ename', 'evalue', 'traceback'], ['output_type', 'ename', 'evalue', 'traceback'], errors);
      if (!Array.isArray(o.traceback) || !o.traceback.every((t) => typeof t === 'string')) errors.push(`${where}: traceback must be a list of strings`);
      break;
    default:
      errors.push(`${where}: unknown output_type '${String(o.output_type)}'`);
  }
}

/**
 * Structural validation against the nbformat 4.5 JSON schema (hand-written: the schema ships with Python's
 * nbformat, not on npm). Returns a list of errors, empty when valid.
 */
export function validateNotebook(nb: unknown): string[] {
  const errors: string[] = [];
  if (!isObject(nb)) return ['notebook: expected a JSON object'];
  checkKeys('notebook', nb, ['metadata', 'nbformat_minor', 'nbformat', 'cells'], ['metadata', 'nbformat_minor', 'nbformat', 'cells'], errors);
  if (nb.nbformat !== 4) errors.push(`notebook: nbformat must be 4, got ${String(nb.nbformat)}`);
  if (!(Number.isInteger(nb.nbformat_minor) && (nb.nbformat_minor as number) >= 5)) errors.push(`notebook: nbformat_minor must be ≥ 5 (cell ids), got ${String(nb.nbformat_minor)}`);
  const meta = nb.metadata;
  if (!isObject(meta)) errors.push('notebook: metadata must be an object');
  else {
    if (meta.kernelspec !== undefined) {
      const ks = meta.kernelspec;
      if (!isObject(ks) || typeof ks.name !== 'string' || typeof ks.display_name !== 'string') errors.push('metadata.kernelspec: needs string name and display_name');
    }
    if (meta.language_info !== undefined && (!isObject(meta.language_info) || typeof meta.language_info.name !== 'string')) errors.push('metadata.language_info: needs a string name');
  }
  if (!Array.isArray(nb.cells)) { errors.push('notebook: cells must be a list'); return errors; }
  nb.cells.forEach((cell, i) => {
    const where = `cells[${i}]`;
    if (!isObject(cell)) { errors.push(`${where}: expected an object`); return; }
    const base = ['id', 'cell_type', 'metadata', 'source'];
    if (typeof cell.id !== 'string' || !CELL_ID.test(cell.id)) errors.push(`${where}: id must be 1–64 characters of [a-zA-Z0-9-_], got ${JSON.stringify(cell.id)}`);
    if (!isObject(cell.metadata)) errors.push(`${where}: metadata must be an object`);
    else if (cell.metadata.tags !== undefined && (!Array.isArray(cell.metadata.tags) || !cell.metadata.tags.every((t) => typeof t === 'string' && !t.includes(',')))) {
      errors.push(`${where}: metadata.tags must be a list of strings without commas`);
    }
    if (!isMultiline(cell.source)) errors.push(`${where}: source must be a string or a list of strings`);
    if (cell.cell_type === 'code') {
      checkKeys(where, cell, [...base, 'outputs', 'execution_count'], [...base, 'outputs', 'execution_count'], errors);
      if (!(cell.execution_count === null || (Number.isInteger(cell.execution_count) && (cell.execution_count as number) >= 0))) errors.push(`${where}: execution_count must be an integer ≥ 0 or null`);
      if (!Array.isArray(cell.outputs)) errors.push(`${where}: outputs must be a list`);
      else cell.outputs.forEach((o, j) => checkOutput(`${where}.outputs[${j}]`, o, errors));
    } else if (cell.cell_type === 'markdown' || cell.cell_type === 'raw') {
      checkKeys(where, cell, base, [...base, 'attachments'], errors);
    } else errors.push(`${where}: unknown cell_type '${String(cell.cell_type)}'`);
  });
  return errors;
}
