/**
 * Re-measure the exercise references: `npm run references [-- NOTEBOOK…] [--seeds 42,43,44] [--modes full,quick]
 * [--jobs N] [--timeout S] [--source DIR] [--file FILE]`.
 * Runs each instructor notebook (solutions in place) once per seed and mode with KIT_RECORD_ANSWERS set: every
 * `assertAnswer` records the solution's value. A range reference becomes [min, max] of the values over the seeds
 * (its tolerance is kept); a hash reference is checked against the solution's answer. A recorded id without a
 * reference gets a range entry. Seeds default to the notebook's own `let seed = N;` and the next two.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CommandSpec, UsageError, runCommand, REPO_ROOT, sharedFlag } from './lib/cli';
import { kernelThreadsEnv, runJobs } from './lib/jobs';
import { Notebook, cellSource } from './lib/nbformat';
import { runNotebook } from './notebooks/execute';
import { ReferenceFile, ReferenceMode, answerHash, normalizeAnswer } from '../lib/exercises';
import { makeWorkspace } from './grading/run';
import { sourceNotebooks } from './release';

const SPEC = {
  name: 'npm run references --',
  summary: 'Re-measure the exercise references by running the instructor notebooks over several seeds, in full and quick mode.',
  flags: {
    seeds: { kind: 'ints', arg: 'A,B,C', help: "seeds to run (default: the notebook's own seed and the next two)" },
    modes: { kind: 'strings', arg: 'full,quick', help: 'modes to measure (default both)' },
    jobs: sharedFlag.jobs('notebooks run', 1),
    timeout: sharedFlag.timeout(600),
    source: sharedFlag.source(),
    file: { kind: 'string', arg: 'FILE', help: 'the reference file to update (default data/references/exercises.json)' },
  },
  positionals: { name: 'NOTEBOOK', help: 'only these notebooks (default: every notebook)' },
} satisfies CommandSpec;

/** One recorded answer of one run. */
export interface Recorded {
  id: string;
  value: unknown;
  mode: ReferenceMode;
  seed: number;
  notebook: string;
}

/** What a references run found. */
export interface ReferencesResult {
  updated: string[];
  added: string[];
  problems: string[];
}

/** The default seed of a notebook: `let seed = N;` in its cell tagged parameters. */
export function notebookSeed(nb: Notebook): number | null {
  const p = nb.cells.find((c) => c.metadata?.tags?.includes('parameters'));
  const m = p ? /^\s*let\s+seed\s*=\s*(\d+)\s*;/m.exec(cellSource(p)) : null;
  return m ? Number(m[1]) : null;
}

/** Fold recorded answers into a reference file (changed in place); returns what changed and what was wrong. */
export function applyRecords(refs: ReferenceFile, records: Recorded[], when: string): ReferencesResult {
  const out: ReferencesResult = { updated: [], added: [], problems: [] };
  const groups = new Map<string, Recorded[]>();
  for (const r of records) groups.set(`${r.id}\u0000${r.mode}`, [...(groups.get(`${r.id}\u0000${r.mode}`) ?? []), r]);
  for (const [key, rs] of [...groups].sort(([a], [b]) => a.localeCompare(b))) {
    const [id, mode] = key.split('\u0000') as [string, ReferenceMode];
    let ref = refs.exercises[id];
    if (!ref) {
      if (!rs.every((r) => typeof r.value === 'number')) {
        out.problems.push(`${id}: no reference entry and the answers are not numbers: add a hash entry by hand`);
        continue;
      }
      ref = refs.exercises[id] = { kind: 'range', what: `${rs[0].notebook}: (describe this answer)`, tolerance: 0, full: { min: NaN, max: NaN }, quick: { min: NaN, max: NaN } };
      out.added.push(id);
    }
    if (ref.kind === 'hash') {
      for (const r of rs) {
        const norm = normalizeAnswer(r.value, ref.normalize);
        if (norm === null || !ref.sha256.includes(answerHash(id, norm))) out.problems.push(`${id}: the solution's answer (${mode} mode, seed ${r.seed}) does not match the stored hash`);
      }
      continue;
    }
    const bad = rs.filter((r) => typeof r.value !== 'number' || !Number.isFinite(r.value));
    if (bad.length) {
      out.problems.push(`${id}: the solution recorded non-numbers for a range (${bad.map((r) => JSON.stringify(r.value)).join(', ')})`);
      continue;
    }
    const sorted = [...rs].sort((a, b) => a.seed - b.seed);
    const values = sorted.map((r) => r.value as number);
    ref[mode] = { min: Math.min(...values), max: Math.max(...values), seeds: sorted.map((r) => r.seed), values, measured: when };
    out.updated.push(`${id} (${mode})`);
  }
  return out;
}

interface Job {
  file: string;
  name: string;
  mode: ReferenceMode;
  seed: number;
}

/** Run every job (notebook × mode × seed), `jobs` at a time; returns the recorded answers and the runs that failed. */
async function measure(todo: Job[], jobs: number, cellTimeout: number, refFile: string): Promise<{ records: Recorded[]; failures: string[] }> {
  // each run in its own folder of a workspace whose `..` is the kit, wherever the source notebooks live
  const tmp = makeWorkspace(REPO_ROOT);
  const records: Recorded[] = [];
  const failures: string[] = [];
  await runJobs(todo.length, jobs, async (i) => {
    const j = todo[i];
    const rec = path.join(tmp, `${j.name}-${j.mode}-${j.seed}.jsonl`);
    const input = path.join(tmp, `run-${i}`, `${j.name}.ipynb`);
    fs.mkdirSync(path.dirname(input));
    fs.copyFileSync(j.file, input);
    const env = { KIT_QUICK: j.mode === 'quick' ? '1' : '0', KIT_RECORD_ANSWERS: rec, KIT_REFERENCES: refFile, ...kernelThreadsEnv(jobs) };
    const r = await runNotebook(input, path.join(tmp, `run-${i}`, 'executed.ipynb'), { cellTimeout, notebookTimeout: 4 * 3600, env, params: { seed: j.seed } });
    const lines = fs.existsSync(rec) ? fs.readFileSync(rec, 'utf8').split('\n').filter(Boolean) : [];
    for (const l of lines) records.push({ ...(JSON.parse(l) as { id: string; value: unknown; mode: ReferenceMode }), seed: j.seed, notebook: j.name });
    const what = `${j.name} (${j.mode}, seed ${j.seed})`;
    if (r.status !== 'ok') failures.push(`${what}: ${r.status} at cell ${r.failure?.cellIndex}: ${r.failure?.error.split('\n')[0]}`);
    console.log(`${r.status === 'ok' ? '✔' : '✘'} ${what}: ${lines.length} answer(s) recorded, ${r.seconds.toFixed(1)} s`);
  });
  fs.rmSync(tmp, { recursive: true, force: true });
  return { records, failures };
}

/** Measure the given notebooks and update the reference file; returns what changed and the problems. */
export async function updateReferences(files: string[], o: { seeds?: number[]; modes: ReferenceMode[]; jobs: number; cellTimeout: number; refFile: string }): Promise<ReferencesResult> {
  const refs = JSON.parse(fs.readFileSync(o.refFile, 'utf8')) as ReferenceFile;
  const todo: Job[] = [];
  const skipped: string[] = [];
  for (const file of files) {
    const nb = JSON.parse(fs.readFileSync(file, 'utf8')) as Notebook;
    if (!nb.cells.some((c) => /\bassertAnswer\(/.test(cellSource(c)))) {
      skipped.push(path.basename(file, '.ipynb'));
      continue;
    }
    const own = notebookSeed(nb) ?? 42;
    const seeds = o.seeds ?? [own, own + 1, own + 2];
    for (const mode of o.modes) for (const seed of seeds) todo.push({ file, name: path.basename(file, '.ipynb'), mode, seed });
  }
  if (skipped.length) console.log(`no answer checks (assertAnswer) in ${skipped.join(', ')}: not run`);
  const { records, failures } = await measure(todo, o.jobs, o.cellTimeout, o.refFile);
  const host = `${os.cpus().length} × ${os.cpus()[0]?.model.trim() ?? 'cpu'}, load ${os.loadavg()[0].toFixed(1)}`;
  const result = applyRecords(refs, records, `${new Date().toISOString().slice(0, 10)} (${host})`);
  result.problems.unshift(...failures);
  fs.writeFileSync(o.refFile, JSON.stringify(refs, null, 2) + '\n');
  return result;
}

if (require.main === module) {
  void runCommand(SPEC, process.argv.slice(2), async (flags, positionals) => {
    const modes = (flags.modes ?? ['full', 'quick']) as ReferenceMode[];
    for (const m of modes) if (m !== 'full' && m !== 'quick') throw new UsageError(`--modes takes full and/or quick, got '${m}'`);
    const refFile = path.resolve(flags.file ?? path.join(REPO_ROOT, 'data', 'references', 'exercises.json'));
    if (!fs.existsSync(refFile)) throw new UsageError(`${refFile}: no reference file (create one with {"schema": 1, "exercises": {}})`);
    const files = sourceNotebooks(path.resolve(flags.source ?? path.join(REPO_ROOT, 'notebooks')), positionals);
    const r = await updateReferences(files, { seeds: flags.seeds, modes, jobs: flags.jobs ?? 1, cellTimeout: flags.timeout ?? 600, refFile });
    console.log(`\nupdated ${r.updated.length} range(s)${r.added.length ? `, added ${r.added.join(', ')}` : ''} in ${path.relative(process.cwd(), refFile)}`);
    for (const p of r.problems) console.error(`problem: ${p}`);
    return r.problems.length ? 1 : 0;
  });
}
