import * as k from '/work/wt/theory/lib/theory';
const cfg = { ...k.DEFAULT_RISK_CONFIG, seed: 42, reps: 12 };
function cpu<T>(label: string, f: () => T): T { const c = process.cpuUsage(); const r = f(); const u = process.cpuUsage(c); console.log(`== ${label}: ${((u.user + u.system) / 1e6).toFixed(2)} s`); return r; }
const show = (sums: k.SweepSummary[]) => console.table(sums.map((s) => ({ m: s.method, v: s.value, n: s.n, t: s.t, nuNtD: +(s.nu * s.nt / cfg.d).toFixed(1), med: s.median?.toPrecision(3), mean: s.mean?.toPrecision(3), sd: s.std?.toPrecision(2), pred: s.predicted?.toPrecision(3), ratio: s.mean && s.predicted ? +(s.mean / s.predicted).toFixed(2) : null })));
const which = process.argv[2];
if (which === 'm') {
  const rows = cpu('m', () => k.riskSweep({ ...cfg, methods: ['erm', 'scratch', 'minnorm', 'ridge', 'oracle'] }, 'm', [6, 8, 12, 16, 24, 32, 48, 64, 128, 256]));
  show(k.summarizeSweep(rows));
}
if (which === 't') {
  for (const n of [5, 10]) {
    const rows = cpu(`t n=${n}`, () => k.riskSweep({ ...cfg, n, m: Infinity, methods: ['erm'] }, 't', [20, 40, 80, 160, 320]));
    show(k.summarizeSweep(rows));
  }
}
if (which === 'split') {
  const rows = cpu('split', () => k.riskSweep({ ...cfg, m: Infinity, methods: ['erm'] }, 'n', [5, 10, 20, 40, 80], (n) => ({ n, t: 800 / n })));
  show(k.summarizeSweep(rows));
}
if (which === 'nu') {
  const n = +process.argv[3], t = +process.argv[4];
  const rows = cpu(`nu n=${n} t=${t}`, () => k.riskSweep({ ...cfg, n, t, target: 'worst', m: Infinity, methods: ['erm', 'pairwise', 'moments'] }, 'kappa', [1, 1.5, 2, 3, 4]));
  show(k.summarizeSweep(rows));
}
