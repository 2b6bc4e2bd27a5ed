import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import type { BenchRow } from './types';

/** Debian's Python, which has python3-torch (the first python3 on PATH may not). */
export const DEBIAN_PYTHON = '/usr/bin/python3';

/** The side-by-side PyTorch script (the same net, batch 32, SGD), looked up in the kit then the shared folder. */
export function torchScript(root: string): string | null {
  for (const p of [path.join(root, 'scripts', 'bench', 'torch_ref.py'), '/work/shared/bench/torch_ref.py']) {
    if (fs.existsSync(p)) return p;
  }
  return null;
}

/** Runs the PyTorch reference at `sizes`; returns its rows, or a reason it was skipped. */
export function benchTorch(root: string, sizes: number[]): { rows: BenchRow[]; skipped?: string } {
  const script = torchScript(root);
  if (script == null) return { rows: [], skipped: 'torch_ref.py not found' };
  if (!fs.existsSync(DEBIAN_PYTHON)) return { rows: [], skipped: `${DEBIAN_PYTHON} not found` };
  const probe = spawnSync(DEBIAN_PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) return { rows: [], skipped: `${DEBIAN_PYTHON} has no torch (apt-get install python3-torch)` };
  const res = spawnSync(DEBIAN_PYTHON, [script, ...sizes.map(String)], { encoding: 'utf8', timeout: 15 * 60_000 });
  if (res.status !== 0) return { rows: [], skipped: `torch_ref.py failed: ${(res.stderr || '').trim().split('\n').pop()}` };
  const rows = res.stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as BenchRow);
  return { rows };
}
