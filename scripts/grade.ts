/**
 * Grade a class's notebooks: `npm run grade -- SUBMISSIONS [--out DIR] [--timeout S] [--notebook-timeout S]
 * [--jobs N] [--quick] [--source DIR] [--references FILE]`.
 * SUBMISSIONS holds <student>/<notebook>.ipynb (or nbgrader's submitted/<student>/<assignment>/<notebook>.ipynb).
 * Each submission is restored against its instructor notebook (locked cells and hidden tests put back), run in a
 * fresh kernel, and its test cells scored; DIR (default build/grades) gets grades.csv, grading.json and
 * feedback/<student>/<notebook>.html. A bad submission is graded as far as it can be and reported; no submission
 * file is written to.
 */
import * as fs from 'fs';
import * as path from 'path';
import { CommandSpec, UsageError, runCommand, REPO_ROOT, sharedFlag } from './lib/cli';
import { kernelThreadsEnv, runJobs } from './lib/jobs';
import { Notebook } from './lib/nbformat';
import { NotebookResult } from './notebooks/execute';
import { liveKernels } from './notebooks/jupyter-client';
import { GradedNotebook, prepareFeedbackDir, writeFeedbackPage, writeIndexes } from './grading/feedback';
import { nbgraderMeta } from './grading/nbgrader';
import { releaseNotebook } from './grading/release';
import { GradeRun, makeWorkspace, runForGrading } from './grading/run';
import { prepareForRun, sanitize } from './grading/sanitize';
import { CSV_HEADER, csvRows, scoreNotebook, unreadableScores } from './grading/score';
import { Submission, findSubmissions, safeName } from './grading/submissions';

const SPEC = {
  name: 'npm run grade --',
  summary: 'Grade submitted notebooks: restore locked cells and hidden tests, run each in a fresh kernel, score the test cells, write grades.csv and feedback pages.',
  flags: {
    out: { kind: 'string', arg: 'DIR', help: 'where grades.csv, grading.json and feedback/ go (default build/grades)' },
    timeout: sharedFlag.timeout(300),
    'notebook-timeout': { kind: 'number', arg: 'S', min: 1, help: 'seconds one notebook may run, re-runs included (default 1800)' },
    jobs: sharedFlag.jobs('notebooks graded', 1),
    quick: { kind: 'boolean', help: 'quick mode (KIT_QUICK=1) with the quick-mode references; full mode by default' },
    source: sharedFlag.source(),
    references: { kind: 'string', arg: 'FILE', help: 'the exercise references (default data/references/exercises.json)' },
  },
  positionals: { name: 'SUBMISSIONS', help: 'folder of <student>/<notebook>.ipynb or submitted/<student>/<assignment>/<notebook>.ipynb', min: 1, max: 1 },
} satisfies CommandSpec;

/** What a grading run needs. */
export interface GradeOptions {
  submissions: string;
  outDir: string;
  sourceDir: string;
  cellTimeout: number;
  notebookTimeout: number;
  jobs: number;
  quick: boolean;
  references?: string;
  /** progress lines (default: console.log) */
  log?: (line: string) => void;
}

/** The outcome of a grading run. */
export interface GradeSummary {
  graded: GradedNotebook[];
  /** submissions that were not graded (no instructor notebook of that name), and files that are not notebooks */
  skipped: string[];
  csv: string;
  seconds: number;
}

interface Source {
  source: Notebook;
  released: Notebook;
}

/** The instructor notebooks of a folder with their released versions, by name. */
export function loadSources(dir: string): Map<string, Source> {
  if (!fs.existsSync(dir)) throw new UsageError(`${dir}: no such folder of instructor notebooks`);
  const out = new Map<string, Source>();
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ipynb')).sort()) {
    const name = f.slice(0, -6);
    const source = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as Notebook;
    out.set(name, { source, released: releaseNotebook(source, name).nb });
  }
  return out;
}

function pageResult(run: GradeRun, name: string, file: string): NotebookResult | null {
  const last = run.last;
  if (!last) return null;
  const first = run.incidents[0];
  return {
    ...last, name, path: file, seconds: run.seconds,
    status: run.stopped ? last.status : first ? first.kind : 'ok',
    failure: run.stopped ? last.failure : undefined,
    warnings: run.attempts > 1 ? [`run ${run.attempts} times: ${run.incidents.map((i) => `cell ${i.cellIndex} ${i.kind === 'timeout' ? 'timed out' : 'ended the kernel'}`).join(', ')}; each time the notebook was re-run without that cell`] : [],
  };
}

const nbgraderMetaId = (c: Notebook['cells'][number] | undefined) => (c ? nbgraderMeta(c)?.grade_id : undefined);

/** Grade one submission; never throws (a failure of the grader itself is reported as the notebook's status). */
export async function gradeOne(sub: Submission, src: Source, workDir: string, o: GradeOptions): Promise<GradedNotebook> {
  const g: GradedNotebook = { student: sub.student, notebook: sub.notebook, file: sub.file, scores: [], changes: [], problems: [], nb: null, result: null, seconds: 0 };
  try {
    const s = sanitize(fs.readFileSync(sub.file, 'utf8'), src.source, src.released);
    g.changes = s.changes;
    g.problems = s.problems;
    if (!s.nb) {
      g.unreadable = s.unreadable;
      g.scores = unreadableScores(src.source, s.unreadable ?? 'unreadable');
      return g;
    }
    const env: Record<string, string> = { KIT_QUICK: o.quick ? '1' : '0', NBGRADER_EXECUTION: 'autograde', KIT_RECORD_ANSWERS: '', ...kernelThreadsEnv(o.jobs) };
    if (o.references) env.KIT_REFERENCES = path.resolve(o.references);
    const run = await runForGrading(prepareForRun(s.nb), workDir, sub.notebook, { cellTimeout: o.cellTimeout, notebookTimeout: o.notebookTimeout, env });
    g.nb = run.nb;
    g.seconds = run.seconds;
    g.result = pageResult(run, sub.notebook, sub.file);
    g.scores = scoreNotebook(src.source, run);
    for (const i of run.incidents) {
      const gid = nbgraderMetaId(s.nb.cells[i.cellIndex]);
      g.problems.push(`cell ${i.cellIndex}${gid ? ` (${gid})` : ''} ${i.kind === 'timeout' ? `did not finish within ${o.cellTimeout} s` : 'ended the kernel'}: the notebook was run again without it`);
    }
    if (run.stopped) g.problems.push(`the run stopped at cell ${run.stopped.cellIndex}: ${run.stopped.reason}`);
  } catch (e) {
    g.unreadable = `the grader failed on this submission: ${(e as Error).message}`;
    g.scores = unreadableScores(src.source, g.unreadable);
  }
  return g;
}

/** Grade every submission under o.submissions, `jobs` at a time; writes grades.csv, grading.json and feedback/. */
export async function gradeAll(o: GradeOptions, stopped: () => boolean = () => false): Promise<GradeSummary> {
  const started = Date.now();
  const log = o.log ?? ((l: string) => console.log(l));
  const sources = loadSources(o.sourceDir);
  const { submissions, ignored } = findSubmissions(o.submissions);
  const skipped = ignored.map((f) => `${f}: not a notebook`);
  for (const s of submissions.filter((x) => !sources.has(x.notebook))) {
    skipped.push(`${path.relative(o.submissions, s.file)}: no instructor notebook ${s.notebook}.ipynb in ${o.sourceDir}`);
  }
  const todo = submissions.filter((s) => sources.has(s.notebook));
  const ws = makeWorkspace(REPO_ROOT);
  const graded: GradedNotebook[] = new Array(todo.length);
  try {
    await runJobs(todo.length, o.jobs, async (i) => {
      const sub = todo[i];
      const g = await gradeOne(sub, sources.get(sub.notebook)!, path.join(ws, `${i}-${safeName(sub.student)}`), o);
      graded[i] = g;
      const t = g.scores.reduce((a, c) => [a[0] + c.score, a[1] + c.maxScore], [0, 0]);
      log(`${g.unreadable ? '✘' : '✔'} ${sub.student}/${sub.notebook}: ${t[0]}/${t[1]} (${g.seconds.toFixed(1)} s)${[g.unreadable, ...g.changes, ...g.problems].filter(Boolean).map((n) => `\n    ${n}`).join('')}`);
    }, stopped);
  } finally {
    fs.rmSync(ws, { recursive: true, force: true });
  }
  const done = graded.filter(Boolean);
  const csv = [CSV_HEADER, ...done.flatMap((g) => csvRows(g.student, g.notebook, g.scores))].join('\n') + '\n';
  fs.mkdirSync(o.outDir, { recursive: true });
  fs.writeFileSync(path.join(o.outDir, 'grades.csv'), csv);
  const details = done.map(({ nb: _nb, result, ...rest }) => ({ ...rest, status: result?.status ?? (rest.unreadable ? 'unreadable' : 'not run') }));
  fs.writeFileSync(path.join(o.outDir, 'grading.json'), JSON.stringify({ generated: new Date().toISOString(), quick: o.quick, skipped, notebooks: details }, null, 2) + '\n');
  const fb = path.join(o.outDir, 'feedback');
  prepareFeedbackDir(fb);
  for (const g of done) writeFeedbackPage(fb, g);
  writeIndexes(fb, done);
  return { graded: done, skipped, csv, seconds: (Date.now() - started) / 1000 };
}

if (require.main === module) {
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    console.error(`\nstopping ${liveKernels.size} kernel(s)…`);
    for (const k of liveKernels) k.killNow();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', () => { for (const k of liveKernels) k.killNow(); });
  void runCommand(SPEC, process.argv.slice(2), async (flags, positionals) => {
    const submissions = path.resolve(positionals[0]);
    if (!fs.existsSync(submissions) || !fs.statSync(submissions).isDirectory()) {
      throw new UsageError(`${positionals[0]}: no such folder (expected <student>/<notebook>.ipynb or submitted/<student>/<assignment>/<notebook>.ipynb inside)`);
    }
    const o: GradeOptions = {
      submissions,
      outDir: path.resolve(flags.out ?? path.join(REPO_ROOT, 'build', 'grades')),
      sourceDir: path.resolve(flags.source ?? path.join(REPO_ROOT, 'notebooks')),
      cellTimeout: flags.timeout ?? 300,
      notebookTimeout: flags['notebook-timeout'] ?? 1800,
      jobs: flags.jobs ?? 1,
      quick: flags.quick,
      references: flags.references,
    };
    const rel = path.relative(submissions, o.outDir);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) throw new UsageError(`--out ${o.outDir} is inside the submissions folder: choose a folder outside it (submissions are only read)`);
    const r = await gradeAll(o, () => interrupted);
    for (const s of r.skipped) console.log(`skipped ${s}`);
    const show = (p: string) => path.relative(process.cwd(), p) || '.';
    console.log(`\ngraded ${r.graded.length} notebook(s) of ${new Set(r.graded.map((g) => g.student)).size} student(s) in ${r.seconds.toFixed(1)} s (${o.quick ? 'quick' : 'full'} mode)`);
    console.log(`grades: ${show(path.join(o.outDir, 'grades.csv'))} · feedback: ${show(path.join(o.outDir, 'feedback', 'index.html'))}`);
    return interrupted ? 130 : 0;
  });
}
