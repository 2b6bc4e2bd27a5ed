import { DEFAULT_RISK_CONFIG, makeProblem, sampleSourceStats, pairwiseMomentEstimator } from '/work/wt/theory/lib/theory';
import { fitSourceHeads } from '/work/wt/theory/lib/theory/representation';
import { Matrix } from '/work/wt/theory/node_modules/ml-matrix';
import { Rng } from '/work/wt/theory/lib/random';
import { orthonormalColumns } from '/work/wt/theory/lib/theory/linalg';
const cfg = { ...DEFAULT_RISK_CONFIG, seed: 42 };
const n = 10, t = 160;
const p = makeProblem({ ...cfg, t }, new Rng(`p${n}${t}`));
const st = sampleSourceStats(p, n, 0.5, new Rng(`s${n}${t}`));
const b = pairwiseMomentEstimator(st, 3);
const f0 = fitSourceHeads(st, b);
// numerical gradient along random tangent direction vs analytic
const E = new Matrix(30, 3).apply(function (i, j) { this.set(i, j, Math.sin(i * 7 + j * 3)); });
const Ep = E.clone().sub(b.mmul(b.transpose().mmul(E)));
for (const h of [1e-3, 1e-4]) {
  const fp = fitSourceHeads(st, orthonormalColumns(b.clone().add(Ep.clone().mul(h)))).objective;
  const fm = fitSourceHeads(st, orthonormalColumns(b.clone().add(Ep.clone().mul(-h)))).objective;
  console.log('numeric dF', ((fp - fm) / (2 * h)).toFixed(4));
}
// analytic: dF = -2 Σ_j g_jᵀ E a_j
const a = f0.heads.to2DArray(); const xy = st.xy.to2DArray(); const d = 30; let dF = 0;
for (let j = 0; j < t; j++) {
  const G = new Matrix(d, d); let q = j * 465; for (let i = 0; i < d; i++) for (let c = i; c < d; c++, q++) { G.set(i, c, st.grams[q]); G.set(c, i, st.grams[q]); }
  const aj = Matrix.columnVector(a[j]);
  const g = Matrix.columnVector(xy[j]).sub(G.mmul(b).mmul(aj));
  dF += -2 * g.transpose().mmul(Ep).mmul(aj).get(0, 0);
}
console.log('analytic dF', dF.toFixed(4));
