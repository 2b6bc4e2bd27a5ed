import { DEFAULT_RISK_CONFIG, makeProblem, sampleSourceStats, pairwiseMomentEstimator } from '/work/wt/theory/lib/theory';
import { scoringRefine } from '/work/wt/theory/lib/theory/newton';
import { Rng } from '/work/wt/theory/lib/random';
const cfg = { ...DEFAULT_RISK_CONFIG, seed: 42 };
const n = 10, t = 160;
const p = makeProblem({ ...cfg, t }, new Rng(`p${n}${t}`));
const st = sampleSourceStats(p, n, 0.5, new Rng(`s${n}${t}`));
try { console.log(scoringRefine(st, pairwiseMomentEstimator(st, 3), { maxSteps: 5 })); } catch (e) { console.log('ERR', e); }
