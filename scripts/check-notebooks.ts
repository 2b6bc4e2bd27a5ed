/**
 * Notebook hygiene: every notebooks/*.ipynb is valid nbformat 4.5, has the tslab kernelspec, unique cell ids,
 * no outputs or execution counts, and no shorthand property naming an earlier cell's variable (a tslab pitfall).
 *   npm run check:notebooks [-- files…] [--fix]      (--fix strips outputs and execution counts, adds missing ids)
 */
import * as fs from 'fs';
import * as path from 'path';
import { Notebook, TSLAB_METADATA, stableCellId, validateNotebook } from './lib/nbformat';
import { lintShorthand } from './notebooks/lint';

export interface CheckResult {
  file: string;
  problems: string[];
  fixed: boolean;
}

/** The hygiene problems of one parsed notebook (structure, kernelspec, ids, outputs). */
export function notebookProblems(nb: unknown): string[] {
  const problems = validateNotebook(nb);
  const n = nb as Notebook;
  const ks = (n?.metadata as { kernelspec?: { name?: string } } | undefined)?.kernelspec;
  if (ks?.name !== TSLAB_METADATA.kernelspec.name) problems.push(`kernelspec must be '${TSLAB_METADATA.kernelspec.name}', got ${JSON.stringify(ks?.name)}`);
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

function main(): void {
  const args = process.argv.slice(2);
  const fix = args.includes('--fix');
  const inputs = args.filter((a) => a !== '--fix');
  const root = path.resolve(__dirname, '..');
  const dir = path.join(root, 'notebooks');
  const files = inputs.length ? inputs : fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort().map((f) => path.join(dir, f)) : [];
  const results = checkFiles(files, fix);
  let bad = 0;
  for (const r of results) {
    const rel = path.relative(process.cwd(), r.file);
    if (r.problems.length) {
      bad++;
      console.error(`✘ ${rel}${r.fixed ? ' (fixed, still:)' : ''}\n  ${r.problems.join('\n  ')}`);
    } else console.log(`✔ ${rel}${r.fixed ? ' (fixed)' : ''}`);
  }
  console.log(`${results.length - bad}/${results.length} notebooks clean`);
  process.exit(bad ? 1 : 0);
}

if (require.main === module) main();
