// lib/stats.ts: the seed/spread rule behind every claims table, checked against hand computations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { claimClose, claimGreater, claimWithin, differenceOfMeans, formatMeanStd, mean, standardError, std, verdictGreater, claimObserved } from '../lib/stats';

test('mean, sample std and standard error match a hand computation', () => {
  const x = [2, 4, 4, 4, 5, 5, 7, 9]; // mean 5, sum of squares 32 → sample variance 32/7
  assert.equal(mean(x), 5);
  assert.ok(Math.abs(std(x) - Math.sqrt(32 / 7)) < 1e-12);
  assert.ok(Math.abs(standardError(x) - Math.sqrt(32 / 7) / Math.sqrt(8)) < 1e-12);
  assert.equal(std([3]), 0);
  assert.equal(formatMeanStd([0.7, 0.72, 0.74], 2), '0.72 ± 0.02');
  assert.equal(formatMeanStd([0.5], 2), '0.50');
});

test('unpaired spread is 2·sqrt(SE_a² + SE_b²); paired spread is 2·SE of the per-seed differences', () => {
  const a = [0.70, 0.74, 0.72];
  const b = [0.60, 0.66, 0.63];
  const u = differenceOfMeans(a, b);
  const seA = 0.02 / Math.sqrt(3);
  const seB = 0.03 / Math.sqrt(3);
  assert.ok(Math.abs(u.diff - 0.09) < 1e-12);
  assert.ok(Math.abs(u.spread - 2 * Math.hypot(seA, seB)) < 1e-12);
  const p = differenceOfMeans(a, b, { paired: true }); // differences 0.10, 0.08, 0.09: std 0.01
  assert.ok(Math.abs(p.diff - 0.09) < 1e-12);
  assert.ok(Math.abs(p.spread - (2 * 0.01) / Math.sqrt(3)) < 1e-12);
  assert.throws(() => differenceOfMeans([1, 2], [1], { paired: true }), /equal lengths/);
  assert.throws(() => differenceOfMeans([1, NaN], [1, 2]), /value 1 is NaN/);
});

test('verdicts: holds beyond the spread, does not hold when reversed beyond it, inconclusive within it or with < 3 seeds', () => {
  assert.equal(verdictGreater({ diff: 0.05, spread: 0.04, n: 3, paired: false }).verdict, 'holds');
  assert.equal(verdictGreater({ diff: -0.05, spread: 0.04, n: 3, paired: false }).verdict, 'does not hold');
  assert.equal(verdictGreater({ diff: 0.03, spread: 0.04, n: 5, paired: false }).verdict, 'inconclusive');
  const one = verdictGreater({ diff: 0.5, spread: 0, n: 1, paired: false });
  assert.equal(one.verdict, 'inconclusive');
  assert.equal(one.note, 'one seed — indicative only');
  // the review's m = 10 "negative transfer": −3.9 points from one seed is not a verdict
  const nt = claimGreater({ claim: 'the grey source hurts', a: { label: 'scratch', values: [0.27] }, b: { label: 'grey freeze', values: [0.231] } });
  assert.equal(nt.verdict, 'inconclusive');
  assert.equal(nt.seeds, 1);
});

test('claims carry evidence as mean ± std and the rule in the note', () => {
  const c = claimGreater({ claim: 'freezing beats scratch at m = 10', a: { label: 'freeze', values: [0.71, 0.72, 0.73] }, b: { label: 'scratch', values: [0.25, 0.27, 0.29] }, paired: true });
  assert.equal(c.verdict, 'holds');
  assert.equal(c.evidence, 'freeze 0.720 ± 0.010 vs scratch 0.270 ± 0.020');
  assert.match(c.note!, /paired by seed/);
  const slope = claimWithin({ claim: 'ALS error falls like 1/(n·t)', label: 'slope', values: [-1.02, -0.98, -1.0], expected: -1, tolerance: 0.1 });
  assert.equal(slope.verdict, 'holds');
  const off = claimWithin({ claim: 'pairwise falls like 1/ν²', label: 'slope', values: [-1.02, -0.98, -1.0], expected: -2, tolerance: 0.2 });
  assert.equal(off.verdict, 'does not hold');
  const straddle = claimWithin({ claim: 'x ≈ 0', label: 'x', values: [0.05, 0.15, 0.1], expected: 0, tolerance: 0.1 });
  assert.equal(straddle.verdict, 'inconclusive');
  const close = claimClose({ claim: 'freeze ≈ cached-feature head', a: { label: 'freeze', values: [0.7, 0.71, 0.72] }, b: { label: 'cached', values: [0.7, 0.71, 0.72] }, tolerance: 0.02, paired: true });
  assert.equal(close.verdict, 'holds');
});

test('claimObserved: a deterministic check is decided by one run, with its own note, and refuses a non-boolean', () => {
  const ok = claimObserved({ claim: 'same bytes', evidence: 'max |difference| 0', holds: true });
  assert.deepEqual([ok.verdict, ok.seeds, ok.note], ['holds', 1, 'deterministic: one run decides']);
  const no = claimObserved({ claim: 'α·β²·γ² ≈ 2', evidence: '2.5', holds: false, why: 'computed exactly (no randomness)' });
  assert.deepEqual([no.verdict, no.note], ['does not hold', 'computed exactly (no randomness)']);
  assert.throws(() => claimObserved({ claim: 'x', evidence: 'y', holds: 1 as unknown as boolean }), /holds must be true or false/);
});
