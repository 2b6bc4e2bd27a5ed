/**
 * `npm run check-deploy`: the class-deployment steps, tried here without Binder, Codespaces or a hub. On a fresh clone
 * of this checkout's HEAD, with a clean HOME (no Jupyter folders, no kernels), it runs binder/postBuild — the one setup
 * step of Binder, the dev container and the Dockerfile — and then, with Debian's Jupyter:
 *   - `jupyter kernelspec list` shows both kit kernels; `jupyter execute` runs notebooks/00-welcome.ipynb with the
 *     notebook's own kernel (KIT_QUICK=1), and the quick kernel really sets KIT_QUICK;
 *   - the JupyterHub image's layout: kernels in a Jupyter prefix, binder/student-home.sh makes ~/transfer-kit for a
 *     student (linked to the kit, the warmed data cache linked in), and 00-welcome runs from there without writing
 *     into the shared cache;
 *   - binder/environment.yml and .devcontainer/devcontainer.json parse, the shell scripts pass `bash -n`.
 * Needs git and Debian's jupyter-notebook, jupyter-client, python3-nbclient (skips with a message without them); the
 * Docker image itself is not built here (no Docker).
 */
import { spawnSync, SpawnSyncReturns } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { runCommand, type CommandSpec, type ParsedFlags } from './lib/cli';
import { TSLAB_METADATA } from './lib/nbformat';

const root = path.resolve(__dirname, '..');

const SPEC = {
  name: 'npm run check-deploy --',
  summary: 'Runs the class-deployment setup (binder/postBuild) on a fresh clone with a clean HOME and checks it with Debian\'s Jupyter.',
  flags: {
    keep: { kind: 'boolean', help: 'keep the temporary clone and HOME (printed) for a look afterwards' },
  },
} satisfies CommandSpec;

interface Step { ok: boolean; what: string; detail: string; seconds: number }

function sh(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; timeoutS?: number }): SpawnSyncReturns<string> & { seconds: number } {
  const t0 = Date.now();
  const res = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env, encoding: 'utf8', timeout: (opts.timeoutS ?? 1800) * 1000, maxBuffer: 64 * 1024 * 1024 });
  return Object.assign(res, { seconds: (Date.now() - t0) / 1000 });
}

function missing(): string | null {
  for (const [cmd, args, pkg] of [['git', ['--version'], 'git'], ['jupyter', ['kernelspec', '--version'], 'jupyter-client'], ['jupyter', ['execute', '--help'], 'python3-nbclient']] as const) {
    if (spawnSync(cmd, [...args], { encoding: 'utf8' }).status !== 0) return `\`${cmd} ${args[0]}\` is not available (apt-get install ${pkg} jupyter-notebook)`;
  }
  return null;
}

/** A clean environment: HOME empty, no Jupyter folders or paths inherited, npm's download cache kept (no re-download). */
function cleanEnv(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const npmCache = spawnSync('npm', ['config', 'get', 'cache'], { encoding: 'utf8' }).stdout.trim();
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, LANG: process.env.LANG ?? 'C.UTF-8', HOME: home, npm_config_cache: npmCache, ...extra };
  return env;
}

/** Every file under dir with its size and mtime, to see that nothing was written there. */
function snapshot(dir: string): string {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else { const s = fs.statSync(p); out.push(`${path.relative(dir, p)} ${s.size} ${s.mtimeMs}`); }
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out.sort().join('\n');
}

function quickCheckNotebook(file: string): void {
  const cell = (id: string, source: string) => ({ id, cell_type: 'code', metadata: {}, source, outputs: [], execution_count: null });
  fs.writeFileSync(file, JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: TSLAB_METADATA, cells: [
    cell('quick', "if (process.env.KIT_QUICK !== '1') throw new Error('KIT_QUICK is ' + process.env.KIT_QUICK + ', expected 1 from the quick kernel');\n'quick mode'"),
  ] }, null, 1));
}

async function main(flags: ParsedFlags<typeof SPEC>): Promise<number> {
  const why = missing();
  if (why) {
    console.log(`check-deploy: skipped — ${why}`);
    return 0;
  }
  const steps: Step[] = [];
  const step = (ok: boolean, what: string, detail: string, seconds = 0) => {
    steps.push({ ok, what, detail, seconds });
    console.log(`${ok ? '✔' : '✘'} ${what}${seconds ? ` (${seconds.toFixed(0)} s)` : ''}${detail ? ` — ${detail}` : ''}`);
    return ok;
  };
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-deploy-'));
  const kit = path.join(tmp, 'kit');
  const home = path.join(tmp, 'home');
  fs.mkdirSync(home);
  try {
    const head = spawnSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).stdout.trim();
    const dirty = spawnSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).stdout.trim();
    const clone = sh('git', ['clone', '--quiet', root, kit], { cwd: tmp, env: process.env });
    if (!step(clone.status === 0, `fresh clone of ${head}`, dirty ? 'uncommitted changes of this checkout are not in it' : '', clone.seconds)) return 1;
    const env = cleanEnv(home);
    const setup = sh('bash', ['binder/postBuild'], { cwd: kit, env });
    const tail = (setup.stdout + setup.stderr).trim().split('\n').filter((l) => /installed the Jupyter kernel|data cache|error|ERR/i.test(l));
    if (!step(setup.status === 0, 'binder/postBuild (npm ci, build, kernels, data cache) with a clean HOME', tail.join('; ').slice(0, 600), setup.seconds)) {
      console.log((setup.stdout + setup.stderr).slice(-4000));
      return 1;
    }
    const list = sh('jupyter', ['kernelspec', 'list'], { cwd: kit, env });
    const userKernels = path.join(home, '.local', 'share', 'jupyter', 'kernels');
    step(list.stdout.includes(path.join(userKernels, 'tslab')) && list.stdout.includes(path.join(userKernels, 'tslab-quick')), 'jupyter kernelspec list shows the kit\'s kernels', list.stdout.trim().replace(/\s+/g, ' '));
    const run = sh('jupyter', ['execute', 'notebooks/00-welcome.ipynb'], { cwd: kit, env: { ...env, KIT_QUICK: '1' } });
    step(run.status === 0, 'KIT_QUICK=1 jupyter execute notebooks/00-welcome.ipynb (the notebook\'s kernel)', run.status === 0 ? '' : (run.stderr || run.stdout).slice(-1500), run.seconds);
    quickCheckNotebook(path.join(kit, 'notebooks', 'quick-kernel-check.ipynb'));
    const quick = sh('jupyter', ['execute', '--kernel_name=tslab-quick', 'notebooks/quick-kernel-check.ipynb'], { cwd: kit, env });
    step(quick.status === 0, 'jupyter execute --kernel_name=tslab-quick sets KIT_QUICK=1', quick.status === 0 ? '' : (quick.stderr || quick.stdout).slice(-800), quick.seconds);
    await imageLayout(kit, tmp, step);
    const parse = sh('/usr/bin/python3', ['-c', "import json, yaml; y = yaml.safe_load(open('binder/environment.yml')); j = json.load(open('.devcontainer/devcontainer.json')); print(y['dependencies'], j['postCreateCommand'])"], { cwd: kit, env });
    step(parse.status === 0, 'binder/environment.yml (YAML) and .devcontainer/devcontainer.json (JSON) parse', (parse.stdout || parse.stderr).trim());
    const scripts = ['binder/postBuild', 'binder/student-home.sh', '.ci/run'];
    const syntax = scripts.map((f) => sh('bash', ['-n', f], { cwd: kit, env })); // bash -n checks one file per call
    step(syntax.every((r) => r.status === 0), `${scripts.join(', ')} pass bash -n`, syntax.map((r) => r.stderr).join('').trim());
  } finally {
    if (flags.keep) console.log(`check-deploy: kept ${tmp}`);
    else fs.rmSync(tmp, { recursive: true, force: true });
  }
  const failed = steps.filter((s) => !s.ok).length;
  console.log(`check-deploy: ${steps.length - failed}/${steps.length} steps passed`);
  return failed ? 1 : 0;
}

/** The Dockerfile's layout without Docker: kernels in a prefix, the kit shared, a student's ~/transfer-kit made by the hook. */
async function imageLayout(kit: string, tmp: string, step: (ok: boolean, what: string, detail: string, seconds?: number) => boolean): Promise<void> {
  const prefix = path.join(tmp, 'conda');
  const student = path.join(tmp, 'student');
  fs.mkdirSync(student);
  fs.symlinkSync(path.join(kit, 'build', 'cache'), path.join(kit, 'cache-seed')); // the image warms its cache there
  const env = cleanEnv(student, { KIT_HOME: kit, KIT_CACHE_DIR: path.join(student, '.cache', 'transfer-kit'), JUPYTER_PATH: path.join(prefix, 'share', 'jupyter') });
  const install = sh('npm', ['run', '--silent', 'install-kernel', '--', '--prefix', prefix], { cwd: kit, env });
  const hook = sh(path.join(kit, 'binder', 'student-home.sh'), [], { cwd: student, env });
  const again = sh(path.join(kit, 'binder', 'student-home.sh'), [], { cwd: student, env });
  const dest = path.join(student, 'transfer-kit');
  const made = ['package.json', 'dist', 'node_modules', 'data'].every((n) => fs.lstatSync(path.join(dest, n), { throwIfNoEntry: false })?.isSymbolicLink())
    && fs.readdirSync(path.join(dest, 'notebooks')).filter((f) => f.endsWith('.ipynb')).length === fs.readdirSync(path.join(kit, 'notebooks')).filter((f) => f.endsWith('.ipynb')).length;
  step(install.status === 0 && hook.status === 0 && again.status === 0 && made, 'image layout: kernels in the Jupyter prefix, student-home.sh makes ~/transfer-kit (twice: idempotent)',
    (install.stderr + hook.stderr + again.stderr).trim().slice(0, 500));
  const before = snapshot(path.join(kit, 'build', 'cache'));
  const run = sh('jupyter', ['execute', 'notebooks/00-welcome.ipynb'], { cwd: dest, env: { ...env, KIT_QUICK: '1' } });
  step(run.status === 0, 'a student runs ~/transfer-kit/notebooks/00-welcome.ipynb (jupyter execute)', run.status === 0 ? '' : (run.stderr || run.stdout).slice(-1500), run.seconds);
  step(snapshot(path.join(kit, 'build', 'cache')) === before, 'the shared, warmed data cache was only read', '');
}

if (require.main === module) void runCommand(SPEC, process.argv.slice(2), main);
