/**
 * `npm run install-kernel`: installs the kit's two Jupyter kernels — "TypeScript (transfer kit)" (`tslab`, full mode)
 * and "TypeScript (transfer kit, quick)" (`tslab-quick`, `KIT_QUICK=1`) — pointing at this checkout's tslab and the
 * Node that runs this script, without Python (`tslab install` needs jupyter_client). It prints where they went and,
 * when Jupyter would not look there, the `JUPYTER_PATH` to set.
 *
 *   npm run install-kernel                     → Jupyter's user data folder (~/.local/share/jupyter/kernels/… on Linux)
 *   npm run install-kernel -- --prefix DIR     → DIR/share/jupyter/kernels/… (a virtualenv or conda prefix)
 *   npm run install-kernel -- --print          → print the kernel.json files only
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot } from '../lib/config';
import { KERNEL_DISPLAY_NAME, KERNEL_NAME } from './lib/nbformat';
import { runCommand, type CommandSpec, type ParsedFlags } from './lib/cli';

export { KERNEL_NAME };
/** Name shown in JupyterLab / Notebook / VS Code's kernel picker (the notebooks' metadata says the same). */
export const DISPLAY_NAME = KERNEL_DISPLAY_NAME;
/** The quick-mode kernel: the same tslab with KIT_QUICK=1 in its environment. */
export const QUICK_KERNEL_NAME = `${KERNEL_NAME}-quick`;
export const QUICK_DISPLAY_NAME = 'TypeScript (transfer kit, quick)';

/** Jupyter's kernel.json for the kit's tslab. */
export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
  env?: Record<string, string>;
}

/**
 * The kernelspecs for the tslab in `root`'s node_modules, run by `node` (default: the Node running this script,
 * so a Jupyter started without Node on its PATH — a desktop launcher, VS Code — still finds it).
 */
export function kernelSpecs(root: string = repoRoot(), node: string = process.execPath): Record<string, KernelSpec> {
  const argv = [node, path.join(root, 'node_modules', 'tslab', 'bin', 'tslab'), 'kernel', '--config-path', '{connection_file}'];
  return {
    [KERNEL_NAME]: { argv, display_name: DISPLAY_NAME, language: 'typescript' },
    [QUICK_KERNEL_NAME]: { argv, display_name: QUICK_DISPLAY_NAME, language: 'typescript', env: { KIT_QUICK: '1' } },
  };
}

/** Jupyter's per-user data folder, as jupyter_core computes it (JUPYTER_DATA_DIR, else per platform). */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir(), platform: NodeJS.Platform = process.platform): string {
  if (env.JUPYTER_DATA_DIR) return path.resolve(env.JUPYTER_DATA_DIR);
  if (platform === 'darwin') return path.join(home, 'Library', 'Jupyter');
  if (platform === 'win32') return path.join(env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'jupyter');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'jupyter');
}

/** The data folder the kernels go under: `<prefix>/share/jupyter`, else Jupyter's user data folder. */
export function dataDir(opts: { prefix?: string; env?: NodeJS.ProcessEnv; home?: string } = {}): string {
  if (opts.prefix) return path.join(path.resolve(opts.prefix), 'share', 'jupyter');
  return userDataDir(opts.env ?? process.env, opts.home ?? os.homedir());
}

/** The folder of one kernel: `<data dir>/kernels/<name>`. */
export function kernelDir(opts: { prefix?: string; env?: NodeJS.ProcessEnv; home?: string; name?: string } = {}): string {
  return path.join(dataDir(opts), 'kernels', opts.name ?? KERNEL_NAME);
}

/** Writes every kernel.json under `dataDir(opts)`; returns their paths. Warns (does not fail) if tslab is missing. */
export function installKernels(opts: { prefix?: string; env?: NodeJS.ProcessEnv; home?: string; root?: string } = {}): string[] {
  return Object.entries(kernelSpecs(opts.root)).map(([name, spec]) => {
    if (!fs.existsSync(spec.argv[1])) console.warn(`install-kernel: ${spec.argv[1]} does not exist yet (run npm ci); the kernel points there anyway`);
    const dir = kernelDir({ ...opts, name });
    fs.mkdirSync(dir, { recursive: true });
    const file = path.join(dir, 'kernel.json');
    fs.writeFileSync(file, JSON.stringify(spec, null, 2) + '\n');
    return file;
  });
}

/** The data folders Jupyter searches (`jupyter --paths --json`), or null when no `jupyter` command runs here. */
export function jupyterDataPaths(env: NodeJS.ProcessEnv = process.env): string[] | null {
  const res = spawnSync('jupyter', ['--paths', '--json'], { env, encoding: 'utf8', timeout: 30_000 });
  if (res.status !== 0 || !res.stdout) return null;
  try {
    const data = (JSON.parse(res.stdout) as { data?: unknown }).data;
    return Array.isArray(data) ? data.map((d) => path.resolve(String(d))) : null;
  } catch {
    return null;
  }
}

/**
 * What to tell the user about finding the kernels in `installedDataDir`: nothing when Jupyter searches it (or, with
 * no Jupyter here, when it is the user folder), else the JUPYTER_PATH line to set.
 */
export function jupyterPathAdvice(installedDataDir: string, searched: string[] | null, userDir: string, env: NodeJS.ProcessEnv = process.env): string | null {
  const dir = path.resolve(installedDataDir);
  if (searched ? searched.includes(dir) : dir === path.resolve(userDir)) return null;
  const current = env.JUPYTER_PATH ? `${path.delimiter}${env.JUPYTER_PATH}` : '';
  const how = searched
    ? `the \`jupyter\` on your PATH does not look in ${dir}; before starting Jupyter, run`
    : `Jupyter looks in ${dir} only when it is installed in that prefix (its virtualenv or conda environment); otherwise, before starting Jupyter, run`;
  return `${how}\n  export JUPYTER_PATH=${dir}${current}`;
}

const SPEC = {
  name: 'npm run install-kernel --',
  summary: 'Installs the Jupyter kernels "TypeScript (transfer kit)" (tslab) and "TypeScript (transfer kit, quick)" (tslab-quick, KIT_QUICK=1). No Python needed.',
  flags: {
    prefix: { kind: 'string', arg: 'DIR', help: 'install into DIR/share/jupyter/kernels/ (a virtualenv or conda prefix) instead of your user folder' },
    print: { kind: 'boolean', help: 'print the kernel.json files and install nothing' },
  },
  epilog: 'Run it again after moving this folder or changing Node (the kernels name both).',
} satisfies CommandSpec;

function main(flags: ParsedFlags<typeof SPEC>): void {
  if (flags.print) {
    console.log(JSON.stringify(kernelSpecs(), null, 2));
    return;
  }
  const files = installKernels({ prefix: flags.prefix });
  const specs = kernelSpecs();
  files.forEach((file, i) => {
    const name = Object.keys(specs)[i];
    console.log(`installed the Jupyter kernel "${specs[name].display_name}" (${name}) at ${file}`);
  });
  const advice = jupyterPathAdvice(dataDir({ prefix: flags.prefix }), jupyterDataPaths(), userDataDir());
  if (advice) console.log(`note: ${advice}`);
  console.log(`kernels run ${specs[KERNEL_NAME].argv[0]} (Node ${process.version}); open notebooks/ in JupyterLab, Notebook or VS Code and pick "${DISPLAY_NAME}"`);
}

if (require.main === module) void runCommand(SPEC, process.argv.slice(2), main);
