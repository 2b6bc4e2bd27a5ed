/**
 * `npm run pretrain [-- --quick] [--only NAME] [--seed N] [--out DIR] [--epochs N] [--check]`
 * Trains the shipped source models (g = w ∘ c) and saves each in the TF.js layers format under
 * `data/models/<name>/` with a meta.json. `--quick` trains tiny versions into a temporary folder (never the
 * shipped ones unless `--out` says so). The same seed reproduces the same weights on the same backend.
 * `--check` trains into a temporary folder and compares the weights byte for byte with the shipped ones
 * (exit status 1 when they differ: the kernels changed float rounding since they were trained).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { compareWithShipped, pretrainSources } from '../lib/train/pretrain';
import { runCommand, type CommandSpec } from './lib/cli';

const spec = {
  name: 'npm run pretrain --',
  summary: 'Trains the shipped source models into data/models/ (or --out DIR); --check retrains into a temporary folder and compares the weights byte for byte.',
  flags: {
    quick: { kind: 'boolean', help: 'tiny versions into a temporary folder (never the shipped ones unless --out says so)' },
    only: { kind: 'strings', help: 'train only these sources (also the optional ones)', arg: 'NAME,…', multiple: true },
    seed: { kind: 'int', help: 'seed of every initializer and shuffle (default 42)', min: 0 },
    out: { kind: 'string', help: 'write the models here', arg: 'DIR' },
    epochs: { kind: 'int', help: 'override every recipe\'s epochs', min: 1 },
    check: { kind: 'boolean', help: 'retrain into a temporary folder and compare with data/models (exit 1 when they differ)' },
  },
} satisfies CommandSpec;

if (require.main === module) {
  void runCommand(spec, process.argv.slice(2), async (f) => {
    const out = f.out ? path.resolve(f.out) : f.check ? fs.mkdtempSync(path.join(os.tmpdir(), 'kit-pretrain-check-')) : undefined;
    const { out: dir, metas } = await pretrainSources({ quick: f.quick || undefined, only: f.only, seed: f.seed, out, epochs: f.epochs });
    console.log(`pretrain: done, models in ${dir}`);
    if (!f.check) return 0;
    const results = compareWithShipped(dir, metas.map((m) => m.name));
    for (const r of results) console.log(`${r.name}: ${r.identical ? 'identical to' : 'DIFFERS from'} data/models/${r.name}/weights.bin`);
    return results.some((r) => !r.identical) ? 1 : 0;
  });
}
