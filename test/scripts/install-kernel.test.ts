// `npm run install-kernel` (scripts/install-kernel.ts) writes a valid Jupyter kernelspec for tslab without Python.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DISPLAY_NAME, kernelDir, kernelSpec } from '../../scripts/install-kernel';
import { repoRoot } from '../../lib/config';

test('npm run install-kernel -- --prefix DIR writes DIR/share/jupyter/kernels/tslab/kernel.json', () => {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-kernel-'));
  try {
    const res = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/install-kernel.ts', '--prefix', prefix], { cwd: repoRoot(), encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    const file = path.join(prefix, 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json');
    const spec = JSON.parse(fs.readFileSync(file, 'utf8'));
    assert.deepEqual(Object.keys(spec).sort(), ['argv', 'display_name', 'language']);
    assert.equal(spec.display_name, DISPLAY_NAME);
    assert.equal(spec.language, 'typescript');
    assert.equal(spec.argv[0], path.join(repoRoot(), 'node_modules', '.bin', 'tslab'));
    assert.ok(path.isAbsolute(spec.argv[0]));
    assert.ok(fs.existsSync(spec.argv[0]), `${spec.argv[0]} should exist after npm install`);
    assert.deepEqual(spec.argv.slice(1), ['kernel', '--config-path', '{connection_file}']);
  } finally {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
});

test('the default folder is $JUPYTER_DATA_DIR/kernels/tslab, else ~/.local/share/jupyter/kernels/tslab', () => {
  assert.equal(kernelDir({ env: { JUPYTER_DATA_DIR: '/x/data' } }), path.join('/x/data', 'kernels', 'tslab'));
  assert.equal(kernelDir({ env: {}, home: '/home/u' }), path.join('/home/u', '.local', 'share', 'jupyter', 'kernels', 'tslab'));
  assert.equal(kernelDir({ prefix: '/opt/env', env: { JUPYTER_DATA_DIR: '/x' } }), path.join('/opt/env', 'share', 'jupyter', 'kernels', 'tslab'));
  assert.equal(kernelSpec('/r').argv[0], path.join('/r', 'node_modules', '.bin', 'tslab'));
});
