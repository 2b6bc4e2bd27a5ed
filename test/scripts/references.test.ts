// `npm run references`: the instructor notebook run over seeds in both modes records its solutions' answers; a range
// reference becomes their [min, max], a hash reference is verified. End to end on the tiny fixture (its committed
// reference ranges are exactly what the command measures), then the folding rules on hand-made records.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RangeReference, ReferenceFile } from '../../lib/exercises';
import { answerHash } from '../../lib/exercises';
import { applyRecords, notebookSeed } from '../../scripts/references';
import { REFERENCES, SOURCE_DIR, readNb } from '../fixtures/grading/helpers';

const root = path.resolve(__dirname, '..', '..');

test('npm run references re-measures the tiny fixture over seeds 1–3 in both modes and verifies its hash', { timeout: 400_000 }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-refs-'));
  const file = path.join(dir, 'exercises.json');
  const committed = JSON.parse(fs.readFileSync(REFERENCES, 'utf8')) as ReferenceFile;
  const blank = JSON.parse(JSON.stringify(committed)) as ReferenceFile;
  const ex1 = blank.exercises['tiny-ex1'] as RangeReference;
  ex1.full = { min: 0, max: 0 };
  ex1.quick = { min: 0, max: 0 };
  fs.writeFileSync(file, JSON.stringify(blank));
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'references.ts'), '--source', SOURCE_DIR, '--file', file, '--jobs', '2'],
    { cwd: root, encoding: 'utf8', timeout: 380_000 });
  assert.equal(res.status, 0, res.stdout + res.stderr);
  assert.match(res.stdout, /updated 2 range\(s\)/);
  const got = JSON.parse(fs.readFileSync(file, 'utf8')) as ReferenceFile;
  const measured = got.exercises['tiny-ex1'] as RangeReference;
  const want = committed.exercises['tiny-ex1'] as RangeReference;
  for (const mode of ['full', 'quick'] as const) {
    const { measured: when, ...rest } = measured[mode];
    assert.deepEqual(rest, want[mode], `${mode} mode`);
    assert.match(when!, /^\d{4}-\d\d-\d\d \(\d+ × .*, load [\d.]+\)$/);
  }
  assert.equal(measured.tolerance, 0.5, 'the tolerance is kept');
  assert.deepEqual(got.exercises['tiny-ex2'], committed.exercises['tiny-ex2']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('folding records: ranges over seeds, hashes verified, unknown numeric ids added, non-numbers refused', () => {
  const refs: ReferenceFile = {
    schema: 1,
    exercises: {
      r: { kind: 'range', what: 'r', tolerance: 0.1, full: { min: 0, max: 0 }, quick: { min: 5, max: 5 } },
      h: { kind: 'hash', what: 'h', normalize: 'lower', sha256: [answerHash('h', 'yes')] },
    },
  };
  const rec = (id: string, value: unknown, seed: number, mode: 'full' | 'quick' = 'full') => ({ id, value, seed, mode, notebook: 'nb' });
  const r = applyRecords(refs, [rec('r', 0.7, 43), rec('r', 0.5, 42), rec('r', 0.6, 44), rec('h', 'Yes', 42), rec('h', 'no', 43), rec('new', 3, 42), rec('words', 'x', 42)], 'today');
  assert.deepEqual((refs.exercises.r as RangeReference).full, { min: 0.5, max: 0.7, seeds: [42, 43, 44], values: [0.5, 0.7, 0.6], measured: 'today' });
  assert.deepEqual((refs.exercises.r as RangeReference).quick, { min: 5, max: 5 }, 'a mode not measured is kept');
  assert.deepEqual(r.updated, ['new (full)', 'r (full)']);
  assert.deepEqual(r.added, ['new']);
  assert.deepEqual(r.problems, [
    "h: the solution's answer (full mode, seed 43) does not match the stored hash",
    'words: no reference entry and the answers are not numbers: add a hash entry by hand',
  ]);
  assert.equal(notebookSeed(readNb(path.join(SOURCE_DIR, 'tiny.ipynb'))), 1);
});
