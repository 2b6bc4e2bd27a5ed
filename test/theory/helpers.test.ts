import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RISK_CONFIG, SweepSummary, checkGuess, fitLogLogSlope, riskFigure, summarizeSweep, sweepSplit, upperPairs } from '../../lib/theory';

const summary = (method: SweepSummary['method'], value: number, median: number | null, predicted: number | null): SweepSummary => ({
  param: 'm', value, method, median, mean: median, predicted, nu: 1 / 3, nt: 500, m: value, count: median === null ? 0 : 1,
});

test('riskFigure draws medians and predictions on log axes and returns the fitted slopes', () => {
  const xs = [10, 20, 40, 80];
  const sums = [...xs.map((x) => summary('oracle', x, 2 / x, 2 / x)), ...xs.map((x) => summary('scratch', x, x < 40 ? null : 5 / x, null))];
  const fig = riskFigure(sums, { title: 't', xTitle: 'm', fits: [{ method: 'oracle', minX: 20 }] });
  assert.equal((fig.layout.xaxis as { type: string }).type, 'log');
  assert.equal((fig.layout.yaxis as { type: string }).type, 'log');
  assert.ok(Math.abs(fig.fits.oracle!.slope + 1) < 1e-12);
  assert.equal(fig.fits.oracle!.count, 3);
  const names = fig.data.map((d) => (d as { name: string }).name);
  assert.ok(names.includes('oracle (true B*), predicted'));
  assert.ok(!names.includes('from scratch (OLS), predicted'), 'no dashed line where the prediction is undefined');
  const scratch = fig.data.find((d) => (d as { name: string }).name === 'from scratch (OLS), median') as { x: number[] };
  assert.deepEqual(scratch.x, [40, 80], 'undefined medians are left out, not drawn as numbers');
  assert.ok(names.some((n) => /fit: slope -1\.00/.test(n)));
});

test('sweepSplit keeps n·t fixed while it splits the source', () => {
  const rows = sweepSplit({ ...DEFAULT_RISK_CONFIG, reps: 1, m: Infinity, methods: ['als'] }, 200, [5, 10, 40]);
  assert.deepEqual(summarizeSweep(rows).map((s) => [s.value, s.nt]), [[5, 200], [10, 200], [40, 200]]);
});

test('checkGuess answers without revealing the reference', () => {
  assert.match(checkGuess(NaN, 0.0123, 0.1, true), /No answer yet/);
  assert.match(checkGuess(0.012, 0.0123, 0.1, true), /^✓/);
  const miss = checkGuess(0.5, 0.0123, 0.1, true);
  assert.match(miss, /too high/);
  assert.ok(!miss.includes('0.0123'));
  assert.match(checkGuess(-2, -1, 0.2), /too low/);
});

test('upperPairs lists a symmetric matrix’s upper triangle row by row', () => {
  assert.deepEqual(upperPairs(3), [[0, 0], [0, 1], [0, 2], [1, 1], [1, 2], [2, 2]]);
  assert.equal(fitLogLogSlope([1, 10], [1, 10]).slope, 1);
});
