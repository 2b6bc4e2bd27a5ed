/**
 * Where each executed notebook goes: `<out>/notebooks/<name>.ipynb`, one distinct name per input (the file's
 * name, or its path relative to the colliding inputs' common folder when two inputs share a name), and never
 * over a source: an output that resolves to an input, or into the kit's `notebooks/` folder, is refused.
 */
import * as fs from 'fs';
import * as path from 'path';
import { UsageError } from '../lib/cli';

/** One notebook to run: its source, the name in the report and the site, and the executed copy's path. */
export interface PlannedNotebook {
  file: string;
  name: string;
  output: string;
}

/** The path with symbolic links resolved as far as it exists (the rest appended as written). */
export function resolveReal(p: string): string {
  const abs = path.resolve(p);
  const rest: string[] = [];
  let head = abs;
  for (;;) {
    try {
      return path.join(fs.realpathSync(head), ...rest.reverse());
    } catch {
      const up = path.dirname(head);
      if (up === head) return abs;
      rest.push(path.basename(head));
      head = up;
    }
  }
}

function commonFolder(files: string[]): string {
  let dir = path.dirname(files[0]);
  while (!files.every((f) => f.startsWith(dir + path.sep))) {
    const up = path.dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return dir;
}

/** Distinct names: the file name, or for inputs sharing a name their relative path with `__` for each `/`. */
export function uniqueNames(files: string[]): string[] {
  const base = files.map((f) => path.basename(f, '.ipynb'));
  const names = base.slice();
  for (const b of new Set(base)) {
    const group = files.map((f, i) => i).filter((i) => base[i] === b);
    if (group.length < 2) continue;
    const top = commonFolder(group.map((i) => files[i]));
    for (const i of group) names[i] = path.relative(top, files[i]).replace(/\.ipynb$/, '').split(path.sep).join('__');
  }
  const seen = new Map<string, number>();
  return names.map((n) => {
    const k = (seen.get(n) ?? 0) + 1;
    seen.set(n, k);
    return k === 1 ? n : `${n}-${k}`;
  });
}

function sameFile(a: string, b: string): boolean {
  if (resolveReal(a) === resolveReal(b)) return true;
  try {
    const [sa, sb] = [fs.statSync(a), fs.statSync(b)];
    return sa.ino === sb.ino && sa.dev === sb.dev; // hard links
  } catch {
    return false;
  }
}

/**
 * Names and output paths for the run; throws a UsageError when an executed copy would replace a source
 * notebook or land in `<root>/notebooks/` (the committed, output-free sources).
 */
export function planOutputs(files: string[], outDir: string, root: string): PlannedNotebook[] {
  const names = uniqueNames(files);
  const sources = resolveReal(path.join(root, 'notebooks'));
  const rel = (p: string) => {
    const r = path.relative(process.cwd(), p);
    return r === '' ? '.' : r.startsWith('..') ? p : r;
  };
  return files.map((file, i) => {
    const output = path.join(outDir, 'notebooks', `${names[i]}.ipynb`);
    const real = resolveReal(output);
    const over = files.find((f) => sameFile(f, output));
    if (over) {
      throw new UsageError(`--out ${rel(outDir)}: the executed copy of ${rel(file)} would be written to ${rel(output)}, over the source ${rel(over)}. ` +
        'Executed copies go to DIR/notebooks/<name>.ipynb: pick another --out (the default is build/).');
    }
    if (real === sources || real.startsWith(sources + path.sep)) {
      throw new UsageError(`--out ${rel(outDir)}: executed copies would be written into ${rel(sources)}/, where the notebook sources live (committed without outputs). ` +
        'Pick another --out (the default is build/).');
    }
    return { file, name: names[i], output };
  });
}
