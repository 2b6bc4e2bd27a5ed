/**
 * Find the submissions to grade: `<student>/<notebook>.ipynb`, or nbgrader's
 * `submitted/<student>/<assignment>/<notebook>.ipynb` (SUBMISSIONS may be the course folder or its submitted/).
 */
import * as fs from 'fs';
import * as path from 'path';

/** One submitted notebook file. */
export interface Submission {
  student: string;
  /** the notebook's name (file name without .ipynb) */
  notebook: string;
  /** nbgrader's assignment folder, when the submission came in that layout */
  assignment?: string;
  file: string;
}

/** The submissions under dir, sorted by student and notebook; what is not a notebook is listed in `ignored`. */
export function findSubmissions(dir: string): { submissions: Submission[]; ignored: string[] } {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    throw new Error(`${dir}: no such folder (expected <student>/<notebook>.ipynb or submitted/<student>/<assignment>/<notebook>.ipynb)`);
  }
  const base = fs.existsSync(path.join(dir, 'submitted')) && fs.statSync(path.join(dir, 'submitted')).isDirectory() ? path.join(dir, 'submitted') : dir;
  const submissions: Submission[] = [];
  const ignored: string[] = [];
  const entries = (d: string) => fs.readdirSync(d, { withFileTypes: true }).filter((e) => !e.name.startsWith('.')).sort((a, b) => a.name.localeCompare(b.name));
  for (const s of entries(base)) {
    const sdir = path.join(base, s.name);
    if (!s.isDirectory()) {
      ignored.push(path.relative(dir, sdir));
      continue;
    }
    for (const e of entries(sdir)) {
      const p = path.join(sdir, e.name);
      if (e.isFile() && e.name.endsWith('.ipynb')) submissions.push({ student: s.name, notebook: e.name.slice(0, -6), file: p });
      else if (e.isDirectory() && e.name !== '.ipynb_checkpoints') {
        for (const f of entries(p)) {
          if (f.isFile() && f.name.endsWith('.ipynb')) submissions.push({ student: s.name, assignment: e.name, notebook: f.name.slice(0, -6), file: path.join(p, f.name) });
          else ignored.push(path.relative(dir, path.join(p, f.name)));
        }
      } else ignored.push(path.relative(dir, p));
    }
  }
  return { submissions, ignored };
}

/** A name safe as a folder name (students' folder names are kept where they are safe already). */
export function safeName(name: string): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^\.+/, '_');
  return s || '_';
}
