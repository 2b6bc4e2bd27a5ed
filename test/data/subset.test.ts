// lib/data/subset.ts: the one seeded per-class draw reproduces each draw it replaced, and nests.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../lib/random';
import { perClassSlices, rowsByClass, seededSlices } from '../../lib/data/subset';

test('seededSlices = consecutive slices of one seeded permutation (the formula every old draw used)', () => {
  const perm = new Rng('split/3/1').permutation(40);
  const [val, train] = seededSlices(40, 'split/3/1', [5, 10]);
  assert.deepEqual(val, perm.slice(0, 5));
  assert.deepEqual(train, perm.slice(5, 15));
  const [sorted] = seededSlices(40, 7, [10], { sorted: true });
  assert.deepEqual(sorted, new Rng(7).permutation(40).slice(0, 10).sort((a, b) => a - b));
  // nesting: the m = 10 draw lies inside the m = 50 draw
  const [small] = seededSlices(100, 'x', [10]);
  const [large] = seededSlices(100, 'x', [50]);
  assert.ok(small.every((i) => large.includes(i)));
  assert.throws(() => seededSlices(5, 1, [3, 3]), /need 6 items, only 5/);
});

test('perClassSlices maps each class through its own seed label, and names a class that is too small', () => {
  const labels = Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1, 1]);
  const rows = rowsByClass(labels, 2);
  assert.deepEqual(rows, [[0, 2, 4, 6], [1, 3, 5, 7, 8]]);
  const draw = perClassSlices(rows, (c) => `split/9/${c}`, [1, 2]);
  for (let c = 0; c < 2; c++) {
    const p = new Rng(`split/9/${c}`).permutation(rows[c].length);
    assert.deepEqual(draw[c][0], [rows[c][p[0]]]);
    assert.deepEqual(draw[c][1], [rows[c][p[1]], rows[c][p[2]]]);
  }
  assert.throws(() => perClassSlices(rows, () => 's', [3, 2], { names: ['ants', 'bees'] }), /class 'ants' has 4 images; the draw needs 5 \(3 \+ 2\)/);
  assert.throws(() => rowsByClass([0, 2], 2), /label 1 is 2/);
});
