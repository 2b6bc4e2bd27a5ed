/**
 * The student version of every notebook: `npm run release [-- --out DIR] [--source DIR] [notebooks…]`.
 * notebooks/ stays the instructor's version (solutions in place; `npm start` and the tests run it, so the course
 * passes its own checks); DIR (default build/release/) gets the copies to hand out.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CommandSpec, UsageError, runCommand, REPO_ROOT, sharedFlag } from './lib/cli';
import { Notebook } from './lib/nbformat';
import { ReleaseSummary, releaseNotebook } from './grading/release';

const SPEC = {
  name: 'npm run release --',
  summary: 'Write the student version of the notebooks: solutions replaced by the stub, hidden tests removed, outputs cleared, locked cells checksummed.',
  flags: {
    out: { kind: 'string', arg: 'DIR', help: 'where the student notebooks go (default build/release)' },
    source: sharedFlag.source(),
  },
  positionals: { name: 'NOTEBOOK', help: 'only these notebooks (names or files; default: every notebook of --source)' },
} satisfies CommandSpec;

/** The instructor notebooks to release: every *.ipynb of dir, or the named ones (with or without .ipynb). */
export function sourceNotebooks(dir: string, only: string[] = []): string[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`${dir}: no such folder of notebooks`);
  const all = fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).sort();
  if (only.length === 0) return all.map((f) => path.join(dir, f));
  return only.map((n) => {
    const base = path.basename(n).replace(/\.ipynb$/, '');
    if (!all.includes(`${base}.ipynb`)) throw new UsageError(`${n}: no notebook ${base}.ipynb in ${dir}`);
    return path.join(dir, `${base}.ipynb`);
  });
}

/** Release the given instructor notebooks into outDir; returns one summary per notebook. */
export function releaseAll(files: string[], outDir: string): ReleaseSummary[] {
  fs.mkdirSync(outDir, { recursive: true });
  return files.map((file) => {
    const name = path.basename(file, '.ipynb');
    let source: Notebook;
    try {
      source = JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
    } catch (e) {
      throw new Error(`${file}: not valid JSON (${(e as Error).message})`);
    }
    const { nb, summary } = releaseNotebook(source, name);
    fs.writeFileSync(path.join(outDir, `${name}.ipynb`), JSON.stringify(nb, null, 1) + '\n');
    return summary;
  });
}

if (require.main === module) {
  void runCommand(SPEC, process.argv.slice(2), (flags, positionals) => {
    const sourceDir = path.resolve(flags.source ?? path.join(REPO_ROOT, 'notebooks'));
    const outDir = path.resolve(flags.out ?? path.join(REPO_ROOT, 'build', 'release'));
    if (outDir === sourceDir) throw new UsageError('--out must differ from the source folder (the instructor notebooks would be overwritten)');
    const summaries = releaseAll(sourceNotebooks(sourceDir, positionals), outDir);
    for (const s of summaries) {
      console.log(`${s.name}: ${s.solutionCells} answer cell(s), ${s.gradeCells} test cell(s) worth ${s.points} point(s), ${s.hiddenRegions} hidden test region(s) removed`);
    }
    console.log(`released ${summaries.length} notebook(s) to ${path.relative(process.cwd(), outDir) || '.'}`);
  });
}
