import { DEFAULT_RISK_CONFIG, makeProblem, sampleSourceStats, alternatingLeastSquares } from '/work/wt/theory/lib/theory';
import { refineRepresentation } from '/work/wt/theory/lib/theory/newton';
import { Rng } from '/work/wt/theory/lib/random';
const cfg = { ...DEFAULT_RISK_CONFIG, seed: 42 };
for (const [n, t] of [[10, 640], [6, 160]]) {
const p = makeProblem({ ...cfg, t }, new Rng(`p${n}${t}`));
const st = sampleSourceStats(p, n, 0.5, new Rng(`s${n}${t}`));
let c = process.cpuUsage();
const a = alternatingLeastSquares(st, 3, { maxIters: 25 });
const ta = process.cpuUsage(c).user / 1e3; c = process.cpuUsage();
const res = refineRepresentation(st, a.b, { maxSteps: 30 });
console.log(n, t, 'als', a.iterations, ta.toFixed(0), 'ms newton', res.steps, (process.cpuUsage(c).user / 1e3).toFixed(0), 'ms');
}
