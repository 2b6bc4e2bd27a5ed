import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SweepRow, SweepSummary, checkGuess, fitLogLogSlope, predictedSlope, repetitionSlopes, riskFigure, sweepSlope } from '../../lib/theory';

const summary = (method: SweepSummary['method'], value: number, median: number | null, predicted: number | null): SweepSummary => ({
  param: 'm', value, method, median, mean: median, std: 0, values: median === null ? [] : [median], predicted, nu: 1 / 3, n: 25, t: 20, nt: 500, m: value, count: median === null ? 0 : 1,
});

test('fitLogLogSlope recovers exact power laws and skips non-positive points', () => {
  const xs = [1, 2, 5, 10, 50];
  const fit = fitLogLogSlope(xs, xs.map((x) => 3 * x ** -1.5));
  assert.ok(Math.abs(fit.slope + 1.5) < 1e-12);
  assert.ok(Math.abs(fit.intercept - Math.log(3)) < 1e-12);
  assert.ok(Math.abs(fit.r2 - 1) < 1e-12);
  const gappy = fitLogLogSlope([1, 2, 4, 8], [null, 0.5 * 2 ** 2, 0, 0.5 * 8 ** 2]);
  assert.equal(gappy.count, 2);
  assert.ok(Math.abs(gappy.slope - 2) < 1e-12);
  assert.throws(() => fitLogLogSlope([1, 2], [1, null]), /need ≥ 2 positive points/);
});

test('riskFigure draws medians and predictions on log axes and returns the fitted slopes', () => {
  const xs = [10, 20, 40, 80];
  const sums = [...xs.map((x) => summary('oracle', x, 2 / x, 2 / x)), ...xs.map((x) => summary('scratch', x, x < 40 ? null : 5 / x, null))];
  const fig = riskFigure(sums, { title: 't', xTitle: 'm', fits: [{ method: 'oracle', where: (s) => s.value >= 20 }] });
  assert.equal((fig.layout.xaxis as { type: string }).type, 'log');
  assert.equal((fig.layout.yaxis as { type: string }).type, 'log');
  assert.ok(Math.abs(fig.fits.oracle!.slope + 1) < 1e-12);
  assert.equal(fig.fits.oracle!.count, 3);
  const names = fig.data.map((d) => (d as { name: string }).name);
  assert.ok(names.includes('oracle (true B*), predicted'));
  assert.ok(!names.includes('from scratch (OLS), predicted'), 'no dashed line where the prediction is undefined');
  const scratch = fig.data.find((d) => (d as { name: string }).name === 'from scratch (OLS), median') as { x: number[]; line: { color: string } };
  assert.deepEqual(scratch.x, [40, 80], 'undefined medians are left out, not drawn as numbers');
  assert.equal(scratch.line.color, '#d62728');
  assert.ok(names.some((n) => /fit: slope -1\.00/.test(n)));
  assert.ok(Math.abs(predictedSlope(sums, 'oracle').slope + 1) < 1e-12);
  assert.ok(Math.abs(sweepSlope(sums, 'scratch').slope + 1) < 1e-12);
});

test('repetitionSlopes fits one slope per repetition over the selected points', () => {
  const row = (rep: number, value: number, excess: number): SweepRow => ({ param: 't', value, rep, method: 'erm', excess, predicted: null, nu: 0.3, n: 10, t: value, nt: 10 * value, m: Infinity });
  const rows = [10, 20, 40].flatMap((t) => [row(0, t, 1 / t), row(1, t, 4 / t ** 2), row(2, t, t === 10 ? 99 : 2 / t)]);
  const slopes = repetitionSlopes(rows, 'erm', { where: (r) => r.t >= 20 });
  assert.deepEqual(slopes.map((s) => Math.round(s * 1e9) / 1e9), [-1, -2, -1]);
});

test('checkGuess answers right or wrong with the tolerance only, never the direction or the value', () => {
  assert.match(checkGuess(NaN, 0.0123, 0.1, true), /No answer yet/);
  assert.match(checkGuess(0.012, 0.0123, 0.1, true), /^✓ Right/);
  const high = checkGuess(0.5, 0.0123, 0.1, true);
  const low = checkGuess(0.001, 0.0123, 0.1, true);
  assert.match(high, /^✗ Not within 10%/);
  assert.equal(high.replace('0.5', 'X'), low.replace('0.001', 'X'), 'a guess above and a guess below get the same words');
  for (const msg of [high, low]) {
    assert.ok(!/high|low|more|less|above|below/i.test(msg), msg);
    assert.ok(!msg.includes('0.0123'));
  }
  assert.match(checkGuess(-2, -1, 0.2), /Not within ±0.2/);
  assert.throws(() => checkGuess(1, NaN, 0.1), /run the section/);
});

test('slopeOfMeans weights each mean by its spread and claimSlope judges the slope by 2·SE', () => {
  const { slopeOfMeans, claimSlope } = require('../../lib/theory') as typeof import('../../lib/theory');
  const sums = [10, 20, 40, 80].map((x) => ({ ...summary('oracle', x, 2 / x, 2 / x), mean: 2 / x, std: 0.1 * (2 / x), count: 25 }));
  const fit = slopeOfMeans(sums, 'oracle');
  assert.ok(Math.abs(fit.slope + 1) < 1e-12, 'exact power law');
  // Var(log mean) = (0.1)²/25 at every point: SE = 0.02 / sqrt(Σ (log x − mean)²)
  const lx = [10, 20, 40, 80].map(Math.log);
  const m = lx.reduce((a, b) => a + b, 0) / 4;
  assert.ok(Math.abs(fit.se - 0.02 / Math.sqrt(lx.reduce((a, v) => a + (v - m) ** 2, 0))) < 1e-12);
  assert.equal(fit.reps, 25);
  assert.equal(claimSlope({ claim: 'c', summaries: sums, method: 'oracle', expected: -1, tolerance: 0.1 }).verdict, 'holds');
  assert.equal(claimSlope({ claim: 'c', summaries: sums, method: 'oracle', expected: -2, tolerance: 0.1 }).verdict, 'does not hold');
  const noisy = sums.map((s) => ({ ...s, std: 5 * s.mean!, count: 3 }));
  assert.equal(claimSlope({ claim: 'c', summaries: noisy, method: 'oracle', expected: -1, tolerance: 0.1 }).verdict, 'inconclusive');
  assert.throws(() => slopeOfMeans(sums.slice(0, 1), 'oracle'), /need ≥ 2 points/);
});
