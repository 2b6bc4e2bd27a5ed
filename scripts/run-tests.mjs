#!/usr/bin/env node
// `npm test`: builds the library (TypeScript, the SIMD kernels and the bundled declarations), then runs every test/**/*.test.ts with Node's test runner (via tsx),
// in quick mode (KIT_QUICK=1). Pass paths or substrings to run a subset: `npm test -- data`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
function walk(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    if (name === 'fixtures' || name === 'node_modules') continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...walk(p));
    else if (name.endsWith('.test.ts')) out.push(p);
  }
  return out;
}
const filters = process.argv.slice(2);
const files = walk(join(root, 'test'))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((s) => f.includes(s)))
  .sort();
if (files.length === 0) {
  console.error(`run-tests: no test files match ${filters.join(' ') || '(all)'}`);
  process.exit(1);
}
// the same build as `npm run build` (package.json defines it once; the install's `prepare` runs it too)
const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(build.status ?? 1);
const env = { ...process.env, KIT_QUICK: process.env.KIT_QUICK ?? '1' };
const res = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec', ...files],
  { cwd: root, stdio: 'inherit', env },
);
process.exit(res.status ?? 1);
