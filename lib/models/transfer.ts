/**
 * Transfer strategies (lecture §1). The source model is g = w ∘ c; we keep c (the base, cut at a layer),
 * drop the source's output layer w, and attach a new head v for the target: f = v ∘ c.
 *   scratch            same architecture, fresh (seeded) weights, everything trains;
 *   freeze (동결)       base frozen, only the new head (one linear layer by default) trains;
 *   finetune (미세 조정) everything trains, the base at a smaller learning rate (paramGroups' lrScale);
 *   hybrid             the first k blocks/layers of the base frozen, the rest and the head train;
 *   additional-layers  the base frozen, new layers attached and trained — an MLP head (ADDITIONAL_LAYERS_HEAD) on
 *                      features the frozen base computes once (`cacheFeatures`).
 * `copyUpTo` gives Yosinski et al. (2014)'s AnB / AnB+: only the first layers are copied, the base's layers above
 * are re-initialised and trained (frozen copy = freeze, fine-tuned copy = finetune). Batch norm: see ./batchnorm.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random';
import type { ImageArrays } from '../data/types';
import { FEATURE_LAYER, countParams } from './zoo';
import type { SourceModel } from './source';
import { countBatchNormStats, setBatchNormMode, type BatchNormMode } from './batchnorm';

/** The five strategies of the lecture. */
export type Strategy = 'scratch' | 'freeze' | 'finetune' | 'hybrid' | 'additional-layers';
export const STRATEGIES: Strategy[] = ['scratch', 'freeze', 'finetune', 'hybrid', 'additional-layers'];

/** The layers 'additional-layers' attaches by default: one hidden ReLU layer of 64 units, then the output layer. */
export const ADDITIONAL_LAYERS_HEAD: Readonly<{ hidden: number[]; dropout?: number }> = { hidden: [64] };

/** Options of `buildTransferModel`. */
export interface TransferOptions {
  strategy: Strategy;
  /** Classes of the target task (units of the new output layer). */
  numClasses: number;
  /** Layer (name or index in the source's `layers`) where the base ends; default the `features` layer. */
  cutAt?: string | number;
  /**
   * Copy the source's weights only up to and including this point — k blocks (number), a block (`'block2'`) or a
   * layer name; the base's layers above are re-initialised (seeded) and train at the full learning rate. With
   * 'freeze' the copied layers are frozen (Yosinski's AnB), with 'finetune' they are fine-tuned (AnB+).
   * Default: every base layer is copied.
   */
  copyUpTo?: string | number;
  /** Hybrid: freeze the first k blocks (number), or up to and including a block (`'block2'`) or layer name. */
  freezeUpTo?: string | number;
  /** The new head: hidden dense widths (relu) and dropout after each hidden layer. Default: one linear layer (ADDITIONAL_LAYERS_HEAD for 'additional-layers'). */
  head?: { hidden?: number[]; dropout?: number };
  /** How a 4-D cut (a conv block) becomes a feature vector: global average pooling (default) or flatten. */
  pool?: 'gap' | 'flatten';
  /** Learning-rate multiplier of the copied, trainable base weights (finetune default 0.1, others 1). */
  baseLrScale?: number;
  /** Trainable batch-norm layers of the base: 'train' (batch statistics, default) or 'frozen-stats' (inference mode, Keras' advice). */
  batchNorm?: BatchNormMode;
  /** Train the head on features the frozen base computes once (default true for 'additional-layers'; needs a fully frozen base). */
  cacheFeatures?: boolean;
  /** Seeds the head's initializers (and every re-initialised weight, all of them for `scratch`). */
  seed: number;
}

/** Trainable weights of one part, with the multiplier the training loop applies to its learning rate. */
export interface ParamGroup {
  /** base: copied from the source; reinit: base layers re-initialised (copyUpTo, scratch); head: the new head. */
  name: 'base' | 'reinit' | 'head';
  variables: tf.LayerVariable[];
  lrScale: number;
}

/** A source base with a new head, ready to train. */
export interface TransferModel {
  strategy: Strategy;
  /** base → head, one functional model (the source's output layer removed). */
  model: tf.LayersModel;
  /** c: input → feature vector (shares its layers and weights with `model`). */
  base: tf.LayersModel;
  /** v: feature vector → class probabilities (shares its layers and weights with `model`). */
  head: tf.LayersModel;
  /** Only the trainable weights, grouped; `finetune` gives the copied base lrScale < 1. */
  paramGroups: ParamGroup[];
  /** Name of the source layer where the base was cut. */
  cutAt: string;
  /** Base layers that are frozen (names). */
  frozenLayers: string[];
  /** Base layers with weights copied from the source, and base layers re-initialised (names of layers with weights). */
  copiedLayers: string[];
  reinitLayers: string[];
  /** Mode of the base's trainable batch-norm layers. */
  batchNorm: BatchNormMode;
  /** True when only the head trains, on features the frozen base computes once (`extractFeatures(base, …)`). */
  cacheFeatures: boolean;
  /** Number of weights that train. */
  trainableParams: number;
  /** Which layers train, and trainable/frozen parameter counts. */
  summary(): string;
  /** Frees every weight (same as `model.dispose()`; base and head share them). */
  dispose(): void;
}

/** Block of a layer name: `block3b_dwconv` → `block3`, `stem_conv` → `stem`, `features` → `features`. */
export function blockOf(layerName: string): string {
  const m = /^(block\d+)/.exec(layerName);
  return m ? m[1] : layerName.split('_')[0];
}

/** Ordered distinct blocks of a model's layers (inputs left out). */
export function listBlocks(model: tf.LayersModel): string[] {
  const out: string[] = [];
  for (const l of model.layers) {
    if (l.getClassName() === 'InputLayer') continue;
    const b = blockOf(l.name);
    if (!out.includes(b)) out.push(b);
  }
  return out;
}

/** Replace every `seed` in a serialized config by a fresh one, so a clone gets new, reproducible initial weights. */
function reseed(config: unknown, rng: Rng): unknown {
  if (Array.isArray(config)) return config.map((c) => reseed(c, rng));
  if (config && typeof config === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(config as Record<string, unknown>)) {
      out[k] = k === 'seed' && (v == null || typeof v === 'number') ? rng.nextSeed() : reseed(v, rng);
    }
    return out;
  }
  return config;
}

/** An independent copy of a model (same architecture and names); weights copied unless `fresh`. */
export function cloneModel(model: tf.LayersModel, opts: { fresh?: boolean; seed?: number } = {}): tf.LayersModel {
  const config = reseed(model.getConfig(), new Rng(`clone/${opts.seed ?? 0}`)) as tf.serialization.ConfigDict;
  const clone = tf.LayersModel.fromConfig(tf.LayersModel, config) as tf.LayersModel;
  if (!opts.fresh) clone.setWeights(model.getWeights());
  return clone;
}

function resolveLayerIndex(model: tf.LayersModel, at: string | number, what: string): number {
  if (typeof at === 'number') {
    if (!Number.isInteger(at) || at < 0 || at >= model.layers.length) {
      throw new Error(`${what}: layer index ${at} is out of range 0..${model.layers.length - 1} of model '${model.name}'`);
    }
    return at;
  }
  const i = model.layers.findIndex((l) => l.name === at);
  if (i < 0) {
    throw new Error(`${what}: model '${model.name}' has no layer '${at}'; layers: ${model.layers.map((l) => l.name).join(', ')}`);
  }
  return i;
}

/**
 * The default cut: the `features` layer; else, when the model ends in a classifier (softmax/sigmoid dense or
 * activation), the layer feeding it; else (already a feature extractor) the output layer itself.
 */
function defaultCut(model: tf.LayersModel): number {
  const i = model.layers.findIndex((l) => l.name === FEATURE_LAYER);
  if (i >= 0) return i;
  const out = model.outputLayers[0];
  const activation = (out.getConfig() as { activation?: unknown }).activation;
  const classifier = out.getClassName() === 'Softmax' || activation === 'softmax' || activation === 'sigmoid';
  if (!classifier) return model.layers.indexOf(out);
  const inbound = out.inboundNodes[0].inboundLayers[0];
  return model.layers.indexOf(inbound);
}

/** The base: the clone's layers up to the cut, a 4-D cut pooled (or flattened) into a vector. */
function cutBase(clone: tf.LayersModel, cutName: string, pool: TransferOptions['pool']): tf.LayersModel {
  let featuresOut = clone.getLayer(cutName).output as tf.SymbolicTensor;
  if (featuresOut.shape.length === 4) {
    const taken = new Set(clone.layers.map((l) => l.name));
    const unique = (n: string) => (taken.has(n) ? `${n}_${taken.size}` : n);
    const layer = pool === 'flatten' ? tf.layers.flatten({ name: unique('cut_flatten') }) : tf.layers.globalAveragePooling2d({ name: unique('cut_pool') });
    featuresOut = layer.apply(featuresOut) as tf.SymbolicTensor;
  } else if (featuresOut.shape.length !== 2) {
    throw new Error(`buildTransferModel: cut layer '${cutName}' outputs shape [${featuresOut.shape}], expected [batch, features] or [batch, h, w, c]`);
  }
  const base = tf.model({ inputs: clone.inputs, outputs: featuresOut, name: 'base' });
  // Weights of the clone beyond the cut (the source's output layer w) are not used: free them.
  const kept = new Set(base.layers);
  for (const l of clone.layers) if (!kept.has(l)) l.weights.forEach((w) => w.dispose());
  return base;
}

/** The new head v on the base's features, as part of the whole model and as a model of its own. */
function attachHead(base: tf.LayersModel, opts: TransferOptions, rng: Rng): { model: tf.LayersModel; head: tf.LayersModel } {
  const spec = opts.head ?? (opts.strategy === 'additional-layers' ? ADDITIONAL_LAYERS_HEAD : {});
  const hidden = spec.hidden ?? [];
  const dropout = spec.dropout ?? 0;
  const layers: tf.layers.Layer[] = [];
  hidden.forEach((units, i) => {
    layers.push(tf.layers.dense({ units, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: rng.nextSeed() }), name: `head_dense${i + 1}` }));
    if (dropout > 0) layers.push(tf.layers.dropout({ rate: dropout, seed: rng.nextSeed(), name: `head_dropout${i + 1}` }));
  });
  if (hidden.length === 0 && dropout > 0) layers.push(tf.layers.dropout({ rate: dropout, seed: rng.nextSeed(), name: 'head_dropout' }));
  layers.push(
    tf.layers.dense({ units: opts.numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextSeed() }), name: 'head_out' }),
  );
  const apply = (x: tf.SymbolicTensor) => layers.reduce((h, layer) => layer.apply(h) as tf.SymbolicTensor, x);
  const model = tf.model({ inputs: base.inputs, outputs: apply(base.outputs[0]), name: `transfer_${opts.strategy}` });
  const headInput = tf.input({ shape: [base.outputs[0].shape[1] as number], name: 'head_input' });
  const head = tf.model({ inputs: headInput, outputs: apply(headInput), name: 'head' });
  // Each symbolic call counts a reference; the head layers were called twice (model and head), so one
  // `model.dispose()` would leave their weights alive. Count them once: disposing `model` frees everything.
  for (const l of layers) (l as unknown as { _refCount: number })._refCount = 1;
  return { model, head };
}

/** Re-initialises the given layers of `clone` with the seeded initial weights of a fresh copy of the source. */
function reinitialise(src: tf.LayersModel, clone: tf.LayersModel, layers: tf.layers.Layer[], seed: number): void {
  if (layers.length === 0) return;
  const fresh = cloneModel(src, { fresh: true, seed });
  for (const l of layers) l.setWeights(fresh.getLayer(l.name).getWeights());
  fresh.dispose();
}

/** Builds a transfer model from a source model (or any `tf.LayersModel`); the source is left untouched. */
export function buildTransferModel(source: SourceModel | tf.LayersModel, opts: TransferOptions): TransferModel {
  const src = source instanceof tf.LayersModel ? source : source.model;
  const rng = new Rng(opts.seed);
  const strategy = opts.strategy;
  if (!STRATEGIES.includes(strategy)) throw new Error(`buildTransferModel: unknown strategy '${strategy}', expected one of ${STRATEGIES.join(', ')}`);
  const cutIndex = opts.cutAt === undefined ? defaultCut(src) : resolveLayerIndex(src, opts.cutAt, 'buildTransferModel cutAt');
  const cutName = src.layers[cutIndex].name;

  // An independent copy, so training one strategy never changes the source or another strategy's model.
  const clone = cloneModel(src, { fresh: strategy === 'scratch', seed: rng.nextSeed() });
  const base = cutBase(clone, cutName, opts.pool);
  const { model, head } = attachHead(base, opts, rng);

  const baseLayers = base.layers.filter((l) => l.getClassName() !== 'InputLayer');
  const copied = strategy === 'scratch' ? 0 : opts.copyUpTo === undefined ? baseLayers.length : leadingCount(base, baseLayers, opts.copyUpTo, 'copyUpTo');
  const reinit = baseLayers.slice(copied).filter((l) => l.weights.length > 0);
  reinitialise(src, clone, strategy === 'scratch' ? [] : reinit, rng.nextSeed());

  let frozen: tf.layers.Layer[] = [];
  if (strategy === 'freeze' || strategy === 'additional-layers') frozen = baseLayers.slice(0, copied);
  else if (strategy === 'hybrid') frozen = baseLayers.slice(0, Math.min(copied, leadingCount(base, baseLayers, opts.freezeUpTo, 'freezeUpTo')));
  for (const l of baseLayers) l.trainable = !frozen.includes(l);
  const batchNorm = opts.batchNorm ?? 'train';
  setBatchNormMode(model, batchNorm);

  const cacheFeatures = opts.cacheFeatures ?? strategy === 'additional-layers';
  if (cacheFeatures && base.trainableWeights.length > 0) {
    throw new Error(`buildTransferModel: cacheFeatures needs a fully frozen base, but ${strategy} trains ${base.trainableWeights.length} base weights`);
  }
  const reinitSet = new Set<tf.layers.Layer>(strategy === 'scratch' ? baseLayers : reinit);
  const weightsOf = (ls: tf.layers.Layer[]) => ls.flatMap((l) => l.trainableWeights);
  const groups: ParamGroup[] = [
    { name: 'base', variables: weightsOf(baseLayers.filter((l) => !reinitSet.has(l))), lrScale: opts.baseLrScale ?? (strategy === 'finetune' ? 0.1 : 1) },
    { name: 'reinit', variables: weightsOf(baseLayers.filter((l) => reinitSet.has(l))), lrScale: 1 },
    { name: 'head', variables: head.trainableWeights, lrScale: 1 },
  ];
  const withWeights = baseLayers.filter((l) => l.weights.length > 0);
  const tm: TransferModel = {
    strategy,
    model,
    base,
    head,
    paramGroups: groups.filter((g) => g.variables.length > 0 || g.name === 'head'),
    cutAt: cutName,
    frozenLayers: frozen.map((l) => l.name),
    copiedLayers: withWeights.filter((l) => !reinitSet.has(l)).map((l) => l.name),
    reinitLayers: withWeights.filter((l) => reinitSet.has(l)).map((l) => l.name),
    batchNorm,
    cacheFeatures,
    trainableParams: countParams(model).trainable,
    summary: () => summarizeTransfer(tm),
    dispose: () => model.dispose(),
  };
  return tm;
}

/**
 * Number of leading base layers up to a point: `upTo` = k blocks (number), a block name (through its last layer)
 * or a layer name (through that layer). Undefined = the first half of the blocks (hybrid's default).
 */
function leadingCount(base: tf.LayersModel, layers: tf.layers.Layer[], upTo: string | number | undefined, what: string): number {
  const blocks = listBlocks(base);
  const lastOfBlocks = (k: number) => {
    const wanted = new Set(blocks.slice(0, k));
    let n = 0;
    layers.forEach((l, i) => {
      if (wanted.has(blockOf(l.name))) n = i + 1;
    });
    return n;
  };
  if (upTo === undefined) return lastOfBlocks(Math.floor(blocks.length / 2));
  if (typeof upTo === 'number') {
    if (!Number.isInteger(upTo) || upTo < 0 || upTo > blocks.length) {
      throw new Error(`buildTransferModel ${what}: ${upTo} blocks requested, the base has ${blocks.length} (${blocks.join(', ')})`);
    }
    return lastOfBlocks(upTo);
  }
  const b = blocks.indexOf(upTo);
  if (b >= 0) return lastOfBlocks(b + 1);
  const i = layers.findIndex((l) => l.name === upTo);
  if (i >= 0) return i + 1;
  throw new Error(`buildTransferModel ${what}: '${upTo}' is neither a block (${blocks.join(', ')}) nor a layer of the base`);
}

/** A text table: each layer with weights, its parameter count and whether it trains; totals at the end. */
export function summarizeTransfer(tm: TransferModel): string {
  const extras = [tm.cacheFeatures ? 'features computed once' : '', tm.reinitLayers.length && tm.strategy !== 'scratch' ? `${tm.reinitLayers.length} base layers re-initialised` : '']
    .filter(Boolean)
    .join('; ');
  const rows: string[] = [`${tm.strategy}: base cut at '${tm.cutAt}'` + (extras ? ` (${extras})` : '')];
  const lrOf = new Map<tf.LayerVariable, number>();
  for (const g of tm.paramGroups) for (const v of g.variables) lrOf.set(v, g.lrScale);
  const reinit = new Set(tm.reinitLayers);
  for (const l of tm.model.layers) {
    const p = countParams(l);
    if (p.total === 0) continue;
    const trains = l.trainableWeights.length > 0;
    const part = tm.head.layers.includes(l) ? 'head' : 'base';
    const lr = trains ? ` lr×${lrOf.get(l.trainableWeights[0]) ?? 1}` : '';
    const fresh = part === 'base' && reinit.has(l.name) && tm.strategy !== 'scratch' ? ' (re-initialised)' : '';
    rows.push(`  ${part}  ${l.name.padEnd(24)} ${String(p.total).padStart(8)}  ${trains ? 'trains' : 'frozen'}${lr}${fresh}`);
  }
  const p = countParams(tm.model);
  const stats = countBatchNormStats(tm.model);
  rows.push(
    `  params: ${p.trainable} trainable, ${p.nonTrainable - stats} frozen` +
      (stats > 0 ? ` (+ ${stats} batch-norm statistics, never trained by gradients; trainable BN layers: '${tm.batchNorm}')` : ''),
  );
  return rows.join('\n');
}

/**
 * Runs the (frozen) base over images in batches and returns the feature matrix [n, features] — the cache
 * for 'additional-layers'. Images: ImageArrays (NHWC float32) or a Tensor4D.
 */
export function extractFeatures(base: tf.LayersModel, images: ImageArrays | tf.Tensor4D, batchSize = 64): tf.Tensor2D {
  const n = images instanceof tf.Tensor ? images.shape[0] : images.labels.length;
  const parts: tf.Tensor2D[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    parts.push(
      tf.tidy(() => {
        let x: tf.Tensor4D;
        if (images instanceof tf.Tensor) x = images.slice([start, 0, 0, 0], [end - start, -1, -1, -1]);
        else {
          const per = images.height * images.width * images.channels;
          x = tf.tensor4d(images.images.subarray(start * per, end * per), [end - start, images.height, images.width, images.channels]);
        }
        return base.predict(x) as tf.Tensor2D;
      }),
    );
  }
  if (parts.length === 0) {
    const dim = base.outputs[0].shape[1] as number;
    return tf.zeros([0, dim]) as tf.Tensor2D;
  }
  const out = parts.length === 1 ? parts[0] : (tf.concat(parts, 0) as tf.Tensor2D);
  if (parts.length > 1) tf.dispose(parts);
  return out;
}
