// lib/exercises.ts: answers checked against stored references without the answer in the notebook — ranges by mode
// (KIT_QUICK read when the check runs), salted hashes, implementations on fresh inputs — verdicts that say how far,
// never which way; recording for `npm run references`; nothing on stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as ex from '../lib/exercises';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-exercises-'));
const refFile = path.join(dir, 'refs.json');
fs.writeFileSync(refFile, JSON.stringify({
  schema: 1,
  exercises: {
    acc: { kind: 'range', what: 'accuracy', tolerance: 0.01, full: { min: 0.8, max: 0.9, values: [0.8, 0.85, 0.9] }, quick: { min: 0.4, max: 0.5 } },
    word: { kind: 'hash', what: 'a word', normalize: 'lower', sha256: [ex.answerHash('word', '동결'), ex.answerHash('word', 'freezing')] },
    count: { kind: 'hash', what: 'a count', normalize: 'integer', sha256: [ex.answerHash('count', '7')] },
    pick: { kind: 'hash', what: 'statements', normalize: 'set', sha256: [ex.answerHash('pick', 'a,c')] },
  },
}));

function withEnv<T>(vars: Record<string, string | undefined>, fn: () => T): T {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  for (const [k, v] of Object.entries(vars)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try { return fn(); } finally { for (const [k, v] of Object.entries(old)) if (v === undefined) delete process.env[k]; else process.env[k] = v; }
}
const check = (id: string, v: unknown, quick = '0') => withEnv({ KIT_REFERENCES: refFile, KIT_QUICK: quick }, () => ex.checkAnswer(id, v));

test('ranges: right inside [min − tol, max + tol] of the mode in force, else how far — never which way', () => {
  assert.equal(check('acc', 0.85).verdict, 'right');
  assert.equal(check('acc', 0.795).verdict, 'right', 'within the tolerance');
  assert.match(check('acc', 0.85).message, /right — inside the range measured over 3 seeds/);
  const below = check('acc', 0.76);
  const above = check('acc', 0.94);
  assert.equal(below.verdict, 'close');
  assert.equal(above.verdict, 'close');
  assert.equal(below.message, above.message, 'the same distance above or below reads the same');
  assert.match(below.message, /about 3% \(of the reference's size\) outside the accepted range/);
  assert.equal(check('acc', 0.2).verdict, 'wrong');
  assert.equal(check('acc', 0.45, '1').verdict, 'right', 'quick mode uses the quick range');
  assert.equal(check('acc', 0.85, '1').verdict, 'wrong');
  for (const v of [NaN, undefined, null, '0.85']) assert.equal(check('acc', v).verdict, 'unanswered', String(v));
  for (const v of [0.2, 0.76, 0.94, 2]) assert.doesNotMatch(check('acc', v).message, /higher|lower|bigger|smaller|too|above|below/i);
});

test('hashes: salted by id, normalised (trim, case, NFC, integers, sets); the file holds no answer', () => {
  assert.equal(check('word', '  Freezing ').verdict, 'right');
  assert.equal(check('word', '동결').verdict, 'right', 'Hangul');
  assert.equal(check('word', '동결'.normalize('NFD')).verdict, 'right', 'NFD input is normalised');
  assert.equal(check('word', 'fine-tuning').verdict, 'wrong');
  assert.equal(check('word', '').verdict, 'unanswered');
  assert.equal(check('count', 7).verdict, 'right');
  assert.equal(check('count', 7.5).verdict, 'unanswered');
  assert.equal(check('count', 8).verdict, 'wrong');
  assert.equal(check('pick', ['C', 'a', 'a']).verdict, 'right');
  assert.equal(check('pick', ['a']).verdict, 'wrong');
  assert.notEqual(ex.answerHash('a', 'x'), ex.answerHash('b', 'x'), 'salted by the exercise id');
  assert.doesNotMatch(fs.readFileSync(refFile, 'utf8'), /freezing|동결/);
});

test('bad ids and files are named with the fix', () => {
  assert.throws(() => check('nope', 1), /no reference for 'nope' in .*refs\.json \(check the id/);
  const broken = path.join(dir, 'broken.json');
  fs.writeFileSync(broken, '{');
  assert.throws(() => ex.loadReferences(broken), /broken\.json is not valid JSON/);
  assert.throws(() => ex.loadReferences(path.join(dir, 'absent.json')), /absent\.json does not exist \(run `npm run references`/);
  fs.writeFileSync(broken, '{"exercises": {}}');
  assert.throws(() => ex.loadReferences(broken), /needs \{ "schema": 1/);
});

function capture(fn: () => unknown): { out: string; err: string; thrown?: unknown } {
  const w = { out: process.stdout.write, err: process.stderr.write };
  let out = '';
  let err = '';
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  try { fn(); return { out, err }; } catch (e) { return { out, err, thrown: e }; } finally { process.stdout.write = w.out; process.stderr.write = w.err; }
}

test('assertAnswer prints ✔ on stdout or throws an AnswerError; in a references run it records ranges', () => {
  withEnv({ KIT_REFERENCES: refFile, KIT_QUICK: '0', KIT_RECORD_ANSWERS: undefined }, () => {
    assert.deepEqual(capture(() => ex.assertAnswer('acc', 0.86)), { out: '✔ acc: right — inside the range measured over 3 seeds\n', err: '' });
    const bad = capture(() => ex.assertAnswer('word', 'x'));
    assert.ok(bad.thrown instanceof ex.AnswerError);
    assert.equal((bad.thrown as ex.AnswerError).verdict.verdict, 'wrong');
    assert.equal((bad.thrown as Error).message, '✘ word: not right');
    assert.equal((bad.thrown as Error).stack, 'AnswerError: ✘ word: not right', 'a short stack for the notebook');
    assert.deepEqual(Object.keys(bad.thrown as object), [], 'nothing but the message is printed by the kernel');
  });
  const rec = path.join(dir, 'rec.jsonl');
  withEnv({ KIT_REFERENCES: refFile, KIT_QUICK: '1', KIT_RECORD_ANSWERS: rec }, () => {
    assert.match(capture(() => ex.assertAnswer('acc', 0.1)).out, /recorded 0\.1/);
    assert.match(capture(() => ex.assertAnswer('unknown-yet', 3)).out, /recorded 3/);
    assert.ok(capture(() => ex.assertAnswer('word', 'x')).thrown instanceof ex.AnswerError, 'hashes are still checked');
  });
  assert.deepEqual(fs.readFileSync(rec, 'utf8').trim().split('\n').map((l) => JSON.parse(l)), [
    { id: 'acc', value: 0.1, mode: 'quick' }, { id: 'unknown-yet', value: 3, mode: 'quick' }, { id: 'word', value: 'x', mode: 'quick' },
  ]);
});

test('assertImplementation: fresh seeded inputs, how many matched and the first input that differed, warnings on stdout', async () => {
  const ref = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const inputs = (r: { uniform: (a: number, b: number) => number }, t: number) => [Array.from({ length: 1 + t }, () => r.uniform(-1, 1))];
  let out = '';
  const w = process.stdout.write;
  const e = process.stderr.write;
  let err = '';
  process.stdout.write = ((s: string) => { out += s; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => { err += s; return true; }) as typeof process.stderr.write;
  try {
    await ex.assertImplementation('mean', (xs: number[]) => { console.warn('slow path'); return xs.reduce((a, b) => a + b) / xs.length; }, ref, { inputs });
    await assert.rejects(ex.assertImplementation('mean', (xs: number[]) => (xs.length > 16 ? 0 : ref(xs)), ref, { inputs }),
      (x: Error) => x instanceof ex.AnswerError && /close, not right yet — matches the library on 16 of 20 fresh inputs; the first that differs: \(\[/.test(x.message));
    await assert.rejects(ex.assertImplementation('mean', () => { throw new RangeError('nope'); }, ref, { inputs, trials: 3 }),
      /matches the library on 0 of 3 fresh inputs; the first that differs: .*\(it threw RangeError: nope\)/);
    await assert.rejects(ex.assertImplementation('mean', undefined as never, ref, { inputs }), /no answer yet \(expected a function/);
  } finally {
    process.stdout.write = w;
    process.stderr.write = e;
  }
  assert.equal(err, '', 'nothing on stderr');
  assert.match(out, /warning \(×20\): slow path\n✔ mean: right — matches the library on 20 of 20 fresh inputs/);
  assert.ok(ex.sameValue([1, [2, 3]], [1, [2, 3 + 1e-9]]));
  assert.ok(!ex.sameValue({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(ex.sameValue(NaN, NaN));
});
