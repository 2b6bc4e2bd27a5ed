// `npm run install-kernel` (scripts/install-kernel.ts) writes the kit's two Jupyter kernelspecs without Python and says
// where they went, and when Jupyter would not look there, the JUPYTER_PATH to set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DISPLAY_NAME, QUICK_DISPLAY_NAME, jupyterPathAdvice, kernelDir, kernelSpecs, userDataDir } from '../../scripts/install-kernel';
import { TSLAB_METADATA } from '../../scripts/lib/nbformat';
import { repoRoot } from '../../lib/config';

/** Runs the script with an empty PATH, so no `jupyter` is found (the no-Python case). */
function install(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'scripts/install-kernel.ts', ...args], {
    cwd: repoRoot(), encoding: 'utf8', env: { HOME: process.env.HOME, PATH: path.join(os.tmpdir(), 'kit-no-such-dir'), ...env },
  });
}

test('--prefix DIR writes both kernels under DIR/share/jupyter/kernels/ and prints the JUPYTER_PATH to set', () => {
  const prefix = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-kernel-'));
  try {
    const res = install(['--prefix', prefix]);
    assert.equal(res.status, 0, res.stderr);
    const full = JSON.parse(fs.readFileSync(path.join(prefix, 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json'), 'utf8'));
    const quick = JSON.parse(fs.readFileSync(path.join(prefix, 'share', 'jupyter', 'kernels', 'tslab-quick', 'kernel.json'), 'utf8'));
    assert.deepEqual(Object.keys(full).sort(), ['argv', 'display_name', 'language']);
    assert.equal(full.display_name, DISPLAY_NAME);
    assert.equal(quick.display_name, 'TypeScript (transfer kit, quick)');
    assert.deepEqual(quick.env, { KIT_QUICK: '1' });
    for (const spec of [full, quick]) {
      assert.equal(spec.language, 'typescript');
      assert.equal(spec.argv[0], process.execPath, 'the kernel runs the Node that installed it');
      assert.equal(spec.argv[1], path.join(repoRoot(), 'node_modules', 'tslab', 'bin', 'tslab'));
      assert.ok(fs.existsSync(spec.argv[1]), `${spec.argv[1]} should exist after npm ci`);
      assert.deepEqual(spec.argv.slice(2), ['kernel', '--config-path', '{connection_file}']);
    }
    assert.match(res.stdout, new RegExp(`installed the Jupyter kernel "TypeScript \\(transfer kit\\)" \\(tslab\\) at ${prefix}.*kernel\\.json`));
    assert.match(res.stdout, /installed the Jupyter kernel "TypeScript \(transfer kit, quick\)" \(tslab-quick\)/);
    assert.ok(res.stdout.includes(`export JUPYTER_PATH=${path.join(prefix, 'share', 'jupyter')}`), res.stdout);
  } finally {
    fs.rmSync(prefix, { recursive: true, force: true });
  }
});

test('the default is the user folder Jupyter always searches, so no JUPYTER_PATH advice', () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-home-'));
  try {
    const res = install([], { HOME: home });
    assert.equal(res.status, 0, res.stderr);
    assert.ok(fs.existsSync(path.join(home, '.local', 'share', 'jupyter', 'kernels', 'tslab', 'kernel.json')));
    assert.ok(fs.existsSync(path.join(home, '.local', 'share', 'jupyter', 'kernels', 'tslab-quick', 'kernel.json')));
    assert.doesNotMatch(res.stdout, /JUPYTER_PATH/);
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test('one name and display name everywhere: notebooks metadata = installed kernel', () => {
  const specs = kernelSpecs('/r', '/usr/bin/node');
  assert.equal(TSLAB_METADATA.kernelspec.name, 'tslab');
  assert.equal(specs.tslab.display_name, TSLAB_METADATA.kernelspec.display_name);
  assert.equal(specs.tslab.language, TSLAB_METADATA.kernelspec.language);
  assert.equal(QUICK_DISPLAY_NAME, 'TypeScript (transfer kit, quick)');
  assert.deepEqual(specs['tslab-quick'].argv, specs.tslab.argv);
  assert.equal(specs.tslab.argv[0], '/usr/bin/node');
});

test('folders follow jupyter_core: JUPYTER_DATA_DIR, XDG_DATA_HOME, macOS and Windows defaults, --prefix', () => {
  assert.equal(kernelDir({ env: { JUPYTER_DATA_DIR: '/x/data' } }), path.join('/x/data', 'kernels', 'tslab'));
  assert.equal(kernelDir({ env: {}, home: '/home/u' }), path.join('/home/u', '.local', 'share', 'jupyter', 'kernels', 'tslab'));
  assert.equal(kernelDir({ env: {}, home: '/home/u', name: 'tslab-quick' }), path.join('/home/u', '.local', 'share', 'jupyter', 'kernels', 'tslab-quick'));
  assert.equal(kernelDir({ prefix: '/opt/env', env: { JUPYTER_DATA_DIR: '/x' } }), path.join('/opt/env', 'share', 'jupyter', 'kernels', 'tslab'));
  assert.equal(userDataDir({ XDG_DATA_HOME: '/xdg' }, '/home/u', 'linux'), path.join('/xdg', 'jupyter'));
  assert.equal(userDataDir({}, '/Users/u', 'darwin'), path.join('/Users/u', 'Library', 'Jupyter'));
  assert.equal(userDataDir({ APPDATA: '/appdata' }, '/u', 'win32'), path.join('/appdata', 'jupyter'));
});

test('JUPYTER_PATH advice: none when Jupyter searches the folder, the export line (keeping an existing JUPYTER_PATH) when not', () => {
  assert.equal(jupyterPathAdvice('/p/share/jupyter', ['/home/u/.local/share/jupyter', '/p/share/jupyter'], '/home/u/.local/share/jupyter'), null);
  assert.equal(jupyterPathAdvice('/home/u/.local/share/jupyter', null, '/home/u/.local/share/jupyter'), null);
  const advice = jupyterPathAdvice('/p/share/jupyter', ['/usr/share/jupyter'], '/home/u/.local/share/jupyter', { JUPYTER_PATH: '/old' })!;
  assert.match(advice, /does not look in \/p\/share\/jupyter/);
  assert.ok(advice.endsWith(`export JUPYTER_PATH=/p/share/jupyter${path.delimiter}/old`), advice);
  assert.match(jupyterPathAdvice('/p/share/jupyter', null, '/home/u/.local/share/jupyter', {})!, /only when it is installed in that prefix[\s\S]*export JUPYTER_PATH=\/p\/share\/jupyter$/);
});

test('a usage mistake exits 2 with the usage; --print installs nothing', () => {
  const bad = install(['--prefix']);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--prefix needs a value[\s\S]*usage: npm run install-kernel/);
  const printed = install(['--print']);
  assert.equal(printed.status, 0, printed.stderr);
  assert.deepEqual(Object.keys(JSON.parse(printed.stdout)), ['tslab', 'tslab-quick']);
});
