/**
 * Reading a notebook for the runner: nbformat 4, a TypeScript kernelspec, and cells it can run — anything else is
 * refused with a message naming the file, the cell and the fix, before a kernel is started.
 */
import * as fs from 'fs';
import { Notebook } from '../lib/nbformat';

/** A notebook the runner refuses; `cellIndex` names the cell at fault (-1: the notebook as a whole). */
export class NotebookFormatError extends Error {
  constructor(message: string, readonly cellIndex = -1) {
    super(message);
    this.name = 'NotebookFormatError';
  }
}

const CELL_TYPES = ['code', 'markdown', 'raw'];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The notebook's language: kernelspec.language, else language_info.name, else undefined. */
function notebookLanguage(meta: Record<string, unknown>): { language?: string; kernel?: string } {
  const ks = isObject(meta.kernelspec) ? meta.kernelspec : {};
  const li = isObject(meta.language_info) ? meta.language_info : {};
  const language = typeof ks.language === 'string' ? ks.language : typeof li.name === 'string' ? li.name : undefined;
  return { language, kernel: typeof ks.name === 'string' ? ks.name : undefined };
}

/** Refuses a notebook written for another language (a Python notebook would fail in confusing ways in tslab). */
function checkLanguage(file: string, meta: Record<string, unknown>): void {
  const { language, kernel } = notebookLanguage(meta);
  const ts = language ? language.toLowerCase() === 'typescript' : kernel === undefined || kernel === 'tslab';
  if (!ts) {
    throw new NotebookFormatError(
      `${file}: the notebook's kernel is '${kernel ?? '?'}' (language ${language ?? 'not given'}); the runner executes TypeScript notebooks ` +
        "in tslab. Set metadata.kernelspec to { name: 'tslab', language: 'typescript' } (npm run check:notebooks -- --fix does it) if the code is TypeScript.",
    );
  }
}

/** Each cell an object with a known cell_type and a string (or list of strings) source. */
function checkCells(file: string, cells: unknown[]): void {
  cells.forEach((cell, i) => {
    const where = `${file}: cells[${i}]`;
    if (!isObject(cell)) throw new NotebookFormatError(`${where} is ${cell === null ? 'null' : typeof cell}, not a cell (expected an object with cell_type and source)`, i);
    if (typeof cell.cell_type !== 'string' || !CELL_TYPES.includes(cell.cell_type)) {
      throw new NotebookFormatError(`${where}: cell_type must be one of ${CELL_TYPES.join(', ')}, got ${JSON.stringify(cell.cell_type)}`, i);
    }
    const src = cell.source;
    if (!(typeof src === 'string' || (Array.isArray(src) && src.every((l) => typeof l === 'string')))) {
      throw new NotebookFormatError(`${where}: source must be a string or a list of strings, got ${JSON.stringify(src)?.slice(0, 60)}`, i);
    }
    if (cell.metadata === undefined) cell.metadata = {};
    if (!isObject(cell.metadata)) throw new NotebookFormatError(`${where}: metadata must be an object`, i);
    const tags = cell.metadata.tags;
    if (tags !== undefined && !(Array.isArray(tags) && tags.every((t) => typeof t === 'string'))) {
      throw new NotebookFormatError(`${where}: metadata.tags must be a list of strings, got ${JSON.stringify(tags)}`, i);
    }
    if (typeof cell.id !== 'string') cell.id = '';
  });
}

/** Read and check a notebook file: valid JSON, nbformat 4, a TypeScript kernel, well-formed cells. */
export function readNotebook(file: string): Notebook {
  let nb: unknown;
  try {
    nb = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new NotebookFormatError(`${file}: ${(e as NodeJS.ErrnoException).code ? (e as Error).message : `not valid JSON (${(e as Error).message})`}`);
  }
  if (!isObject(nb) || nb.nbformat !== 4 || !Array.isArray(nb.cells)) {
    throw new NotebookFormatError(`${file}: not an nbformat 4 notebook (expected nbformat: 4 and a cells array)`);
  }
  if (nb.metadata === undefined) nb.metadata = {};
  if (!isObject(nb.metadata)) throw new NotebookFormatError(`${file}: metadata must be an object`);
  checkLanguage(file, nb.metadata);
  checkCells(file, nb.cells);
  return nb as unknown as Notebook;
}
