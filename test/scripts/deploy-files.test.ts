// The class-deployment files (binder/, .devcontainer/, Dockerfile) parse, agree with each other and with CI on the Node
// line, and binder/student-home.sh makes a student's ~/transfer-kit as the JupyterHub image needs it (run with bash,
// no Python). The Python-needing check on a fresh clone is `npm run check-deploy`, not part of npm test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const root = path.resolve(__dirname, '..', '..');
const read = (rel: string) => fs.readFileSync(path.join(root, rel), 'utf8');

test('devcontainer.json parses and runs the shared setup; every engine names the same Node LTS line as CI and engines', () => {
  const dc = JSON.parse(read('.devcontainer/devcontainer.json'));
  assert.equal(dc.postCreateCommand, 'bash binder/postBuild');
  assert.ok(dc.customizations.vscode.extensions.includes('ms-toolsai.jupyter'));
  assert.equal(dc.features['ghcr.io/devcontainers/features/python:1'].installJupyterlab, true);
  const node = dc.features['ghcr.io/devcontainers/features/node:1'].version;
  const env = read('binder/environment.yml');
  // environment.yml is parsed as YAML by check-deploy (Python's yaml); here: the dependency lines the engines rely on
  const deps = [...env.matchAll(/^ {2}- (\S+)$/gm)].map((m) => m[1]);
  assert.ok(deps.includes('jupyterlab=4') && deps.includes(`nodejs=${node}`) && deps.includes('plotly>=6.1'), deps.join(' '));
  assert.match(env, /^channels:\n {2}- conda-forge$/m);
  assert.match(read('Dockerfile'), new RegExp(`'nodejs=${node}'`));
  assert.match(read('.ci/run'), new RegExp(`KIT_CI_NODES_QUICK-${node}\\b`), 'CI installs and runs the quick notebooks and Stop tests on that line');
  const engines = JSON.parse(read('package.json')).engines.node as string;
  assert.match(engines, new RegExp(`\\^${node}\\.`), `engines (${engines}) names Node ${node}`);
});

test('the setup scripts are executable bash, and the Dockerfile uses them as the image needs', () => {
  for (const f of ['binder/postBuild', 'binder/student-home.sh']) {
    assert.ok((fs.statSync(path.join(root, f)).mode & 0o111) !== 0, `${f} must be executable (repo2docker runs postBuild directly)`);
    assert.match(read(f), /^#!\/usr\/bin\/env bash\nset -euo pipefail|^#!\/usr\/bin\/env bash\n(#.*\n)+set -euo pipefail/);
    const syntax = spawnSync('bash', ['-n', path.join(root, f)], { encoding: 'utf8' });
    assert.equal(syntax.status, 0, syntax.stderr);
  }
  const docker = read('Dockerfile');
  assert.match(docker, /^FROM \$\{BASE_IMAGE\}$/m);
  assert.match(docker, /KIT_KERNEL_PREFIX="\$\{CONDA_DIR\}" KIT_CACHE_DIR="\$\{KIT_HOME\}\/cache-seed" bash binder\/postBuild/);
  assert.match(docker, /before-notebook\.d\/50-transfer-kit$/m, 'the start hook has no .sh suffix: docker-stacks runs it instead of sourcing it');
  assert.match(docker, /^USER \$\{NB_UID\}\nWORKDIR \/home\/\$\{NB_USER\}\n?$/m, 'the image ends as the non-root jovyan');
  const ignored = read('.dockerignore').split('\n');
  for (const d of ['node_modules/', 'dist/', 'build/']) assert.ok(ignored.includes(d), `.dockerignore: ${d}`);
});

test('student-home.sh makes ~/transfer-kit: own notebook copies, links to the kit and to the warmed cache; never overwrites', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-student-home-'));
  try {
    const kit = path.join(tmp, 'opt-kit');
    fs.mkdirSync(path.join(kit, 'notebooks'), { recursive: true });
    for (const item of ['package.json', 'dist', 'node_modules', 'data']) fs.symlinkSync(path.join(root, item), path.join(kit, item));
    for (const nb of ['00-welcome.ipynb', '02-strategies.ipynb']) fs.copyFileSync(path.join(root, 'notebooks', nb), path.join(kit, 'notebooks', nb));
    fs.mkdirSync(path.join(kit, 'cache-seed', 'digits'), { recursive: true });
    fs.mkdirSync(path.join(kit, 'cache-seed', 'views'));
    const home = path.join(tmp, 'home');
    fs.mkdirSync(home);
    const cache = path.join(home, '.cache', 'transfer-kit');
    const run = () => spawnSync(path.join(root, 'binder', 'student-home.sh'), [], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: home, KIT_HOME: kit, KIT_CACHE_DIR: cache } });
    assert.equal(run().status, 0);
    const dest = path.join(home, 'transfer-kit');
    for (const item of ['package.json', 'dist', 'node_modules', 'data']) assert.equal(fs.readlinkSync(path.join(dest, item)), path.join(kit, item));
    assert.deepEqual(fs.readdirSync(path.join(dest, 'notebooks')).sort(), ['00-welcome.ipynb', '02-strategies.ipynb']);
    assert.ok(!fs.lstatSync(path.join(dest, 'notebooks', '00-welcome.ipynb')).isSymbolicLink(), 'a copy the student owns');
    assert.equal(fs.readlinkSync(path.join(cache, 'digits')), path.join(kit, 'cache-seed', 'digits'));
    // the student's work survives the next start; a notebook new in the image appears
    fs.writeFileSync(path.join(dest, 'notebooks', '00-welcome.ipynb'), '{"my": "work"}');
    fs.copyFileSync(path.join(root, 'notebooks', '05-practice.ipynb'), path.join(kit, 'notebooks', '05-practice.ipynb'));
    const again = run();
    assert.equal(again.status, 0, again.stderr);
    assert.equal(fs.readFileSync(path.join(dest, 'notebooks', '00-welcome.ipynb'), 'utf8'), '{"my": "work"}');
    assert.ok(fs.existsSync(path.join(dest, 'notebooks', '05-practice.ipynb')));
    // and through the links, the kit resolves as `import * as kit from '..'` does from the notebooks folder
    const resolved = spawnSync(process.execPath, ['-e', "console.log(require.resolve('..'))"], { cwd: path.join(dest, 'notebooks'), encoding: 'utf8' });
    assert.equal(resolved.stdout.trim(), path.join(root, 'dist', 'lib', 'index.js'), resolved.stderr);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('the front-end and deployment scripts explain themselves (--help) and skip politely', () => {
  for (const script of ['scripts/try-frontend.ts', 'scripts/check-deploy.ts']) {
    const res = spawnSync(process.execPath, ['--import', 'tsx', script, '--help'], { cwd: root, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.match(res.stdout, /^usage: npm run (try-frontend|check-deploy) --/);
  }
  const noJupyter = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/try-frontend.ts'], { cwd: root, encoding: 'utf8', env: { ...process.env, PATH: path.join(os.tmpdir(), 'kit-no-such-dir') } });
  assert.equal(noJupyter.status, 0, noJupyter.stderr);
  assert.match(noJupyter.stdout, /try-frontend: skipped — Jupyter Notebook is not installed \(apt-get install jupyter-notebook/);
});
