// The notebook API (lib/index.ts): explicit, at most 120 runtime names, no test/bench hooks, and every `kit.X` a
// notebook calls exists in it (a notebook imports the compiled copy: `import * as kit from '..'`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as kit from '../lib';
import { repoRoot } from '../lib/config';

const HOOKS = [
  'resetBackendSelection', 'setNativeLoader', 'resetEmbeddedChecks', 'resetMetricWarnings', 'resetPlotlyInline', 'setDisplayChannel',
  'registerWasmTrainingKernels', 'restoreWasmKernel', 'wasmHeapBytes', 'wasmDataBuffers', 'requestInterrupt', 'useBackend',
];

test('the public API has at most 120 runtime names and none of the test or bench hooks', () => {
  const names = Object.keys(kit);
  assert.ok(names.length <= 120, `${names.length} runtime names`);
  assert.deepEqual(HOOKS.filter((h) => h in kit), []);
  const testing = require('../lib/testing') as Record<string, unknown>;
  for (const h of HOOKS) assert.equal(typeof testing[h], 'function', `lib/testing.ts exports ${h}`);
});

test('every kit.X the notebooks use is exported (types by name in lib/index.ts)', () => {
  const indexSource = fs.readFileSync(path.join(repoRoot(), 'lib', 'index.ts'), 'utf8');
  const typeNames = new Set([...indexSource.matchAll(/\btype (\w+)/g)].map((m) => m[1]));
  for (const [, list] of indexSource.matchAll(/export type \{([^}]*)\}/g)) for (const n of list.split(',')) typeNames.add(n.trim());
  const dir = path.join(repoRoot(), 'notebooks');
  const missing: string[] = [];
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.ipynb'))) {
    const nb = JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as { cells: Array<{ source: string[] | string }> };
    const src = nb.cells.map((c) => (Array.isArray(c.source) ? c.source.join('') : c.source)).join('\n');
    for (const [, name] of src.matchAll(/\bkit\.([A-Za-z_]\w*)/g)) {
      if (!(name in kit) && !typeNames.has(name)) missing.push(`${f}: kit.${name}`);
    }
  }
  assert.deepEqual([...new Set(missing)], []);
});
