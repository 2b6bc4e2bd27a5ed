/**
 * Training the shipped source models from their recipes (lib/models/recipes.ts) and checking that a retrain
 * reproduces them byte for byte. The same seed reproduces the same weights on the same backend and kernels.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { initBackend } from '../backend/select';
import { isQuick, modelsDir } from '../config';
import { loadView } from '../data/embedded';
import { SOURCE_RECIPES } from '../models/recipes';
import { saveSourceModel, type SourceMeta } from '../models/source';
import { countParams, FEATURE_LAYER } from '../models/zoo';
import { evaluate } from './evaluate';
import { train } from './loop';

/** Options of `pretrainSources`. */
export interface PretrainOptions {
  quick?: boolean;
  only?: string[];
  seed?: number;
  out?: string;
  epochs?: number;
  log?: (msg: string) => void;
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
  const quick = opts.quick ?? isQuick();
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
