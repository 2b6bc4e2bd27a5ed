// Notebook hygiene: nbformat 4.5 structure, tslab kernelspec, unique cell ids, no outputs; --fix cleans.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { checkFiles, notebookProblems } from '../../scripts/check-notebooks';
import { TSLAB_METADATA, validateNotebook } from '../../scripts/lib/nbformat';
import { lintShorthand } from '../../scripts/notebooks/lint';

const root = path.resolve(__dirname, '..', '..');
const clean = () => ({
  nbformat: 4, nbformat_minor: 5, metadata: JSON.parse(JSON.stringify(TSLAB_METADATA)),
  cells: [
    { id: 'intro', cell_type: 'markdown', metadata: {}, source: ['# Title'] },
    { id: 'code-1', cell_type: 'code', metadata: { tags: ['parameters'] }, source: 'let epochs = 1;', execution_count: null, outputs: [] },
  ],
});

test('the fixture notebooks and a clean notebook pass', () => {
  assert.deepEqual(notebookProblems(clean()), []);
  const dir = path.join(root, 'test', 'fixtures', 'notebooks');
  for (const r of checkFiles(fs.readdirSync(dir).filter((f) => f.endsWith('.ipynb')).map((f) => path.join(dir, f)), false)) {
    assert.deepEqual(r.problems, [], r.file);
  }
});

// The committed notebooks' hygiene is checked by `npm run check:notebooks` in CI (.ci/run), not here: a student who ran
// and saved the notebooks must still get a passing `npm test`.

test('the kernelspec and language_info must equal what Jupyter writes on opening (else the notebook opens as changed)', () => {
  const nb = clean() as any;
  nb.metadata.kernelspec.display_name = 'TypeScript';
  delete nb.metadata.language_info.version;
  const problems = notebookProblems(nb);
  assert.equal(problems.length, 2, problems.join('\n'));
  assert.match(problems[0], /metadata\.kernelspec differs from what Jupyter writes on opening .*"display_name":"TypeScript"/);
  assert.match(problems[1], /metadata\.language_info differs/);
  // tslab's kernel_info_reply, as Notebook 6 stores it; Jupyter compares order-blind (_.isEqual), and so does the check
  const saved = clean() as any;
  saved.metadata = JSON.parse(JSON.stringify({
    language_info: { codemirror_mode: { mode: 'typescript', name: 'javascript', typescript: true }, file_extension: '.ts', mimetype: 'text/typescript', name: 'typescript', version: '3.7.2' },
    kernelspec: { display_name: 'TypeScript (transfer kit)', language: 'typescript', name: 'tslab' },
  }));
  assert.deepEqual(notebookProblems(saved), []);
});

test('structural errors are reported with the cell at fault', () => {
  const nb = clean() as any;
  nb.nbformat_minor = 4;
  nb.cells[0].id = 'bad id!';
  nb.cells[1].outputs = [{ output_type: 'stream', name: 'stdout' }, { output_type: 'display_data', data: { 'not a mime': 'x' }, metadata: {} }];
  nb.cells.push({ cell_type: 'code', metadata: {}, source: 1, outputs: [] });
  nb.extra = true;
  const errors = validateNotebook(nb);
  for (const want of [/notebook: unexpected property 'extra'/, /nbformat_minor must be ≥ 5/, /cells\[0\]: id must be 1–64 characters/,
    /cells\[1\]\.outputs\[0\]: missing 'text'/, /cells\[1\]\.outputs\[1\]\.data: 'not a mime' is not a MIME type/,
    /cells\[2\]: missing 'id'/, /cells\[2\]: missing 'execution_count'/, /cells\[2\]: source must be/]) {
    assert.ok(errors.some((e) => want.test(e)), `${want} in\n${errors.join('\n')}`);
  }
});

test('hygiene: kernelspec, duplicate ids, outputs and execution counts; --fix strips them', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-hygiene-'));
  const nb = clean() as any;
  nb.metadata.kernelspec = { name: 'python3', display_name: 'Python 3' };
  nb.cells[1].id = 'intro';
  nb.cells[1].execution_count = 3;
  nb.cells[1].outputs = [{ output_type: 'stream', name: 'stdout', text: 'x' }];
  const file = path.join(dir, 'dirty.ipynb');
  fs.writeFileSync(file, JSON.stringify(nb));
  const problems = notebookProblems(nb);
  assert.equal(problems.length, 4, problems.join('\n'));
  assert.match(problems.join('\n'), /kernelspec must be 'tslab'[\s\S]*duplicate id 'intro'[\s\S]*has 1 output[\s\S]*execution_count 3/);
  const cli = (args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'check-notebooks.ts'), ...args], { cwd: root, encoding: 'utf8' });
  assert.equal(cli([file]).status, 1);
  const fixed = cli([file, '--fix']);
  assert.equal(fixed.status, 0, fixed.stderr);
  const after = JSON.parse(fs.readFileSync(file, 'utf8'));
  assert.deepEqual(notebookProblems(after), []);
  assert.deepEqual(after.cells[1].outputs, []);
  assert.equal(after.cells[1].execution_count, null);
  assert.notEqual(after.cells[1].id, 'intro');
  assert.equal(after.cells[0].id, 'intro', 'valid ids are kept');
  assert.deepEqual(after.metadata, TSLAB_METADATA, '--fix writes the kit\'s kernelspec and language_info');
  fs.rmSync(dir, { recursive: true, force: true });
});

test('lint: a shorthand property naming an earlier cell\'s binding is reported (tslab ReferenceError), patterns are not', () => {
  const cell = (id: string, source: string) => ({ id, cell_type: 'code' as const, metadata: {}, source, outputs: [], execution_count: null });
  const problems = lintShorthand([
    cell('a', "import * as kit from '..';\nlet seed = 42;\nconst { x, y: z } = { x: 1, y: 2 };\nfunction f() { return 1; }"),
    // each of these was checked to throw "ReferenceError: … is not defined" in tslab 1.0.22
    cell('b', 'const cfg = { ...kit.DEFAULT_CONFIG, seed };\nconsole.log({ f, n: x });'),
    // patterns, long-hand properties, strings, comments, calls inside literals, own declarations: fine
    cell('c', "const rows = [{ seed: 1 }].map(({ seed }) => seed);\nconst o = { seed: seed, t: g(x, z) };\n// { seed }\nconst s = '{ z }';\nconst w = 1;\nconsole.log({ w });"),
  ]);
  assert.deepEqual(problems.map((p) => p.split(' — ')[0]), [
    "cells[1]: shorthand property { seed } names 'seed' from an earlier cell",
    "cells[1]: shorthand property { f } names 'f' from an earlier cell",
  ]);
  assert.match(problems[0], /write \{ seed: seed \}/);
});
