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
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../lib/backend';
import { modelsDir, QUICK } from '../lib/config';
import { loadView, type ViewName } from '../lib/data';
import { buildEfficientNet, buildPlainCnn, countParams, FEATURE_LAYER, PLAIN_CNN_FILTERS, saveSourceModel, type SourceMeta } from '../lib/models';
import { evaluate, train } from '../lib/train';

/** One source model to train. */
export interface SourceRecipe {
  name: string;
  view: ViewName;
  architecture: string;
  build: (numClasses: number, seed: number) => tf.LayersModel;
  epochs: number;
  lr: number;
  batchSize: number;
  /** Trained only when asked for with --only (too slow for the default run). */
  optional?: boolean;
}

/** The shipped sources. Plain CNN, GAP ending, 128 features: where findings.md shows transfer helps. */
export const SOURCE_RECIPES: SourceRecipe[] = [
  {
    name: 'digits-m-0-4',
    view: 'digits-m-0-4',
    architecture: `plain-cnn gap filters [${PLAIN_CNN_FILTERS}] (128 features)`,
    build: (numClasses, seed) => buildPlainCnn({ inputShape: [32, 32, 3], numClasses, seed }),
    epochs: 12,
    lr: 1e-3,
    batchSize: 32,
  },
  {
    name: 'digits-0-4',
    view: 'digits-0-4',
    architecture: `plain-cnn gap filters [${PLAIN_CNN_FILTERS}] (128 features)`,
    build: (numClasses, seed) => buildPlainCnn({ inputShape: [32, 32, 3], numClasses, seed }),
    epochs: 6,
    lr: 1e-3,
    batchSize: 32,
  },
  {
    name: 'effnet-digits-m-0-4',
    view: 'digits-m-0-4',
    architecture: 'efficientnet-mini phi 0 (256 features)',
    build: (numClasses, seed) => buildEfficientNet({ phi: 0, numClasses, seed }),
    epochs: 6,
    lr: 2e-3,
    batchSize: 32,
    optional: true,
  },
];

/** Options of `pretrainSources`. */
export interface PretrainOptions {
  quick?: boolean;
  only?: string[];
  seed?: number;
  out?: string;
  epochs?: number;
  log?: (msg: string) => void;
  /** Train into a temporary folder and compare with the shipped weights (see `compareWithShipped`). */
  check?: boolean;
}

/** Whether each retrained model's weights equal the shipped ones, byte for byte. */
export function compareWithShipped(out: string, names: string[]): { name: string; identical: boolean }[] {
  return names.map((name) => {
    const shipped = path.join(modelsDir(), name, 'weights.bin');
    const fresh = path.join(out, name, 'weights.bin');
    return { name, identical: fs.existsSync(shipped) && fs.readFileSync(shipped).equals(fs.readFileSync(fresh)) };
  });
}

/** Trains the selected sources and returns the meta of each saved model. */
export async function pretrainSources(opts: PretrainOptions = {}): Promise<{ out: string; metas: SourceMeta[] }> {
  const log = opts.log ?? ((m: string) => console.log(m));
  // KIT_QUICK=1 implies --quick, so a quick CI run never overwrites the shipped models by accident.
  const quick = opts.quick ?? QUICK;
  const seed = opts.seed ?? 42;
  const out = opts.out ?? (quick ? fs.mkdtempSync(path.join(os.tmpdir(), 'kit-pretrain-')) : modelsDir());
  const info = await initBackend();
  const wanted = SOURCE_RECIPES.filter((r) => (opts.only?.length ? opts.only.includes(r.name) : !r.optional));
  if (opts.only) {
    const unknown = opts.only.filter((n) => !SOURCE_RECIPES.some((r) => r.name === n));
    if (unknown.length) throw new Error(`pretrain: unknown source ${unknown.join(', ')}; known: ${SOURCE_RECIPES.map((r) => r.name).join(', ')}`);
  }
  const metas: SourceMeta[] = [];
  for (const r of wanted) {
    const trainSet = await loadView(r.view, { split: 'train', ...(quick ? { mPerClass: 16, seed } : {}) });
    const valSet = await loadView(r.view, { split: 'val', ...(quick ? { mPerClass: 8, seed } : {}) });
    const epochs = opts.epochs ?? (quick ? 1 : r.epochs);
    const model = r.build(trainSet.classes.length, seed);
    log(`${r.name}: ${r.architecture}, ${countParams(model).total} params, ${trainSet.labels.length} train / ${valSet.labels.length} val images, ${epochs} epochs on ${info.backend}`);
    const t0 = performance.now();
    await train(model, trainSet, { epochs, lr: r.lr, batchSize: r.batchSize, seed, optimizer: 'adam', progress: !quick && process.stdout.isTTY === true, label: r.name });
    const trainSeconds = (performance.now() - t0) / 1000;
    const trainEval = await evaluate(model, trainSet, { batchSize: 128 });
    const valEval = await evaluate(model, valSet, { batchSize: 128 });
    const meta: SourceMeta = {
      name: r.name,
      dataset: r.view,
      classes: trainSet.classes,
      inputShape: [trainSet.height, trainSet.width, trainSet.channels],
      normalization: 'float32 RGB in [0, 1] (pixel / 255), no mean/std',
      architecture: r.architecture,
      featureLayer: FEATURE_LAYER,
      recipe: { epochs, lr: r.lr, batchSize: r.batchSize, optimizer: 'adam', trainImages: trainSet.labels.length, valImages: valSet.labels.length },
      seed,
      params: countParams(model).total,
      trainAccuracy: round(trainEval.accuracy),
      valAccuracy: round(valEval.accuracy),
      trainSeconds: Math.round(trainSeconds * 10) / 10,
      backend: info.backend,
      date: new Date().toISOString(),
    };
    const folder = await saveSourceModel(model, meta, out);
    log(`${r.name}: train acc ${meta.trainAccuracy}, val acc ${meta.valAccuracy}, ${meta.trainSeconds} s → ${folder}`);
    model.dispose();
    metas.push(meta);
  }
  return { out, metas };
}

function round(x: number): number {
  return Math.round(x * 10000) / 10000;
}

function parseArgs(argv: string[]): PretrainOptions {
  const opts: PretrainOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`pretrain: ${a} needs a value`);
      return v;
    };
    if (a === '--quick') opts.quick = true;
    else if (a === '--only') opts.only = [...(opts.only ?? []), ...value().split(',')];
    else if (a === '--seed') opts.seed = Number(value());
    else if (a === '--out') opts.out = path.resolve(value());
    else if (a === '--epochs') opts.epochs = Number(value());
    else if (a === '--check') opts.check = true;
    else throw new Error(`pretrain: unknown option ${a}; usage: pretrain [--quick] [--only NAME[,NAME]] [--seed N] [--out DIR] [--epochs N] [--check]`);
  }
  return opts;
}

if (require.main === module) {
  const opts = parseArgs(process.argv.slice(2));
  if (opts.check) opts.out ??= fs.mkdtempSync(path.join(os.tmpdir(), 'kit-pretrain-check-'));
  pretrainSources(opts).then(
    ({ out, metas }) => {
      console.log(`pretrain: done, models in ${out}`);
      if (!opts.check) return;
      const results = compareWithShipped(out, metas.map((m) => m.name));
      for (const r of results) console.log(`${r.name}: ${r.identical ? 'identical to' : 'DIFFERS from'} data/models/${r.name}/weights.bin`);
      if (results.some((r) => !r.identical)) process.exit(1);
    },
    (err) => {
      console.error(err instanceof Error ? err.message : err);
      process.exit(1);
    },
  );
}
