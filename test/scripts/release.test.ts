// `npm run release`: the student version of a notebook as nbgrader's generate_assignment makes it — solutions
// replaced by the stub, hidden tests removed, outputs cleared, locked cells checksummed — checked on the tiny fixture
// (checksums against values computed with Python's hashlib following nbgrader's utils.compute_checksum) and on every
// course notebook (no solution text, no hidden test, metadata valid against the nbgrader schema v3 fixture).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Notebook, cellSource, validateNotebook } from '../../scripts/lib/nbformat';
import { BEGIN_HIDDEN, BEGIN_SOLUTION, CODE_STUB, END_HIDDEN, END_SOLUTION, computeChecksum, metadataProblems, nbgraderMeta, pythonFloat, replaceRegions } from '../../scripts/grading/nbgrader';
import { leakedLines, releaseNotebook } from '../../scripts/grading/release';
import { SOURCE_DIR, nbgraderSchema, notebookSchemaErrors, readNb, schemaErrors } from '../fixtures/grading/helpers';

const root = path.resolve(__dirname, '..', '..');
const tiny = () => readNb(path.join(SOURCE_DIR, 'tiny.ipynb'));
const cellOf = (nb: Notebook, gid: string) => nb.cells.find((c) => nbgraderMeta(c)?.grade_id === gid)!;

test('checksums are nbgrader\'s: MD5 of source, type, roles, grade id and points (values from Python\'s hashlib)', () => {
  const nb = tiny();
  // hand values: hashlib.md5 over source + cell_type + str(grade) + str(solution) + str(locked) + grade_id (+ str(float(points)))
  const python: Record<string, string> = {
    'ex1-answer': '0146388999581e251e46be6ec3739cb1',
    'ex1-check': '6a015e87909732a3478759927711f7b3',
    'ex2-answer': '2dbf76471ecb95de7731534292df48b1',
    'ex2-check': '1e699372ada0502d7114f0fd93b2ef47',
    'ex3-answer': '74a0d1cab4a0b8105a219aa85c83e90a',
    'ex3-check': '78bf4592f878c7e4c2bf30314b2576b8',
  };
  for (const [gid, sum] of Object.entries(python)) assert.equal(computeChecksum(cellOf(nb, gid)), sum, gid);
  assert.equal(pythonFloat(2), '2.0');
  assert.equal(pythonFloat(0.5), '0.5');
  assert.equal(pythonFloat(1e-7), '1e-07');
});

test('the release replaces solutions by the stub (indented), removes hidden tests, clears outputs, checksums and locks', () => {
  const source = tiny();
  source.cells[3].outputs = [{ output_type: 'stream', name: 'stdout', text: '8\n' }];
  source.cells[3].execution_count = 3;
  const before = JSON.stringify(source);
  const { nb, summary } = releaseNotebook(source, 'tiny');
  assert.equal(JSON.stringify(source), before, 'the source notebook is not changed');
  assert.deepEqual(summary, { name: 'tiny', solutionCells: 3, gradeCells: 3, points: 5, hiddenRegions: 1 });
  assert.equal(cellSource(cellOf(nb, 'ex1-answer')), 'let answer1 = NaN;\n// YOUR CODE HERE');
  assert.equal(cellSource(cellOf(nb, 'ex3-answer')), 'function clip(x: number, lo: number, hi: number): number {\n  let result = NaN;\n  // YOUR CODE HERE\n  return result;\n}');
  const test3 = cellSource(cellOf(nb, 'ex3-check'));
  assert.doesNotMatch(test3, /HIDDEN|seed: 'hidden'/);
  assert.match(test3, /assertImplementation\('tiny-ex3'/, 'the visible test stays');
  assert.deepEqual(nb.cells[3].outputs, []);
  assert.equal(nb.cells[3].execution_count, null);
  for (const c of nb.cells.filter((x) => nbgraderMeta(x))) {
    const m = nbgraderMeta(c)!;
    assert.equal(m.checksum, computeChecksum(c), `${m.grade_id}: the checksum is of the released cell`);
    assert.equal(m.cell_type, c.cell_type);
    assert.equal(c.metadata.deletable, false);
    assert.equal(c.metadata.editable, m.solution ? undefined : false, `${m.grade_id}: tests are uneditable, answers editable`);
  }
  assert.deepEqual(leakedLines(source, nb), []);
  assert.deepEqual(validateNotebook(nb), []);
  assert.deepEqual(notebookSchemaErrors(nb, 'tiny'), []);
  assert.deepEqual(metadataProblems(nb, 'tiny'), []);
});

test('bad markers and metadata are refused, naming the notebook and cell', () => {
  const stray = tiny();
  stray.cells[3].source = ['// BEGIN SOLUTION\n', 'x\n', '// END SOLUTION'];
  assert.throws(() => releaseNotebook(stray, 'tiny'), /tiny: cells\[3\] \(id [\w-]+\): a solution region in a cell that is not a solution cell/);
  const open = tiny();
  cellOf(open, 'ex2-answer').source = ['// BEGIN SOLUTION\n', "word = 'x';"];
  assert.throws(() => releaseNotebook(open, 'tiny'), /'BEGIN SOLUTION' without a matching 'END SOLUTION'/);
  assert.throws(() => replaceRegions('a\n// BEGIN SOLUTION\n// BEGIN SOLUTION\n', 'BEGIN SOLUTION', 'END SOLUTION', [], 'x'), /nested/);
  const dup = tiny();
  nbgraderMeta(cellOf(dup, 'ex2-check'))!.grade_id = 'ex1-check';
  assert.throws(() => releaseNotebook(dup, 'tiny'), /grade_id 'ex1-check' is also used by cells\[6\]/);
  const nopoints = tiny();
  delete nbgraderMeta(cellOf(nopoints, 'ex1-check'))!.points;
  assert.match(metadataProblems(nopoints, 'tiny').join('\n'), /a grade cell needs points/);
  const python = tiny();
  (python.metadata.kernelspec as { language: string }).language = 'python';
  assert.throws(() => releaseNotebook(python, 'tiny'), /kernelspec.language is 'python'/);
});

test('the schema v3 fixture accepts nbgrader\'s cells and rejects what nbgrader rejects', () => {
  const schema = nbgraderSchema();
  assert.deepEqual(schemaErrors({ schema_version: 3, grade: true, solution: false, locked: true, grade_id: 'a-1', points: 2 }, schema), []);
  assert.deepEqual(schemaErrors({ schema_version: 3, grade: false, solution: false, locked: false, task: true, grade_id: 't' }, schema), []);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ schema_version: 2, grade: false, solution: false, locked: false }, /maximum|minimum/],
    [{ schema_version: 3, grade: false, solution: false }, /missing required 'locked'/],
    [{ schema_version: 3, grade: true, solution: false, locked: false, points: -1 }, /minimum 0/],
    [{ schema_version: 3, grade: false, solution: false, locked: false, grade_id: 'no spaces' }, /does not match/],
    [{ schema_version: 3, grade: false, solution: false, locked: false, checksum: 'abc' }, /shorter than 32/],
    [{ schema_version: 3, grade: false, solution: false, locked: false, extra: 1 }, /unexpected property 'extra'/],
    [{ schema_version: 3, grade: 'yes', solution: false, locked: false }, /expected boolean/],
  ];
  for (const [meta, why] of bad) assert.match(schemaErrors(meta, schema).join('\n'), why, JSON.stringify(meta));
});

test('npm run release: every course notebook released, no solution text or hidden test, metadata valid, sources untouched', () => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-release-'));
  const nbDir = path.join(root, 'notebooks');
  const before = fs.readdirSync(nbDir).map((f) => fs.readFileSync(path.join(nbDir, f), 'utf8'));
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'release.ts'), '--out', out], { cwd: root, encoding: 'utf8' });
  assert.equal(res.status, 0, res.stderr);
  assert.match(res.stdout, /released \d+ notebook\(s\)/);
  assert.deepEqual(fs.readdirSync(nbDir).map((f) => fs.readFileSync(path.join(nbDir, f), 'utf8')), before, 'notebooks/ is not changed');
  for (const f of fs.readdirSync(nbDir).filter((n) => n.endsWith('.ipynb'))) {
    const source = readNb(path.join(nbDir, f));
    const released = readNb(path.join(out, f));
    const text = JSON.stringify(released.cells.map(cellSource));
    assert.doesNotMatch(text, /BEGIN SOLUTION|END SOLUTION|BEGIN HIDDEN TESTS|END HIDDEN TESTS/, f);
    assert.deepEqual(leakedLines(source, released), [], `${f}: solution text in the release`);
    assert.deepEqual(notebookSchemaErrors(source, f), [], `${f}: instructor metadata`);
    assert.deepEqual(notebookSchemaErrors(released, f), [], `${f}: released metadata`);
    assert.deepEqual(validateNotebook(released), [], `${f}: nbformat`);
    assert.ok(released.cells.every((c) => c.cell_type !== 'code' || (c.outputs?.length === 0 && c.execution_count === null)), `${f}: outputs cleared`);
  }
  const usage = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'release.ts'), '--out', nbDir], { cwd: root, encoding: 'utf8' });
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /--out must differ from the source folder/);
  fs.rmSync(out, { recursive: true, force: true });
});

test('nbgrader_config.py sets the same TypeScript stub and delimiters as the kit\'s release', () => {
  const cfg = fs.readFileSync(path.join(root, 'nbgrader_config.py'), 'utf8');
  const value = (key: string) => new RegExp(`^c\\.${key.replace('.', '\\.')} = "([^"]*)"`, 'm').exec(cfg)?.[1];
  assert.equal(/"typescript": "([^"]*)"/.exec(cfg)?.[1], CODE_STUB);
  assert.equal(value('ClearSolutions.begin_solution_delimeter'), `// ${BEGIN_SOLUTION}`);
  assert.equal(value('ClearSolutions.end_solution_delimeter'), `// ${END_SOLUTION}`);
  assert.equal(value('ClearHiddenTests.begin_test_delimeter'), `// ${BEGIN_HIDDEN}`);
  assert.equal(value('ClearHiddenTests.end_test_delimeter'), `// ${END_HIDDEN}`);
});
