import * as k from '/work/wt/theory/lib/theory';
import { Rng } from '/work/wt/theory/lib/random';
const cfg = { ...k.DEFAULT_RISK_CONFIG, seed: 42 };
const p = k.makeProblem({ ...cfg, t: 160 }, new Rng(`p160`));
const st = k.sampleSourceStats(p, 5, 0.5, new Rng(`s160`));
const c = process.cpuUsage();
for (let i = 0; i < 4; i++) k.leastSquaresRepresentation(st, 3, {});
console.log((process.cpuUsage(c).user / 4e3).toFixed(0), 'ms per run');
