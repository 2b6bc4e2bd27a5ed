// `npm run grade`: fixture submissions of the tiny notebook graded with real tslab kernels, each with its exact
// expected score — the instructor's notebook (full marks), the release untouched (zero, graded without a grader
// error), a test cell edited to pass (restored: the wrong answer scores 0), a deleted test cell (restored, scored),
// an endless loop in one answer (that exercise 0 after the cell timeout, the others graded), an answer that ends the
// kernel, a Python kernelspec, a file that is not JSON — and no submission file changed. Then the units: layouts,
// restoring, scoring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Notebook, cellSource, toSourceLines } from '../../scripts/lib/nbformat';
import { nbgraderMeta } from '../../scripts/grading/nbgrader';
import { releaseNotebook } from '../../scripts/grading/release';
import { parseSubmission, prepareForRun, restoreSubmission } from '../../scripts/grading/sanitize';
import { csvField, scoreNotebook } from '../../scripts/grading/score';
import { findSubmissions } from '../../scripts/grading/submissions';
import { REFERENCES, SOURCE_DIR, fixtureSubmissions, readNb, solved } from '../fixtures/grading/helpers';

const root = path.resolve(__dirname, '..', '..');
const source = () => readNb(path.join(SOURCE_DIR, 'tiny.ipynb'));
const released = () => releaseNotebook(source(), 'tiny').nb;
const sha = (f: string) => createHash('sha256').update(fs.readFileSync(f)).digest('hex');
const byGid = (nb: Notebook, gid: string) => nb.cells.find((c) => nbgraderMeta(c)?.grade_id === gid);

test('npm run grade: every fixture submission gets its exact score, bad ones are reported, no submission changes', { timeout: 600_000 }, () => {
  const subs = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-subs-'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-grades-'));
  const files: Record<string, string> = {};
  for (const [student, text] of Object.entries(fixtureSubmissions(source(), released()))) {
    fs.mkdirSync(path.join(subs, student));
    files[student] = path.join(subs, student, 'tiny.ipynb');
    fs.writeFileSync(files[student], text);
  }
  const before = Object.fromEntries(Object.entries(files).map(([s, f]) => [s, [sha(f), fs.statSync(f).mtimeMs]]));
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'grade.ts'), subs, '--out', out, '--source', SOURCE_DIR,
    '--references', REFERENCES, '--timeout', '20', '--jobs', '2'], { cwd: root, encoding: 'utf8', env: { ...process.env, KIT_QUICK: '1' }, timeout: 540_000 });
  assert.equal(res.status, 0, res.stdout + res.stderr);
  // full mode by default, even with KIT_QUICK=1 in the grader's own environment: ex1's answer is 40 + seed
  const csv = fs.readFileSync(path.join(out, 'grades.csv'), 'utf8');
  const rows = (student: string, ex1: string, ex2: string, ex3: string) => [`${student},tiny,ex1-check,${ex1}`, `${student},tiny,ex2-check,${ex2}`, `${student},tiny,ex3-check,${ex3}`];
  assert.deepEqual(csv.trim().split('\n'), [
    'student,notebook,grade_id,score,max_score,status',
    ...rows('crash', '2,2,passed', '1,1,passed', '0,2,failed'),
    ...rows('deleted', '2,2,passed', '1,1,passed', '2,2,passed'),
    ...rows('garbage', '0,2,unreadable', '0,1,unreadable', '0,2,unreadable'),
    ...rows('loop', '2,2,passed', '0,1,failed', '2,2,passed'),
    ...rows('python', '2,2,passed', '1,1,passed', '2,2,passed'),
    ...rows('solution', '2,2,passed', '1,1,passed', '2,2,passed'),
    ...rows('tampered', '0,2,failed', '1,1,passed', '2,2,passed'),
    ...rows('untouched', '0,2,failed', '0,1,failed', '0,2,failed'),
  ]);
  const details = JSON.parse(fs.readFileSync(path.join(out, 'grading.json'), 'utf8')) as { quick: boolean; notebooks: Array<{ student: string; changes: string[]; problems: string[]; unreadable?: string; scores: Array<{ gradeId: string; message: string }> }> };
  assert.equal(details.quick, false);
  const of = (s: string) => details.notebooks.find((n) => n.student === s)!;
  assert.deepEqual(of('tampered').changes, ["test cell 'ex1-check' was edited: restored from the source"]);
  assert.deepEqual(of('deleted').changes, ["test cell 'ex3-check' was deleted: restored from the source"]);
  assert.deepEqual(of('python').changes, ['kernelspec was python3 (language python): graded with tslab (language typescript)']);
  assert.deepEqual(of('solution').changes, [], 'the instructor version is what the source holds');
  assert.deepEqual(of('untouched').changes, []);
  assert.match(of('garbage').unreadable!, /not valid JSON/);
  assert.match(of('loop').problems.join('\n'), /cell 8 \(ex2-answer\) did not finish within 20 s: the notebook was run again without it/);
  assert.match(of('crash').problems.join('\n'), /cell 11 \(ex3-answer\) ended the kernel/);
  // the checks say how far off, never in which direction
  assert.match(of('tampered').scores[0].message, /✘ tiny-ex1: not right — about \d+% .*outside the accepted range/);
  assert.match(of('untouched').scores[1].message, /tiny-ex2: no answer yet/);
  assert.match(of('untouched').scores[2].message, /tiny-ex3: not right — matches the library on 0 of 10 fresh inputs/);
  for (const n of details.notebooks) for (const s of n.scores) assert.doesNotMatch(s.message, /higher|lower|too (big|small|large)/i);
  // feedback: one page per student and notebook (the site's renderer), each check's result beside its cell, no hidden test shown
  for (const student of Object.keys(files)) {
    const html = fs.readFileSync(path.join(out, 'feedback', student, 'tiny.html'), 'utf8');
    assert.match(html, new RegExp(`Feedback: tiny — ${student}`));
    assert.match(html, /href="\.\.\/assets\/site\.css"/);
    assert.doesNotMatch(html, /HIDDEN TESTS|seed: &#39;hidden&#39;/);
    if (student !== 'garbage') assert.match(html, /class="grade (passed|failed)">[✔✘] <strong>ex1-check<\/strong>/);
  }
  assert.ok(fs.existsSync(path.join(out, 'feedback', 'assets', 'site.css')));
  assert.match(fs.readFileSync(path.join(out, 'feedback', 'index.html'), 'utf8'), /tampered.*3 \/ 5/);
  for (const [s, f] of Object.entries(files)) assert.deepEqual([sha(f), fs.statSync(f).mtimeMs], before[s], `${s}: the submission file changed`);
  assert.deepEqual(fs.readdirSync(subs).sort(), Object.keys(files).sort(), 'nothing written next to the submissions');
  fs.rmSync(subs, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
});

test('a real notebook in quick mode: 05-practice as the instructor wrote it gets full marks, its release untouched 0', { timeout: 600_000 }, async () => {
  const subs = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-subs-'));
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-grades-'));
  const file = path.join(root, 'notebooks', '05-practice.ipynb');
  const instructor = readNb(file);
  for (const [student, nb] of [['teacher', instructor], ['blank', releaseNotebook(instructor, '05-practice').nb]] as const) {
    fs.mkdirSync(path.join(subs, student, 'ps5'), { recursive: true });
    fs.writeFileSync(path.join(subs, student, 'ps5', '05-practice.ipynb'), JSON.stringify(nb));
  }
  const { gradeAll } = await import('../../scripts/grade');
  const r = await gradeAll({ submissions: subs, outDir: out, sourceDir: path.join(root, 'notebooks'), cellTimeout: 300, notebookTimeout: 900, jobs: 2, quick: true, log: () => undefined });
  const total = (s: string) => r.graded.find((g) => g.student === s)!.scores.map((c) => `${c.gradeId} ${c.score}/${c.maxScore} ${c.status}`);
  assert.deepEqual(total('teacher'), ['ex2-check 1/1 passed', 'ex3-check 2/2 passed'], JSON.stringify(r.graded.find((g) => g.student === 'teacher')!.scores));
  assert.deepEqual(total('blank'), ['ex2-check 0/1 failed', 'ex3-check 0/2 failed']);
  assert.ok(r.graded.every((g) => !g.unreadable && g.problems.length === 0 && g.result?.status === 'ok'), 'graded without a grader error');
  fs.rmSync(subs, { recursive: true, force: true });
  fs.rmSync(out, { recursive: true, force: true });
});

test('submissions: <student>/<notebook>.ipynb and nbgrader\'s submitted/<student>/<assignment>/<notebook>.ipynb', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-layout-'));
  const put = (p: string) => { fs.mkdirSync(path.dirname(path.join(dir, p)), { recursive: true }); fs.writeFileSync(path.join(dir, p), '{}'); };
  put('ann/05-practice.ipynb');
  put('ann/notes.txt');
  put('bob/ps1/01-what-is-transfer.ipynb');
  put('bob/.ipynb_checkpoints/01-what-is-transfer-checkpoint.ipynb');
  const flat = findSubmissions(dir);
  assert.deepEqual(flat.submissions.map((s) => [s.student, s.assignment, s.notebook]), [['ann', undefined, '05-practice'], ['bob', 'ps1', '01-what-is-transfer']]);
  assert.deepEqual(flat.ignored, [path.join('ann', 'notes.txt')]);
  put('course/submitted/cy/ps1/02-strategies.ipynb');
  assert.deepEqual(findSubmissions(path.join(dir, 'course')).submissions.map((s) => [s.student, s.assignment, s.notebook]), [['cy', 'ps1', '02-strategies']]);
  assert.throws(() => findSubmissions(path.join(dir, 'nope')), /no such folder \(expected <student>\/<notebook>\.ipynb/);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('restoring: edited, deleted, retyped and duplicated cells; unreadable files named with the reason', () => {
  const src = source();
  const rel = released();
  const sub = solved(rel);
  byGid(sub, 'ex2-check')!.source = toSourceLines('// trust me');
  byGid(sub, 'ex1-check')!.cell_type = 'markdown';
  sub.cells = sub.cells.filter((c) => nbgraderMeta(c)?.grade_id !== 'ex3-check');
  sub.cells.push({ ...JSON.parse(JSON.stringify(byGid(sub, 'ex2-answer'))), id: 'copy' });
  sub.cells.splice(3, 1); // a lesson cell deleted
  const r = restoreSubmission(sub, src, rel);
  assert.deepEqual(r.changes, [
    "cells[11] repeated the grade id 'ex2-answer': graded as an ordinary cell",
    "test cell 'ex1-check' was edited: restored from the source",
    "test cell 'ex2-check' was edited: restored from the source",
    "test cell 'ex3-check' was deleted: restored from the source",
  ]);
  assert.match(r.problems.join('\n'), /1 lesson cell\(s\) of the released notebook are missing/);
  const ex3 = r.nb.cells.findIndex((c) => nbgraderMeta(c)?.grade_id === 'ex3-check');
  assert.equal(nbgraderMeta(r.nb.cells[ex3 - 1])?.grade_id, 'ex3-answer', 'a deleted test goes back after the cell before it');
  assert.match(cellSource(r.nb.cells[ex3]), /BEGIN HIDDEN TESTS/, 'restored with its hidden tests');
  assert.equal(byGid(r.nb, 'ex1-check')!.cell_type, 'code');
  const run = prepareForRun(r.nb);
  assert.ok(run.cells.filter((c) => c.cell_type === 'code').every((c) => c.metadata.tags?.includes('raises-exception') && c.outputs?.length === 0));
  assert.match(parseSubmission('').unreadable!, /not valid JSON/);
  assert.match(parseSubmission('{"nbformat": 3, "worksheets": []}').unreadable!, /not an nbformat 4 notebook .*got nbformat 3/);
  const odd = parseSubmission(JSON.stringify({ nbformat: 4, nbformat_minor: 4, metadata: {}, cells: [{ cell_type: 'code', source: 'x' }, { bogus: 1 }, { cell_type: 'code', source: 'y' }] }));
  assert.deepEqual(odd.nb!.cells.map((c) => c.id), ['submitted-0', 'submitted-2']);
  assert.deepEqual(odd.problems, ['cells[1] is not a notebook cell (no cell_type or source): left out']);
});

test('scoring follows nbgrader: stderr or an error output is 0, a clean run full points, a cell that never ran 0', () => {
  const src = source();
  const nb = prepareForRun(src);
  const set = (gid: string, outputs: unknown[], count: number | null = 1) => { const c = byGid(nb, gid)!; c.outputs = outputs; c.execution_count = count; };
  set('ex1-check', [{ output_type: 'stream', name: 'stdout', text: '✔ tiny-ex1: right\n' }]);
  set('ex2-check', [{ output_type: 'stream', name: 'stdout', text: 'fine\n' }, { output_type: 'stream', name: 'stderr', text: 'a warning\n' }]);
  set('ex3-check', [], null);
  const scores = scoreNotebook(src, { nb, incidents: [], attempts: 1, seconds: 1, last: null, stopped: { cellIndex: 9, reason: 'kernel died' } });
  assert.deepEqual(scores.map((s) => [s.gradeId, s.score, s.maxScore, s.status]), [['ex1-check', 2, 2, 'passed'], ['ex2-check', 0, 1, 'failed'], ['ex3-check', 0, 2, 'not-run']]);
  assert.equal(scores[0].message, '✔ tiny-ex1: right');
  assert.equal(scores[2].message, 'not run: kernel died');
  assert.equal(csvField('a,"b"'), '"a,""b"""');
});
