/**
 * Authoring aid: turn a "percent" script into a clean notebook source.
 *   npx tsx scripts/notebook-from-percent.ts draft.ts notebooks/02-strategies.ipynb
 * In the script, `// %% [markdown]` starts a markdown cell (its lines are `// `-commented),
 * `// %%` starts a code cell, and `// %% tags=a,b` adds cell tags (e.g. raises-exception, parameters).
 * The output has the tslab kernelspec, stable cell ids and no outputs. Only the .ipynb is committed.
 */
import * as fs from 'fs';
import * as path from 'path';
import { Notebook, NotebookCell, TSLAB_METADATA, stableCellId, toSourceLines } from './lib/nbformat';
import { runCommand, type CommandSpec } from './lib/cli';

/** Parse percent-format text into notebook cells. */
export function cellsFromPercent(text: string, name: string): NotebookCell[] {
  const cells: NotebookCell[] = [];
  let current: { type: 'code' | 'markdown'; tags: string[]; lines: string[] } | null = null;
  const flush = () => {
    if (!current) return;
    let body = current.lines;
    if (current.type === 'markdown') body = body.map((l) => l.replace(/^\/\/ ?/, ''));
    const text = body.join('\n').replace(/^\n+|\n+$/g, '');
    if (text.length > 0) {
      const cell: NotebookCell = {
        id: stableCellId(name, cells.length),
        cell_type: current.type,
        metadata: current.tags.length ? { tags: current.tags } : {},
        source: toSourceLines(text),
      };
      if (current.type === 'code') Object.assign(cell, { execution_count: null, outputs: [] });
      cells.push(cell);
    }
  };
  for (const line of text.split('\n')) {
    const m = /^\/\/ %%(?:\s+\[(markdown)\])?(?:\s+tags=([\w,-]+))?\s*$/.exec(line);
    if (m) {
      flush();
      current = { type: m[1] ? 'markdown' : 'code', tags: m[2] ? m[2].split(',') : [], lines: [] };
    } else if (current) current.lines.push(line);
  }
  flush();
  return cells;
}

const spec = {
  name: 'npx tsx scripts/notebook-from-percent.ts',
  summary: 'Turns a percent-format draft (// %% cells) into a clean notebook source: tslab kernelspec, stable cell ids, no outputs.',
  flags: {},
  positionals: { name: 'DRAFT.ts NOTEBOOK.ipynb', help: 'the draft to read and the notebook to write', min: 2, max: 2 },
} satisfies CommandSpec;

if (require.main === module) {
  void runCommand(spec, process.argv.slice(2), (_f, [src, out]) => {
    const name = path.basename(out, '.ipynb');
    const nb: Notebook = { nbformat: 4, nbformat_minor: 5, metadata: TSLAB_METADATA, cells: cellsFromPercent(fs.readFileSync(src, 'utf8'), name) };
    fs.writeFileSync(out, JSON.stringify(nb, null, 1) + '\n');
    console.log(`wrote ${out}: ${nb.cells.length} cells`);
  });
}
