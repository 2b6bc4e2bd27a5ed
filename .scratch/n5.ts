import * as k from '/work/wt/theory/lib/theory';
import { Rng } from '/work/wt/theory/lib/random';
const cfg = { ...k.DEFAULT_RISK_CONFIG, seed: 42 };
for (const t of [40, 160, 320]) {
  const p = k.makeProblem({ ...cfg, t }, new Rng(`p${t}`));
  const st = k.sampleSourceStats(p, 5, 0.5, new Rng(`s${t}`));
  for (const [als, nt] of [[25, 30], [25, 60], [100, 10], [300, 0]]) {
    const c = process.cpuUsage();
    const res = k.leastSquaresRepresentation(st, 3, { alsIters: als, newtonSteps: nt });
    console.log(t, als, nt, 'its', res.alsIterations, 'newton', res.steps, 'obj', res.objective.toFixed(5), 'ex', k.headExcessRisk(res.b, p.beta0, null).excess!.toPrecision(4), (process.cpuUsage(c).user / 1e3).toFixed(0), 'ms');
  }
}
