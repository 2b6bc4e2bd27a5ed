import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../lib/random';

test('the same seed gives the same stream; another seed does not', () => {
  const a = new Rng(7), b = new Rng(7), c = new Rng(8);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(Array.from({ length: 5 }, () => b.next()), xs);
  assert.notDeepEqual(Array.from({ length: 5 }, () => c.next()), xs);
});

test('normal() has mean ≈ 0 and variance ≈ 1 over 20,000 draws', () => {
  const r = new Rng(1);
  const n = 20000;
  const xs = Array.from({ length: n }, () => r.normal());
  const mean = xs.reduce((s, x) => s + x, 0) / n;
  const v = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n;
  assert.ok(Math.abs(mean) < 0.03, `mean ${mean}`);
  assert.ok(Math.abs(v - 1) < 0.05, `variance ${v}`);
});

test('permutation() is a permutation and fork() is deterministic but independent', () => {
  const p = new Rng(3).permutation(50);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.equal(new Rng(3).fork('a').next(), new Rng(3).fork('a').next());
  assert.notEqual(new Rng(3).fork('a').next(), new Rng(3).fork('b').next());
  assert.throws(() => new Rng(1).int(0), /positive integer/);
});
