/**
 * Notebook hygiene, a contributor's check (`.ci/run` runs it; `npm test` does not, so a student's saved outputs never
 * fail the tests): every notebooks/*.ipynb is valid nbformat 4.5, has the kit's kernelspec metadata (exactly what
 * Jupyter writes on opening), unique cell ids, no outputs or execution counts, and no shorthand property naming an
 * earlier cell's variable (a tslab pitfall).
 *   npm run check:notebooks [-- files…] [--fix]      (--fix strips outputs and execution counts, adds missing ids)
 */
import * as fs from 'fs';
import * as path from 'path';
import { isDeepStrictEqual } from 'util';
import { Notebook, TSLAB_METADATA, stableCellId, validateNotebook } from './lib/nbformat';
import { lintShorthand } from './notebooks/lint';
import { runCommand, type CommandSpec, type ParsedFlags } from './lib/cli';

export interface CheckResult {
  file: string;
  problems: string[];
  fixed: boolean;
}

/** The hygiene problems of one parsed notebook (structure, kernelspec, ids, outputs). */
export function notebookProblems(nb: unknown): string[] {
  const problems = validateNotebook(nb);
  const n = nb as Notebook;
  const meta = (n?.metadata ?? {}) as { kernelspec?: { name?: string }; language_info?: unknown };
  if (meta.kernelspec?.name !== TSLAB_METADATA.kernelspec.name) problems.push(`kernelspec must be '${TSLAB_METADATA.kernelspec.name}', got ${JSON.stringify(meta.kernelspec?.name)}`);
  else {
    // Jupyter compares these with a deep, order-blind equality on opening and marks the notebook changed if they differ.
    for (const key of ['kernelspec', 'language_info'] as const) {
      if (!isDeepStrictEqual(meta[key], TSLAB_METADATA[key])) {
        problems.push(`metadata.${key} differs from what Jupyter writes on opening (the notebook would open as changed): ${JSON.stringify(meta[key])} (--fix)`);
      }
    }
  }
  const seen = new Map<string, number>();
  (Array.isArray(n?.cells) ? n.cells : []).forEach((c, i) => {
    if (typeof c?.id === 'string') {
      if (seen.has(c.id)) problems.push(`cells[${i}]: duplicate id '${c.id}' (also cells[${seen.get(c.id)}])`);
      else seen.set(c.id, i);
    }
    if (c?.cell_type === 'code') {
      if (Array.isArray(c.outputs) && c.outputs.length > 0) problems.push(`cells[${i}]: has ${c.outputs.length} output(s) (commit notebooks clean: --fix)`);
      if (c.execution_count !== null && c.execution_count !== undefined) problems.push(`cells[${i}]: has execution_count ${c.execution_count} (--fix)`);
    }
  });
  if (Array.isArray(n?.cells) && problems.length === 0) problems.push(...lintShorthand(n.cells));
  return problems;
}

/** Strip outputs and execution counts, give every cell a unique valid id, set the tslab metadata and nbformat 4.5. */
export function cleanNotebook(nb: Notebook, name: string): Notebook {
  const ids = new Set<string>();
  nb.cells.forEach((c, i) => {
    if (c.cell_type === 'code') { c.outputs = []; c.execution_count = null; }
    if (typeof c.id !== 'string' || !/^[a-zA-Z0-9-_]{1,64}$/.test(c.id) || ids.has(c.id)) c.id = stableCellId(name, i);
    ids.add(c.id);
  });
  nb.nbformat = 4;
  nb.nbformat_minor = 5;
  nb.metadata = { ...nb.metadata, ...TSLAB_METADATA };
  return nb;
}

/** Check (and with fix, clean) notebook files. */
export function checkFiles(files: string[], fix: boolean): CheckResult[] {
  return files.map((file) => {
    let nb: unknown;
    try {
      nb = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      return { file, problems: [`not valid JSON: ${(e as Error).message}`], fixed: false };
    }
    let problems = notebookProblems(nb);
    let fixed = false;
    if (fix && problems.length) {
      cleanNotebook(nb as Notebook, path.basename(file, '.ipynb'));
      fs.writeFileSync(file, JSON.stringify(nb, null, 1) + '\n');
      fixed = true;
      problems = notebookProblems(nb);
    }
    return { file, problems, fixed };
  });
}

const SPEC = {
  name: 'npm run check:notebooks --',
  summary: "A contributor's check (CI runs it; `npm test` does not): notebook sources are valid nbformat 4.5 with the kit's kernelspec, unique cell ids and no outputs.",
  flags: {
    fix: { kind: 'boolean', help: 'strip outputs and execution counts, add missing ids, set the kit\'s kernelspec (rewrites the files)' },
  },
  positionals: { name: 'FILES', help: 'notebooks to check (default: notebooks/*.ipynb)' },
  epilog: 'A student who ran the notebooks and wants them back as shipped: git checkout notebooks/',
} satisfies CommandSpec;

/** The notebooks to check: the given files, else every notebooks/*.ipynb. */
function defaultFiles(): string[] {
  const dir = path.join(path.resolve(__dirname, '..'), 'notebooks');
  return fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort().map((f) => path.join(dir, f)) : [];
}

function main(flags: ParsedFlags<typeof SPEC>, inputs: string[]): number {
  const results = checkFiles(inputs.length ? inputs : defaultFiles(), flags.fix);
  let bad = 0;
  for (const r of results) {
    const rel = path.relative(process.cwd(), r.file);
    if (r.problems.length) {
      bad++;
      console.error(`✘ ${rel}${r.fixed ? ' (fixed, still:)' : ''}\n  ${r.problems.join('\n  ')}`);
    } else console.log(`✔ ${rel}${r.fixed ? ' (fixed)' : ''}`);
  }
  console.log(`${results.length - bad}/${results.length} notebooks clean`);
  if (bad && !flags.fix) console.log('contributors: npm run check:notebooks -- --fix cleans them; to undo your own runs instead: git checkout notebooks/');
  return bad ? 1 : 0;
}

if (require.main === module) void runCommand(SPEC, process.argv.slice(2), main);
