/**
 * The lecture's practical on a photo folder with a published ImageNet backbone: freeze the base and train a new
 * head (on features computed once), then fine-tune the top blocks at a lower learning rate with batch norm kept
 * in inference mode (the Keras transfer-learning guide's advice: a BN layer that updates its statistics on a few
 * hundred photos undoes what ImageNet taught it), keep the best checkpoint by validation accuracy across both
 * phases, and report accuracy, macro F1 and the classification report on the folder's `val/` split.
 * A graph-format backbone cannot be fine-tuned in TF.js: the second phase is skipped and the result says so.
 */
import * as tf from '@tensorflow/tfjs';
import { quickOr } from '../config';
import { perClassSlices, rowsByClass } from '../data/subset';
import { listImageFolder } from '../data/folder';
import { ImageDataset } from '../data/dataset';
import { DataLoader } from '../data/loader';
import { compose, horizontalFlip, randomResizedCrop, resize, toTensor } from '../data/transforms';
import { buildTransferModel, type TransferModel } from '../models/transfer';
import { saveModel } from '../models/storage';
import { resolvePublishedSource, type PublishedSource } from '../models/published-source';
import type { PublishedBackboneOptions } from '../models/published';
import { train, type History } from './loop';
import { predict } from './evaluate';
import type { TransferModelLike } from './model';
import { accuracy, classificationReport, f1Score, type ClassificationReport } from './metrics';

/** Options of `runLecturePractical` (every number has a default). */
export interface PracticalOptions {
  /** A folder with `train/` and `val/` (class folders below); `val/` is the test set, never trained on. */
  folder: string;
  /** Published backbone (default 'mobilenet_v1': the fine-tunable one) or its loading options. */
  backbone?: string | PublishedBackboneOptions;
  seed?: number;
  /** Share of train/ held out to choose the checkpoint (default 0.2, stratified). */
  valFraction?: number;
  batchSize?: number;
  /** Epochs of the head on the frozen base (default 10; quick 2). */
  headEpochs?: number;
  /** Epochs of fine-tuning (default 5; quick 1); 0 skips it. */
  fineTuneEpochs?: number;
  /** Blocks at the top of the base that fine-tuning unfreezes (default 2). */
  fineTuneBlocks?: number;
  /** Head learning rate (Adam, default 1e-3); fine-tuning uses `fineTuneLr` (default lr / 10) for everything. */
  lr?: number;
  fineTuneLr?: number;
  /** Random crops and left-right flips while fine-tuning (default true). */
  augment?: boolean;
  /** Save the kept model here (architecture + weights; layers backbones only). */
  checkpointDir?: string;
  progress?: boolean;
}

/** What the practical measured. */
export interface PracticalResult {
  source: { name: string; description: string; format: 'layers' | 'graph'; url: string };
  classes: string[];
  images: { train: number; val: number; test: number };
  head: History;
  fineTune: History | null;
  /** Why fine-tuning did not run, when it did not. */
  fineTuneSkipped?: string;
  /** Which phase's best checkpoint the model holds. */
  kept: 'head' | 'fine-tuned';
  test: { accuracy: number; macroF1: number; report: ClassificationReport; yTrue: Int32Array; yPred: Int32Array };
  checkpoint?: string;
  /** The trained model (base → head): dispose it (and `sourceModel`) when done. */
  model: TransferModel;
  sourceModel: PublishedSource;
}

/**
 * Makes the top `blocks` blocks of a transfer model's base trainable — every layer in them except batch norm, which
 * stays frozen and so runs in inference mode (`keepFrozenBatchNormInInference`) — and returns what `train` takes.
 */
export function fineTuneTopBlocks(tm: TransferModel, source: PublishedSource, blocks = 2): TransferModelLike {
  if (!source.fineTunable) {
    throw new Error(`fineTuneTopBlocks: ${source.name} was loaded as a graph model (${source.location.label}); its weights are constants in TF.js, so it cannot be fine-tuned — train the head only, or use a layers-format backbone (mobilenet_v1)`);
  }
  const names = source.topBlockLayers(blocks);
  if (names.length === 0) throw new Error(`fineTuneTopBlocks: no blocks found in ${source.name} (its spec has no blockPattern)`);
  const unfrozen = names.map((n) => tm.model.getLayer(n)).filter((l) => l.getClassName() !== 'BatchNormalization');
  for (const l of unfrozen) l.trainable = true;
  return {
    strategy: 'finetune',
    model: tm.model,
    paramGroups: [
      { name: 'base', variables: unfrozen.flatMap((l) => l.trainableWeights), lrScale: 1 },
      { name: 'head', variables: tm.head.trainableWeights, lrScale: 1 },
    ],
  };
}

/** train/ split into train and validation (stratified, seeded), and val/ as the test set. */
async function photoSplits(folder: string, valFraction: number, seed: number) {
  const all = await listImageFolder(folder, { split: 'train' });
  const test = await listImageFolder(folder, { split: 'val' });
  const classes = all.classes;
  const idOf = (l: string, where: string) => {
    const i = classes.indexOf(l);
    if (i < 0) throw new Error(`runLecturePractical: class '${l}' in ${where} is not among the train/ classes (${classes.join(', ')})`);
    return i;
  };
  // the kit's one seeded per-class draw: per class, [its validation rows, the rest]
  const rows = rowsByClass(all.labels.map((l) => idOf(l, 'train/')), classes.length);
  const slices = rows.map((r, c) => {
    const nVal = Math.max(1, Math.round(r.length * valFraction));
    return perClassSlices([r], () => `practical/${seed}/${c}`, [nVal, r.length - nVal], { sorted: true, names: [classes[c]] })[0];
  });
  const val = slices.flatMap((s) => s[0]).sort((a, b) => a - b);
  const train = slices.flatMap((s) => s[1]).sort((a, b) => a - b);
  const pick = (r: number[]) => ({ paths: r.map((i) => all.paths[i]), labels: r.map((i) => idOf(all.labels[i], 'train/')) });
  return { classes, train: pick(train), val: pick(val), test: { paths: test.paths, labels: test.labels.map((l) => idOf(l, 'val/')) } };
}

/** Runs the lecture's steps (see the module comment) and returns the measured numbers and the kept model. */
export async function runLecturePractical(opts: PracticalOptions): Promise<PracticalResult> {
  const seed = opts.seed ?? 42;
  const batchSize = opts.batchSize ?? 16;
  const lr = opts.lr ?? 1e-3;
  const source = await resolvePublishedSource(opts.backbone ?? 'mobilenet_v1');
  const size = source.inputSize;
  const splits = await photoSplits(opts.folder, opts.valFraction ?? 0.2, seed);
  const plain = compose([resize(size, size), toTensor()]);
  const augmented = opts.augment === false ? plain : compose([randomResizedCrop(size, size, { scale: [0.8, 1] }), horizontalFlip(), toTensor()]);
  const ds = (s: { paths: string[]; labels: number[] }, t = plain) => new ImageDataset(s.paths, s.labels, t, { classes: splits.classes, seed });
  const loader = (d: ImageDataset, shuffle: boolean) => new DataLoader(d, { batchSize, shuffle, seed });
  const valLoader = loader(ds(splits.val), false);
  const keepBest = { patience: Infinity, monitor: 'val_accuracy' as const, restoreBest: true };
  const common = { seed, batchSize, valData: valLoader, earlyStopping: keepBest, progress: opts.progress };

  // 1. frozen base, new head, trained on features the base computes once
  const tm = buildTransferModel(source.model, { strategy: 'additional-layers', numClasses: splits.classes.length, seed });
  const head = await train(tm, loader(ds(splits.train), true), { ...common, epochs: opts.headEpochs ?? quickOr(10, 2), lr, label: 'head (base frozen)' });
  const headBest = bestOf(head);
  // 2. fine-tune the top blocks (layers backbones only), keeping whichever checkpoint validates better
  const epochs = opts.fineTuneEpochs ?? quickOr(5, 1);
  let fineTune: History | null = null;
  let kept: PracticalResult['kept'] = 'head';
  let skipped: string | undefined;
  if (!source.fineTunable) skipped = `${source.name} was loaded as a graph model (${source.location.label}): TF.js cannot train its weights, so only the head was trained`;
  else if (epochs === 0) skipped = 'fineTuneEpochs is 0';
  else {
    // by variable, not by position: `model.weights` lists trainable weights first, and fine-tuning changes which are
    const saved = tm.model.weights.map((w) => ({ w, value: tf.clone(w.read()) }));
    const ft = fineTuneTopBlocks(tm, source, opts.fineTuneBlocks ?? 2);
    fineTune = await train(ft, loader(ds(splits.train, augmented), true), { ...common, epochs, lr: opts.fineTuneLr ?? lr / 10, label: 'fine-tune (top blocks)' });
    const tuned = bestOf(fineTune);
    if (tuned.acc > headBest.acc || (tuned.acc === headBest.acc && tuned.loss < headBest.loss)) kept = 'fine-tuned';
    else saved.forEach(({ w, value }) => w.write(value));
    tf.dispose(saved.map((s) => s.value));
  }
  // 3. the test images, once
  const yTrue = Int32Array.from(splits.test.labels);
  const yPred = await predict(tm.model, loader(ds(splits.test), false));
  const report = classificationReport(yTrue, yPred, { targetNames: splits.classes, digits: 3, zeroDivision: 0 });
  let checkpoint: string | undefined;
  if (opts.checkpointDir && source.format === 'layers') {
    await saveModel(tm.model, opts.checkpointDir);
    checkpoint = opts.checkpointDir;
  }
  return {
    source: { name: source.name, description: source.description, format: source.format, url: source.location.url },
    classes: splits.classes,
    images: { train: splits.train.paths.length, val: splits.val.paths.length, test: yTrue.length },
    head,
    fineTune,
    ...(skipped ? { fineTuneSkipped: skipped } : {}),
    kept,
    test: { accuracy: accuracy(yTrue, yPred), macroF1: f1Score(yTrue, yPred, { average: 'macro', numClasses: splits.classes.length, zeroDivision: 0 }), report, yTrue, yPred },
    checkpoint,
    model: tm,
    sourceModel: source,
  };
}

function bestOf(h: History): { acc: number; loss: number } {
  const at = (h.bestEpoch ?? h.epochs.length) - 1;
  return { acc: h.history.val_accuracy[at], loss: h.history.val_loss[at] };
}
