import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix } from 'ml-matrix';
import { Rng } from '../../lib/random';
import {
  DEFAULT_RISK_CONFIG,
  alternatingLeastSquares,
  fitLogLogSlope,
  headExcessRisk,
  makeProblem,
  momentEstimator,
  oracleRisk,
  pairwiseMomentEstimator,
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
  transferRisk,
  worstCaseTransferRisk,
} from '../../lib/theory';

const base = { ...DEFAULT_RISK_CONFIG, seed: 7 };
const within = (got: number, want: number, rel: number, what: string) =>
  assert.ok(Math.abs(got - want) <= rel * want, `${what}: measured ${got.toPrecision(4)}, closed form ${want.toPrecision(4)} (±${rel * 100}%)`);

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

test('from scratch is undefined for m ≤ d + 1 and says why; closed forms follow', () => {
  const problem = makeProblem(base, new Rng(2));
  const sample = sampleTarget(problem.beta0, 16, base.sigma, new Rng(3));
  const scratch = scratchExcessRisk(problem.beta0, sample);
  assert.equal(scratch.excess, null);
  assert.match(scratch.reason ?? '', /m = 16 ≤ 30 \+ 1/);
  assert.equal(scratchRisk(0.5, 30, 31), null);
  assert.equal(scratchRisk(0.5, 30, 41), (0.25 * 30) / 10);
  assert.ok(headExcessRisk(problem.bStar, problem.beta0, sample).excess! > 0, 'the oracle head fits on 16 samples');
  assert.equal(oracleRisk(0.5, 3, Infinity), 0);
  const args = { sigma: 0.5, d: 30, r: 3, n: 25, t: 20, m: 50 };
  assert.equal(worstCaseTransferRisk({ ...args, nu: 0.1 }), transferRisk({ ...args, coverage: 10 }));
});

test('oracle and scratch excess risks match σ²r/(m−r−1) and σ²d/(m−d−1) within 15%', () => {
  const cfg = { ...base, methods: ['scratch', 'oracle'] as const, reps: 300 };
  const rows = riskSweep({ ...cfg, methods: [...cfg.methods] }, 'm', [45, 70, 120]);
  for (const s of summarizeSweep(rows)) {
    const want = s.method === 'scratch' ? scratchRisk(base.sigma, base.d, s.value)! : oracleRisk(base.sigma, base.r, s.value)!;
    within(s.mean!, want, 0.15, `${s.method} mean at m = ${s.value}`);
  }
});

test('slope in m is −1 (±0.2) for oracle and scratch, fitted on m − k − 1', () => {
  const rows = riskSweep({ ...base, methods: ['scratch', 'oracle'], reps: 100 }, 'm', [40, 60, 100, 160, 320]);
  const sums = summarizeSweep(rows).map((s) => ({ ...s, median: s.mean }));
  const oracle = sweepSlope(sums, 'oracle', (s) => s.value - base.r - 1).slope;
  const scratch = sweepSlope(sums, 'scratch', (s) => s.value - base.d - 1).slope;
  assert.ok(Math.abs(oracle + 1) <= 0.2, `oracle slope ${oracle}`);
  assert.ok(Math.abs(scratch + 1) <= 0.2, `scratch slope ${scratch}`);
});

test('slope in n·t of the transferred representation (ALS, m = ∞) is −1 (±0.2); the mean is near the prediction', () => {
  const cfg = { ...base, t: 10, m: Infinity, methods: ['als' as const], reps: 8 };
  const sums = summarizeSweep(riskSweep(cfg, 'n', [100, 200, 400, 800]));
  const fit = sweepSlope(sums, 'als', (s) => s.nt);
  assert.ok(Math.abs(fit.slope + 1) <= 0.2, `slope in n·t ${fit.slope}`);
  for (const s of sums) within(s.mean!, s.predicted!, 0.35, `ALS at n·t = ${s.nt}`);
});

test('ALS recovers B* with many samples, and exactly without noise; the moment estimators point the same way', () => {
  const cfg = { ...base, t: 20 };
  const problem = makeProblem(cfg, new Rng(11));
  const n = 800;
  const stats = sampleSourceStats(problem, n, cfg.sigma, new Rng(12));
  const init = pairwiseMomentEstimator(stats, cfg.r);
  const als = alternatingLeastSquares(stats, cfg.r, { init });
  const dAls = subspaceDistance(als.b, problem.bStar);
  // first-order theory: sin²θ_max ≈ σ²(d−r)/(ν·n·t) = 0.0013 here (sin θ ≈ 0.035)
  const scale = Math.sqrt((cfg.sigma ** 2 * (cfg.d - cfg.r)) / (problem.nu * n * cfg.t));
  assert.ok(dAls < 1.6 * scale, `ALS subspace distance ${dAls}, first-order scale ${scale}`);
  assert.ok(dAls < subspaceDistance(init, problem.bStar), 'ALS improves on its pairwise start');
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

test('sweeps are reproducible from the seed', () => {
  const cfg = { ...base, reps: 2, methods: ['als', 'oracle'] as Array<'als' | 'oracle'> };
  assert.deepEqual(riskSweep(cfg, 't', [5, 10]), riskSweep(cfg, 't', [5, 10]));
});
