// `npm run bench`'s command line (scripts/lib/cli.ts): unknown flags and malformed values exit 2 with the usage,
// `--flag value` and `--flag=value` both work, the old flag names still do; and its report's target lines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { parseCommand, UsageError } from '../../scripts/lib/cli';
import { BENCH_SPEC, benchOptions } from '../../scripts/bench';
import { busyLines, targetChecks } from '../../scripts/bench/report';
import type { BenchRow } from '../../scripts/bench/types';
import { repoRoot } from '../../lib/config';

const parse = (argv: string[]) => benchOptions(parseCommand(BENCH_SPEC, argv).flags, {}, 2);

test('--sizes 64 and --sizes=64 are the same; the old flags keep their meaning', () => {
  assert.deepEqual(parse(['--sizes', '64']).sizes, [64]);
  assert.deepEqual(parse(['--sizes=64']).sizes, [64]);
  const o = parse(['--sizes=32,64', '--backends=wasm,cpu', '--no-torch', '--no-source', '--no-data', '--json']);
  assert.deepEqual(o.sizes, [32, 64]);
  assert.deepEqual(o.backends, ['wasm', 'cpu']);
  assert.equal(o.torch, false);
  assert.equal(o.source, false);
  assert.equal(o.data, false);
  assert.equal(o.json, true);
  assert.deepEqual(parse(['--quick']).sizes, [32]);
  assert.equal(parse(['--quick']).data, false);
  assert.deepEqual(parse([]).sizes, [32, 64, 128]);
  // --threads N measures N threads only; --no-threads one thread only; by default the other of 1 and 2 too.
  assert.deepEqual([parse(['--threads=2']).threads, parse(['--threads=2']).childThreads], [2, []]);
  assert.deepEqual([parse(['--no-threads']).threads, parse(['--no-threads']).childThreads], [1, []]);
  const d = parse([]);
  assert.deepEqual([d.threads, ...d.childThreads].sort(), [1, 2]);
  assert.deepEqual(benchOptions(parseCommand(BENCH_SPEC, []).flags, {}, 1).childThreads, [], 'one core: no thread rows');
});

test('unknown flags, malformed values and contradictions are usage errors', () => {
  for (const argv of [['--bogus'], ['--sizes', 'abc'], ['--sizes', '4'], ['--sizes', ''], ['--threads', '0'], ['--threads', '2x'], ['--backends', 'gpu'], ['--threads', '2', '--no-threads'], ['--model', 'x']]) {
    assert.throws(() => parse(argv), UsageError, argv.join(' '));
  }
});

test('npm run bench -- --bogus exits 2 with the usage, before measuring anything', () => {
  const res = spawnSync(process.execPath, ['--import', 'tsx', path.join(repoRoot(), 'scripts', 'bench.ts'), '--bogus'], { encoding: 'utf8', cwd: repoRoot() });
  assert.equal(res.status, 2, res.stderr);
  assert.match(res.stderr, /Unknown option '--bogus'/);
  assert.match(res.stderr, /usage: npm run bench --/);
  assert.doesNotMatch(res.stdout + res.stderr, /img\/s|trainImagesPerSec/);
});

const row = (over: Partial<BenchRow>): BenchRow => ({ backend: 'wasm', model: 'reference-cnn', imageSize: 32, batchSize: 32, trainImagesPerSec: 100, inferImagesPerSec: 100, ...over });

test('targets are read from the default rows against PyTorch; busy rows compare the default with one thread', () => {
  const rows = [
    row({ threads: 2, default: true, trainImagesPerSec: 3000, inferImagesPerSec: 7000 }),
    row({ threads: 1, trainImagesPerSec: 1600, inferImagesPerSec: 4000 }),
    row({ backend: 'pytorch-cpu', trainImagesPerSec: 5000, inferImagesPerSec: 6000 }),
    row({ model: 'effnet-digits-m-0-4', threads: 2, default: true, trainImagesPerSec: 700 }),
    row({ threads: 2, default: true, busy: true, trainImagesPerSec: 1500 }),
    row({ threads: 1, busy: true, trainImagesPerSec: 1550 }),
  ];
  const checks = targetChecks(rows);
  const byName = (s: string) => checks.find((c) => c.target.includes(s))!;
  assert.equal(byName('32 px training').value, 0.6);
  assert.equal(byName('32 px training').met, true);
  assert.equal(byName('64 px training').met, null, 'no 64-px rows: not measured');
  assert.ok(Math.abs(byName('inference').value! - 7000 / 6000) < 1e-12);
  assert.equal(byName('effnet').met, false);
  const busy = busyLines(rows);
  assert.equal(busy.length, 1);
  assert.match(busy[0], /training 1500 vs 1550 \(-3\.2 %\)/);
});
