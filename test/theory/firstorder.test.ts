import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { Rng } from '../../lib/random';
import {
  DEFAULT_RISK_CONFIG,
  alternatingLeastSquares,
  firstOrderRisk,
  leastSquaresRepresentation,
  makeProblem,
  orthonormalColumns,
  repetitionSlopes,
  riskSweep,
  sampleSourceStats,
  subspaceDistance,
  summarizeSweep,
  summaryAt,
  sweepSlope,
  predictedSlope,
  RiskMethod,
  worstCaseErmRisk,
} from '../../lib/theory';
import { fitSourceHeads } from '../../lib/theory/representation';
import { mean } from '../../lib/stats';

const base = { ...DEFAULT_RISK_CONFIG, seed: 3 };

test('first-order forms by hand: κ = 1 worst case, every task head of norm 1', () => {
  // t = r = 3 orthogonal unit heads: AᵀA/t = I/3, so coverage = 3 and coverage₂ = 9 for any unit w₀
  const problem = { ...makeProblem({ ...base, t: 3 }, new Rng(1)), heads: Matrix.eye(3), w0: Matrix.columnVector([1, 0, 0]) };
  const [d, n, s] = [20, 10, 0.5];
  const s2 = s * s;
  assert.ok(Math.abs(firstOrderRisk('erm', problem, { d, n, sigma: s })! - ((s2 * 17) / (3 * 7)) * (3 + (s2 * 9) / 6)) < 1e-12);
  // pairwise: each task has s_j² = 1 + σ², (a_jᵀp)² = 9 for the task along w₀ and 0 for the others
  const pw = (17 / (3 * 9)) * ((1 + s2) * (9 / 3) + ((1 + s2) ** 2 * 9) / n);
  assert.ok(Math.abs(firstOrderRisk('pairwise', problem, { d, n, sigma: s })! - pw) < 1e-12);
  const tjj = (17 / (n * 3)) * (0.75 * (1 + s2) ** 2 * 9 + 3 * (1 + s2) * (9 / 3));
  assert.ok(Math.abs(firstOrderRisk('moments', problem, { d, n, sigma: s })! - tjj) < 1e-12);
  assert.equal(firstOrderRisk('erm', problem, { d, n: 4, sigma: s }), null, 'n ≤ r + 1: the heads’ noise has no finite mean');
  assert.throws(() => firstOrderRisk('oracle', problem, { d, n, sigma: s }), /not a stage-1 estimator/);
  // large n: the ERM form tends to σ²(d−r)·coverage/(n·t) = σ²(d−r)/(ν·n·t) for the worst case
  const big = firstOrderRisk('erm', problem, { d, n: 1e6, sigma: s })!;
  assert.ok(Math.abs(big / worstCaseErmRisk({ sigma: s, d, r: 3, n: 1e6, t: 3, nu: 1 / 3 }) - 1) < 1e-4);
});

test('Newton finishes the least-squares fit: lower objective than ALS, zero directional derivative, same point from B*', () => {
  const problem = makeProblem({ ...base, t: 160 }, new Rng(21));
  const stats = sampleSourceStats(problem, 10, base.sigma, new Rng(22));
  const als = alternatingLeastSquares(stats, 3, { maxIters: 5 });
  const erm = leastSquaresRepresentation(stats, 3, { alsIters: 5 });
  assert.ok(erm.objective <= als.objective + 1e-9);
  const fromTruth = leastSquaresRepresentation(stats, 3, { init: problem.bStar, alsIters: 5 });
  assert.ok(subspaceDistance(erm.b, fromTruth.b) < 1e-6, 'the same minimum from the moment start and from B*');
  const dir = new Matrix(20, 3).apply(function (this: Matrix, i: number, j: number) { this.set(i, j, Math.sin(3 * i + 7 * j)); });
  const tangent = dir.clone().sub(erm.b.mmul(erm.b.transpose().mmul(dir)));
  const h = 1e-4;
  const f = (s: number) => fitSourceHeads(stats, orthonormalColumns(erm.b.clone().add(tangent.clone().mul(s)))).objective;
  const slope = (f(h) - f(-h)) / (2 * h);
  assert.ok(Math.abs(slope) < 1e-4 * erm.objective, `directional derivative ${slope} at the minimum`);
  assert.ok(f(10 * h) > erm.objective && f(-10 * h) > erm.objective, 'a minimum, not a saddle, along that direction');
});

test('fixed n = 10, t growing 8×: least squares keeps falling like 1/t, within 30% of the finite-n first-order form (no n-floor)', () => {
  const rows = riskSweep({ ...base, n: 10, m: Infinity, methods: ['erm'], reps: 6 }, 't', [40, 80, 160, 320]);
  const sums = summarizeSweep(rows);
  const late = rows.filter((r) => r.t >= 80);
  const ratio = mean(late.map((r) => r.excess! / r.predicted!));
  assert.ok(Math.abs(ratio - 1) < 0.3, `measured / first-order over t ≥ 80: ${ratio}`);
  const slopes = repetitionSlopes(rows, 'erm', { x: (r) => r.nt, where: (r) => r.t >= 80 });
  assert.ok(Math.abs(mean(slopes) + 1) < 0.2, `per-repetition slopes in n·t: ${slopes.map((v) => v.toFixed(2))}`);
  assert.ok(summaryAt(sums, 'erm', 320).mean! < summaryAt(sums, 'erm', 40).mean! / 4, 'an 8× larger t cuts the error by more than 4×');
});

test('ν sweep (worst-case target, n·t = 25,600): each estimator follows its first-order form — least squares 1/ν, pairwise ≈ 1/ν (flatter: a constant part), TJJ steeper', () => {
  const cfg = { ...base, n: 400, t: 64, target: 'worst' as const, m: Infinity, methods: ['erm', 'pairwise', 'moments'] as RiskMethod[], reps: 6 };
  const rows = riskSweep(cfg, 'kappa', [1, 2, 3]);
  const sums = summarizeSweep(rows).map((s) => ({ ...s, median: s.mean }));
  // first order describes small errors: compare where the prediction is below 0.15 (‖β₀‖² = 1)
  for (const s of sums.filter((x) => x.predicted! < 0.15)) assert.ok(Math.abs(s.mean! / s.predicted! - 1) < 0.35, `${s.method} at κ = ${s.value}: mean ${s.mean}, first-order ${s.predicted}`);
  assert.equal(sums.filter((x) => x.predicted! < 0.15).length, 8, 'all but TJJ at κ = 3 are in the first-order regime');
  const byNu = { x: (r: { nu: number }) => r.nu };
  const slope = (m: RiskMethod) => sweepSlope(sums, m, byNu).slope;
  const theory = (m: RiskMethod) => predictedSlope(sums, m, byNu).slope;
  for (const m of ['erm', 'pairwise', 'moments'] as RiskMethod[]) assert.ok(Math.abs(slope(m) - theory(m)) < 0.3, `${m}: measured slope ${slope(m)}, first-order ${theory(m)}`);
  assert.ok(Math.abs(slope('erm') + 1) < 0.25, `least-squares slope in ν ${slope('erm')}`);
  assert.ok(slope('moments') < -1.4, `TJJ slope in ν ${slope('moments')}`);
  assert.ok(slope('pairwise') > slope('moments') + 0.5, `pairwise (${slope('pairwise')}) is much flatter than TJJ (${slope('moments')})`);
  const ermRows = rows.filter((r) => r.method === 'erm');
  const ratio = mean(rows.filter((r) => r.method === 'pairwise').map((r, i) => r.excess! / ermRows[i].excess!));
  assert.ok(ratio > 3 && ratio < 10, `pairwise / least squares ${ratio}, first order ≈ (1 + σ²)/σ² = 5 plus the 1/ν² part`);
});
