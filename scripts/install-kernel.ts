/**
 * `npm run install-kernel`: installs the Jupyter kernelspec "tslab" ("TypeScript (transfer kit)") pointing at this
 * checkout's node_modules/.bin/tslab — without Python (`tslab install` needs jupyter_client).
 *
 *   npm run install-kernel                     → $JUPYTER_DATA_DIR/kernels/tslab or ~/.local/share/jupyter/kernels/tslab
 *   npm run install-kernel -- --prefix DIR     → DIR/share/jupyter/kernels/tslab (e.g. a virtualenv or conda prefix)
 *   npm run install-kernel -- --print          → print the kernel.json only
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { repoRoot } from '../lib/config';

/** Name of the kernelspec folder (what `--ExecutePreprocessor.kernel_name=` and notebooks' metadata use). */
export const KERNEL_NAME = 'tslab';
/** Name shown in JupyterLab / Notebook / VS Code's kernel picker. */
export const DISPLAY_NAME = 'TypeScript (transfer kit)';

/** Jupyter's kernel.json for the kit's tslab. */
export interface KernelSpec {
  argv: string[];
  display_name: string;
  language: string;
}

/** The kernelspec for the tslab in `root`'s node_modules. */
export function kernelSpec(root: string = repoRoot()): KernelSpec {
  const tslab = path.join(root, 'node_modules', '.bin', 'tslab');
  return { argv: [tslab, 'kernel', '--config-path', '{connection_file}'], display_name: DISPLAY_NAME, language: 'typescript' };
}

/** The folder the spec goes to: `<prefix>/share/jupyter/kernels/tslab`, else $JUPYTER_DATA_DIR or ~/.local/share/jupyter. */
export function kernelDir(opts: { prefix?: string; env?: NodeJS.ProcessEnv; home?: string } = {}): string {
  const env = opts.env ?? process.env;
  if (opts.prefix) return path.join(path.resolve(opts.prefix), 'share', 'jupyter', 'kernels', KERNEL_NAME);
  const dataDir = env.JUPYTER_DATA_DIR || path.join(opts.home ?? os.homedir(), '.local', 'share', 'jupyter');
  return path.join(dataDir, 'kernels', KERNEL_NAME);
}

/** Writes kernel.json into `kernelDir(opts)`; returns its path. Warns (does not fail) if tslab is missing. */
export function installKernel(opts: { prefix?: string; env?: NodeJS.ProcessEnv; home?: string; root?: string } = {}): string {
  const spec = kernelSpec(opts.root);
  if (!fs.existsSync(spec.argv[0])) {
    console.warn(`kernel: ${spec.argv[0]} does not exist yet (run npm install); the spec points there anyway`);
  }
  const dir = kernelDir(opts);
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'kernel.json');
  fs.writeFileSync(file, JSON.stringify(spec, null, 2) + '\n');
  return file;
}

function main(argv: string[]): void {
  if (argv.includes('--print')) {
    console.log(JSON.stringify(kernelSpec(), null, 2));
    return;
  }
  const i = argv.indexOf('--prefix');
  let prefix: string | undefined;
  if (i >= 0) {
    prefix = argv[i + 1];
    if (!prefix) throw new Error('kernel: --prefix needs a folder, e.g. --prefix ~/.venv');
  }
  const file = installKernel({ prefix });
  console.log(`installed the Jupyter kernel "${DISPLAY_NAME}" (${KERNEL_NAME}) at ${file}`);
  console.log('open a notebook in notebooks/ with JupyterLab, Notebook or VS Code and pick that kernel');
}

if (require.main === module) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}
