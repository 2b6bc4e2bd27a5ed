// Issue #15: the runner never writes over a source; two notebooks of the same name never collide.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import type { Report } from '../../scripts/notebooks/report';
import { root, runRunner, tmp, writeNotebook } from './runner-helpers';

test('--out resolving to the sources (., the notebook folder, no value) is refused, exit 2, the source untouched', { timeout: 200_000 }, async () => {
  const dir = tmp();
  const inKit = path.join(root, 'notebooks', 'zz-runner-safety-probe.ipynb');
  try {
    const src = writeNotebook(path.join(dir, 'notebooks', 'x.ipynb'), ['let seed = 1;\nconsole.log(seed);']);
    const before = fs.readFileSync(src, 'utf8');
    const cases: Array<[string, string[], RegExp]> = [
      ['--out . (cwd holds the source)', [src, '--param', 'seed=7', '--out', '.'], /over the source/],
      ['--out without a value', [src, '--out'], /--out needs a value/],
      ['--out the kit (copies into notebooks/)', [writeNotebook(path.join(dir, 'other', 'zz-runner-safety-probe.ipynb'), ['1']), '--out', root], /into .*notebooks\/, where the notebook sources live/],
    ];
    const results = await Promise.all(cases.map(([, args]) => runRunner(args, { cwd: dir })));
    results.forEach((r, i) => {
      const [what, , why] = cases[i];
      assert.equal(r.status, 2, `${what}: exit status\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, why, what);
      assert.match(r.stderr, /usage: npm run notebooks/, what);
    });
    assert.equal(fs.readFileSync(src, 'utf8'), before, 'the source notebook is unchanged');
    assert.ok(!fs.existsSync(inKit), 'nothing was written into the kit\'s notebooks/');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(inKit, { force: true });
  }
});

test('two inputs named x.ipynb get two outputs and two report entries', { timeout: 200_000 }, async () => {
  const dir = tmp();
  try {
    const a = writeNotebook(path.join(dir, 'a', 'x.ipynb'), ['console.log("from a")']);
    const b = writeNotebook(path.join(dir, 'b', 'x.ipynb'), ['console.log("from b")']);
    const out = path.join(dir, 'out');
    const r = await runRunner([a, b, '--out', out, '--jobs', '2']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    const report = JSON.parse(fs.readFileSync(path.join(out, 'report.json'), 'utf8')) as Report;
    assert.equal(report.notebooks.length, 2, JSON.stringify(report.notebooks.map((n) => n.name)));
    const texts = report.notebooks.map((n) => {
      const nb = JSON.parse(fs.readFileSync(path.resolve(n.output), 'utf8'));
      return [n.name, path.relative(dir, path.resolve(n.path)), nb.cells[0].outputs[0].text];
    });
    assert.deepEqual(texts.sort(), [['a__x', path.join('a', 'x.ipynb'), 'from a\n'], ['b__x', path.join('b', 'x.ipynb'), 'from b\n']]);
    assert.match(r.stdout, /2\/2 notebooks ok/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
