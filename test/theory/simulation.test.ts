import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { Rng } from '../../lib/random';
import {
  DEFAULT_RISK_CONFIG,
  RiskMethod,
  alternatingLeastSquares,
  headExcessRisk,
  leastSquaresRepresentation,
  makeProblem,
  minNormExcessRisk,
  minNormRisk,
  momentEstimator,
  oracleRisk,
  pairwiseMomentEstimator,
  repetitionSlopes,
  riskSweep,
  sampleSourceStats,
  sampleTarget,
  scratchExcessRisk,
  scratchRisk,
  sourceHeads,
  subspaceDistance,
  summarizeSweep,
  sweepSlope,
  taskDiversity,
} from '../../lib/theory';

const base = { ...DEFAULT_RISK_CONFIG, seed: 7 };
const within = (got: number, want: number, rel: number, what: string) =>
  assert.ok(Math.abs(got - want) <= rel * want, `${what}: measured ${got.toPrecision(4)}, closed form ${want.toPrecision(4)} (±${rel * 100}%)`);

test('task diversity ν = λ_min(AᵀA/t): 1/r at κ = 1, the geometric spectrum otherwise, a hand case', () => {
  const rng = new Rng(1);
  for (const [t, r] of [[20, 3], [7, 2], [50, 5]]) {
    const a = sourceHeads(t, r, 1, rng);
    assert.ok(Math.abs(taskDiversity(a) - 1 / r) < 1e-10, `t=${t}, r=${r}`);
    assert.ok(Math.abs(a.norm() ** 2 / t - 1) < 1e-10, '‖A‖²_F/t = 1');
  }
  const kappa = 4;
  const s2 = [1, kappa ** -1, kappa ** -2]; // singular values 1, κ^-1/2, κ^-1, squared
  within(taskDiversity(sourceHeads(30, 3, kappa, rng)), s2[2] / (s2[0] + s2[1] + s2[2]), 1e-10, 'ν at κ = 4');
  // A = [[1,0],[0,2],[0,0]]: AᵀA/3 = diag(1, 4)/3
  assert.ok(Math.abs(taskDiversity(new Matrix([[1, 0], [0, 2], [0, 0]])) - 1 / 3) < 1e-12);
  assert.throws(() => sourceHeads(2, 3, 1, rng), /need t ≥ r/);
});

test('the source statistics are the sums they claim to be (hand computation from the same draws)', () => {
  const cfg = { ...base, d: 4, r: 2, t: 3 };
  const problem = makeProblem(cfg, new Rng(5));
  const n = 6;
  const stats = sampleSourceStats(problem, n, 0.3, new Rng(6));
  const rng = new Rng(6); // the same draws: n×d normals, then n noises, task by task
  const betas = problem.bStar.mmul(problem.heads.transpose());
  const y2xx = Matrix.zeros(4, 4);
  for (let j = 0; j < 3; j++) {
    const x = new Matrix(Array.from({ length: n }, () => Array.from({ length: 4 }, () => rng.normal())));
    const y = x.mmul(betas.getColumnVector(j)).add(new Matrix(Array.from({ length: n }, () => [0.3 * rng.normal()])));
    const g = x.transpose().mmul(x);
    const upper = [0, 1, 2, 3].flatMap((a) => [0, 1, 2, 3].filter((b) => b >= a).map((b) => g.get(a, b)));
    upper.forEach((v, p) => assert.ok(Math.abs(stats.grams[j * 10 + p] - v) < 1e-10, `task ${j} Gram entry ${p}`));
    x.transpose().mmul(y).to1DArray().forEach((v, i) => assert.ok(Math.abs(stats.xy.get(j, i) - v) < 1e-10));
    for (let i = 0; i < n; i++) y2xx.add(x.getRowVector(i).transpose().mmul(x.getRowVector(i)).mul(y.get(i, 0) ** 2));
  }
  assert.ok(stats.y2xx.clone().sub(y2xx).norm() < 1e-9, 'Σ y²xxᵀ');
  assert.equal(sampleSourceStats(problem, n, 0.3, new Rng(6), { grams: false }).grams.length, 0);
  assert.throws(() => alternatingLeastSquares(sampleSourceStats(problem, n, 0.3, new Rng(6), { grams: false }), 2), /no Gram matrices/);
});

test('from scratch: OLS is undefined for m ≤ d + 1 and says why; min-norm LS is finite there; closed forms follow', () => {
  const problem = makeProblem(base, new Rng(2));
  const sample = sampleTarget(problem.beta0, 12, base.sigma, new Rng(3));
  const scratch = scratchExcessRisk(problem.beta0, sample);
  assert.equal(scratch.excess, null);
  assert.match(scratch.reason ?? '', /m = 12 ≤ 20 \+ 1/);
  assert.ok(minNormExcessRisk(problem.beta0, sample).excess! > 0);
  assert.equal(scratchRisk(0.5, 30, 31), null);
  assert.equal(scratchRisk(0.5, 30, 41), (0.25 * 30) / 10);
  assert.equal(minNormRisk(0.5, 20, 20), null);
  assert.equal(minNormRisk(0.5, 20, 8), 1 - 8 / 20 + (0.25 * 8) / 11);
  assert.ok(headExcessRisk(problem.bStar, problem.beta0, sample).excess! > 0, 'the oracle head fits on 12 samples');
  assert.equal(oracleRisk(0.5, 3, Infinity), 0);
});

test('oracle, OLS and min-norm LS means match σ²r/(m−r−1), σ²d/(m−d−1) and ‖β₀‖²(1−m/d) + σ²m/(d−m−1) within 15%', () => {
  // below d only min-norm LS is defined; the oracle's mean needs m − r − 1 large enough for a finite variance
  const low = summarizeSweep(riskSweep({ ...base, methods: ['scratch', 'minnorm'], reps: 200 }, 'm', [6, 10]));
  const high = summarizeSweep(riskSweep({ ...base, methods: ['scratch', 'minnorm', 'oracle'], reps: 200 }, 'm', [35, 60]));
  for (const s of [...low, ...high]) {
    if (s.method === 'scratch' && s.value < base.d) {
      assert.equal(s.predicted, null);
      assert.equal(s.count, 0);
      continue;
    }
    within(s.mean!, s.predicted!, 0.15, `${s.method} mean at m = ${s.value}`);
  }
});

test('slope in m is −1 (±0.2) for oracle and scratch, fitted on m − k − 1, per repetition and on the medians', () => {
  const rows = riskSweep({ ...base, methods: ['scratch', 'oracle'], reps: 60 }, 'm', [30, 45, 70, 120, 240]);
  const sums = summarizeSweep(rows).map((s) => ({ ...s, median: s.mean }));
  assert.ok(Math.abs(sweepSlope(sums, 'oracle', { x: (s) => s.value - base.r - 1 }).slope + 1) <= 0.2);
  assert.ok(Math.abs(sweepSlope(sums, 'scratch', { x: (s) => s.value - base.d - 1 }).slope + 1) <= 0.2);
  const perRep = repetitionSlopes(rows, 'oracle', { x: (s) => s.m - base.r - 1 });
  assert.equal(perRep.length, 60);
  const avg = perRep.reduce((a, b) => a + b, 0) / perRep.length;
  assert.ok(Math.abs(avg + 1) <= 0.2, `mean per-repetition oracle slope ${avg}`);
});

test('least squares recovers B* with many samples, and exactly without noise; the moment estimators point the same way', () => {
  const cfg = { ...base, t: 20 };
  const problem = makeProblem(cfg, new Rng(11));
  const n = 800;
  const stats = sampleSourceStats(problem, n, cfg.sigma, new Rng(12));
  const init = pairwiseMomentEstimator(stats, cfg.r);
  const erm = leastSquaresRepresentation(stats, cfg.r, { init });
  const dErm = subspaceDistance(erm.b, problem.bStar);
  // first-order theory: sin²θ_max ≈ σ²(d−r)/(ν·n·t)
  const scale = Math.sqrt((cfg.sigma ** 2 * (cfg.d - cfg.r)) / (problem.nu * n * cfg.t));
  assert.ok(dErm < 1.6 * scale, `least-squares subspace distance ${dErm}, first-order scale ${scale}`);
  assert.ok(dErm < subspaceDistance(init, problem.bStar), 'least squares improves on its pairwise start');
  assert.ok(subspaceDistance(momentEstimator(stats, cfg.r), problem.bStar) < 0.9, 'TJJ moments are better than a random subspace');
  const clean = alternatingLeastSquares(sampleSourceStats(problem, 40, 0, new Rng(13)), cfg.r, { tol: 0, maxIters: 100 });
  assert.ok(subspaceDistance(clean.b, problem.bStar) < 1e-6, 'noiseless data pins B* down');
  assert.ok(clean.objective < 1e-8, `noiseless objective ${clean.objective}`);
});

test('subspaceDistance is 0 for the same span in another basis and 1 for orthogonal spans', () => {
  const e = Matrix.eye(4);
  const u = e.subMatrixColumn([0, 1]);
  const rot = new Matrix([[Math.SQRT1_2, -Math.SQRT1_2], [Math.SQRT1_2, Math.SQRT1_2]]);
  assert.ok(subspaceDistance(u, u.mmul(rot)) < 1e-12);
  assert.ok(Math.abs(subspaceDistance(u, e.subMatrixColumn([2, 3])) - 1) < 1e-12);
});

test('sweeps are reproducible from the seed; configure changes several knobs at once', () => {
  const cfg = { ...base, reps: 2, methods: ['erm', 'oracle'] as RiskMethod[] };
  assert.deepEqual(riskSweep(cfg, 't', [5, 10]), riskSweep(cfg, 't', [5, 10]));
  const split = riskSweep({ ...base, reps: 1, m: Infinity, methods: ['erm'] }, 'n', [5, 10, 40], { configure: (n) => ({ n, t: 200 / n }) });
  assert.deepEqual(summarizeSweep(split).map((s) => [s.value, s.t, s.nt]), [[5, 40, 200], [10, 20, 200], [40, 5, 200]]);
  assert.throws(() => riskSweep(cfg, 'm', []), /no values/);
  // paired: the values of a repetition share their random draws, so two almost equal κ give almost equal errors
  const pair = (paired: boolean) => riskSweep({ ...base, reps: 1, m: Infinity, methods: ['erm'] }, 'kappa', [2, 2 + 1e-9], { paired }).map((r) => r.excess!);
  const [p1, p2] = pair(true);
  assert.ok(Math.abs(p1 - p2) < 1e-6 * p1, `paired: ${p1} vs ${p2}`);
  const [u1, u2] = pair(false);
  assert.ok(Math.abs(u1 - u2) > 0.01 * u1, `unpaired draws differ: ${u1} vs ${u2}`);
});
