// scripts/lib/cli.ts: one parser for every command — strict flags, decimal numbers, non-empty lists, exit status 2.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseCommand, parseNumber, usage, UsageError, type CommandSpec } from '../../scripts/lib/cli';
import { repoRoot } from '../../lib/config';

const spec = {
  name: 'npm run demo --',
  summary: 'A demo command.',
  flags: {
    m: { kind: 'ints', help: 'images per class', min: 1, required: true },
    lr: { kind: 'numbers', help: 'learning rates', min: 0 },
    out: { kind: 'string', help: 'output folder', arg: 'DIR', short: 'o' },
    mode: { kind: 'string', help: 'a choice', choices: ['a', 'b'] as const },
    param: { kind: 'string', help: 'k=v', multiple: true },
    json: { kind: 'boolean', help: 'JSON lines' },
  },
  positionals: { name: 'FILES', help: 'input files', max: 2 },
} satisfies CommandSpec;

test('both --flag value and --flag=value; lists, numbers, booleans and repeated flags are typed', () => {
  const { flags, positionals } = parseCommand(spec, ['a.ipynb', '--m', '5,10', '--lr=0.001,3e-3', '-o', 'x', '--param', 'seed=7', '--param=m=3', '--json']);
  assert.deepEqual(flags.m, [5, 10]);
  assert.deepEqual(flags.lr, [0.001, 0.003]);
  assert.equal(flags.out, 'x');
  assert.deepEqual(flags.param, ['seed=7', 'm=3']);
  assert.equal(flags.json, true);
  assert.equal(flags.mode, undefined);
  assert.deepEqual(positionals, ['a.ipynb']);
});

test('what the parser does not understand is a UsageError naming the flag', () => {
  const bad: Array<[string[], RegExp]> = [
    [['--m', '5', '--bogus'], /bogus/],
    [['--m', '0x2'], /--m expects a whole number, got '0x2'/],
    [['--m', '2.5'], /whole number/],
    [['--m', '0'], /--m must be ≥ 1/],
    [['--m', ''], /no empty items/],
    [['--m', '5,,10'], /no empty items/],
    [['--m', '5', '--lr', '1e'], /decimal number/],
    [['--m', '5', '--out'], /--out/],
    [['--m', '5', '--out', '--json'], /--out needs a value/],
    [['--m', '5', '--mode', 'c'], /one of a, b/],
    [['--lr', '0.1'], /--m is required/],
    [['--m', '5', 'a', 'b', 'c'], /at most 2 FILES/],
  ];
  for (const [argv, re] of bad) {
    assert.throws(() => parseCommand(spec, argv), (e: unknown) => e instanceof UsageError && re.test((e as Error).message), argv.join(' '));
  }
  assert.equal(parseNumber('x', ' 42 ', true), 42);
});

test('--help prints every flag; a real command exits 2 on a bad flag and 0 on --help', () => {
  assert.equal(parseCommand(spec, ['--help']).help, true);
  const text = usage(spec);
  for (const f of ['--m', '--lr', '--out DIR', '-o', '--mode', '--param', '--json', '--help', 'FILES']) assert.match(text, new RegExp(f.replace(/[-]/g, '\\-')));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-cli-'));
  try {
    const script = path.join(dir, 'demo.ts');
    fs.writeFileSync(
      script,
      `import { runCommand } from ${JSON.stringify(path.join(repoRoot(), 'scripts/lib/cli'))};\n` +
        `runCommand({ name: 'demo', summary: 'Demo.', flags: { n: { kind: 'int', help: 'a number' } } }, process.argv.slice(2), (f) => { console.log('n=' + f.n); });\n`,
    );
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repoRoot(), encoding: 'utf8' });
    const ok = run('--n', '3');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout.trim(), 'n=3');
    const bad = run('--n', '0x2');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /demo: --n expects a whole number/);
    assert.match(bad.stderr, /usage: demo/);
    const help = run('--help');
    assert.equal(help.status, 0);
    assert.match(help.stdout, /usage: demo/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
