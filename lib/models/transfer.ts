/**
 * Transfer strategies (lecture §1). The source model is g = w ∘ c; we keep c (the base, cut at a layer),
 * drop the source's output layer w, and attach a new head v for the target: f = v ∘ c.
 *   scratch            same architecture, fresh (seeded) weights, everything trains;
 *   freeze (동결)       base frozen, only the new head trains;
 *   finetune (미세 조정) everything trains, the base at a smaller learning rate (paramGroups' lrScale);
 *   hybrid             the first k blocks/layers of the base frozen, the rest and the head train;
 *   additional-layers  only the head trains, on features the frozen base computes once (`extractFeatures`).
 * Frozen batch-norm layers always run in inference mode (see `keepFrozenBatchNormInInference`).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random';
import type { ImageArrays } from '../data/types';
import { FEATURE_LAYER, OUTPUT_LAYER, countParams } from './zoo';
import type { SourceModel } from './source';

/** The five strategies of the lecture. */
export type Strategy = 'scratch' | 'freeze' | 'finetune' | 'hybrid' | 'additional-layers';
export const STRATEGIES: Strategy[] = ['scratch', 'freeze', 'finetune', 'hybrid', 'additional-layers'];

/** Options of `buildTransferModel`. */
export interface TransferOptions {
  strategy: Strategy;
  /** Classes of the target task (units of the new output layer). */
  numClasses: number;
  /** Layer (name or index in the source's `layers`) where the base ends; default the `features` layer. */
  cutAt?: string | number;
  /** Hybrid: freeze the first k blocks (number), or up to and including a block (`'block2'`) or layer name. */
  freezeUpTo?: string | number;
  /** The new head: hidden dense widths (relu) and dropout after each hidden layer. Default: one linear layer. */
  head?: { hidden?: number[]; dropout?: number };
  /** How a 4-D cut (a conv block) becomes a feature vector: global average pooling (default) or flatten. */
  pool?: 'gap' | 'flatten';
  /** Learning-rate multiplier of the base's trainable weights (finetune default 0.1, others 1). */
  baseLrScale?: number;
  /** Seeds the head's initializers (and every initializer of `scratch`). */
  seed: number;
}

/** Trainable weights of one part, with the multiplier the training loop applies to its learning rate. */
export interface ParamGroup {
  name: 'base' | 'head';
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
  /** Only the trainable weights, grouped; `finetune` gives the base lrScale < 1. */
  paramGroups: ParamGroup[];
  /** Name of the source layer where the base was cut. */
  cutAt: string;
  /** Base layers that are frozen (names). */
  frozenLayers: string[];
  /** True for 'additional-layers': compute features once with `extractFeatures(base, …)` and train `head` on them. */
  cacheFeatures: boolean;
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

/**
 * tfjs's BatchNormalization, unlike Keras 2, keeps using batch statistics and updating its moving mean and
 * variance when `training` is true even if the layer is frozen. This makes every BN layer of `model` run in
 * inference mode whenever it is not trainable (checked at each call, so unfreezing later works).
 */
export function keepFrozenBatchNormInInference(model: tf.LayersModel): void {
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) {
      keepFrozenBatchNormInInference(layer);
      continue;
    }
    if (layer.getClassName() !== 'BatchNormalization') continue;
    const patched = layer as tf.layers.Layer & { __frozenBnPatched?: boolean };
    if (patched.__frozenBnPatched) continue;
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => call(inputs, layer.trainable ? kwargs : { ...kwargs, training: false });
    patched.__frozenBnPatched = true;
  }
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
  const cutLayer = clone.getLayer(cutName);
  let featuresOut = cutLayer.output as tf.SymbolicTensor;
  if (featuresOut.shape.length === 4) {
    const taken = new Set(clone.layers.map((l) => l.name));
    const unique = (n: string) => (taken.has(n) ? `${n}_${taken.size}` : n);
    const pool = opts.pool === 'flatten' ? tf.layers.flatten({ name: unique('cut_flatten') }) : tf.layers.globalAveragePooling2d({ name: unique('cut_pool') });
    featuresOut = pool.apply(featuresOut) as tf.SymbolicTensor;
  } else if (featuresOut.shape.length !== 2) {
    throw new Error(`buildTransferModel: cut layer '${cutName}' outputs shape [${featuresOut.shape}], expected [batch, features] or [batch, h, w, c]`);
  }
  const base = tf.model({ inputs: clone.inputs, outputs: featuresOut, name: 'base' });
  // Weights of the clone beyond the cut (the source's output layer w) are not used: free them.
  const kept = new Set(base.layers);
  for (const l of clone.layers) if (!kept.has(l)) l.weights.forEach((w) => w.dispose());

  // The new head v.
  const featureDim = featuresOut.shape[1] as number;
  const hidden = opts.head?.hidden ?? [];
  const dropout = opts.head?.dropout ?? 0;
  const headLayers: tf.layers.Layer[] = [];
  hidden.forEach((units, i) => {
    headLayers.push(tf.layers.dense({ units, activation: 'relu', kernelInitializer: tf.initializers.heNormal({ seed: rng.nextSeed() }), name: `head_dense${i + 1}` }));
    if (dropout > 0) headLayers.push(tf.layers.dropout({ rate: dropout, seed: rng.nextSeed(), name: `head_dropout${i + 1}` }));
  });
  if (hidden.length === 0 && dropout > 0) headLayers.push(tf.layers.dropout({ rate: dropout, seed: rng.nextSeed(), name: 'head_dropout' }));
  headLayers.push(
    tf.layers.dense({ units: opts.numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextSeed() }), name: 'head_out' }),
  );
  const applyHead = (x: tf.SymbolicTensor) => headLayers.reduce((h, layer) => layer.apply(h) as tf.SymbolicTensor, x);
  const model = tf.model({ inputs: base.inputs, outputs: applyHead(base.outputs[0]), name: `transfer_${strategy}` });
  const headInput = tf.input({ shape: [featureDim], name: 'head_input' });
  const head = tf.model({ inputs: headInput, outputs: applyHead(headInput), name: 'head' });
  // Each symbolic call counts a reference; the head layers were called twice (model and head), so one
  // `model.dispose()` would leave their weights alive. Count them once: disposing `model` frees everything.
  for (const l of headLayers) (l as unknown as { _refCount: number })._refCount = 1;

  // Which base layers freeze.
  const baseLayers = base.layers.filter((l) => l.getClassName() !== 'InputLayer');
  let frozen: tf.layers.Layer[] = [];
  if (strategy === 'freeze' || strategy === 'additional-layers') frozen = baseLayers;
  else if (strategy === 'hybrid') frozen = baseLayers.slice(0, hybridFrozenCount(base, baseLayers, opts.freezeUpTo));
  for (const l of baseLayers) l.trainable = !frozen.includes(l);
  keepFrozenBatchNormInInference(model);

  const baseLrScale = opts.baseLrScale ?? (strategy === 'finetune' ? 0.1 : 1);
  const paramGroups: ParamGroup[] = [];
  const baseVars = base.trainableWeights;
  if (baseVars.length > 0) paramGroups.push({ name: 'base', variables: baseVars, lrScale: baseLrScale });
  paramGroups.push({ name: 'head', variables: head.trainableWeights, lrScale: 1 });

  const tm: TransferModel = {
    strategy,
    model,
    base,
    head,
    paramGroups,
    cutAt: cutName,
    frozenLayers: frozen.map((l) => l.name),
    cacheFeatures: strategy === 'additional-layers',
    summary: () => summarizeTransfer(tm),
    dispose: () => {
      model.dispose();
    },
  };
  return tm;
}

/** Number of leading base layers that hybrid freezes. */
function hybridFrozenCount(base: tf.LayersModel, layers: tf.layers.Layer[], freezeUpTo: string | number | undefined): number {
  const blocks = listBlocks(base);
  const lastOfBlocks = (k: number) => {
    const wanted = new Set(blocks.slice(0, k));
    let n = 0;
    layers.forEach((l, i) => {
      if (wanted.has(blockOf(l.name))) n = i + 1;
    });
    return n;
  };
  if (freezeUpTo === undefined) return lastOfBlocks(Math.floor(blocks.length / 2));
  if (typeof freezeUpTo === 'number') {
    if (!Number.isInteger(freezeUpTo) || freezeUpTo < 0 || freezeUpTo > blocks.length) {
      throw new Error(`buildTransferModel freezeUpTo: ${freezeUpTo} blocks requested, the base has ${blocks.length} (${blocks.join(', ')})`);
    }
    return lastOfBlocks(freezeUpTo);
  }
  const b = blocks.indexOf(freezeUpTo);
  if (b >= 0) return lastOfBlocks(b + 1);
  const i = layers.findIndex((l) => l.name === freezeUpTo);
  if (i >= 0) return i + 1;
  throw new Error(`buildTransferModel freezeUpTo: '${freezeUpTo}' is neither a block (${blocks.join(', ')}) nor a layer of the base`);
}

/** A text table: each layer with weights, its parameter count and whether it trains; totals at the end. */
export function summarizeTransfer(tm: TransferModel): string {
  const rows: string[] = [`${tm.strategy}: base cut at '${tm.cutAt}'` + (tm.cacheFeatures ? ' (features computed once)' : '')];
  const lrOf = new Map<tf.LayerVariable, number>();
  for (const g of tm.paramGroups) for (const v of g.variables) lrOf.set(v, g.lrScale);
  for (const l of tm.model.layers) {
    const p = countParams(l);
    if (p.total === 0) continue;
    const trains = l.trainableWeights.length > 0;
    const part = tm.head.layers.includes(l) ? 'head' : 'base';
    const lr = trains ? ` lr×${lrOf.get(l.trainableWeights[0]) ?? 1}` : '';
    rows.push(`  ${part}  ${l.name.padEnd(24)} ${String(p.total).padStart(8)}  ${trains ? 'trains' : 'frozen'}${lr}`);
  }
  const p = countParams(tm.model);
  const stats = bnStats(tm.model);
  rows.push(`  params: ${p.trainable} trainable, ${p.nonTrainable - stats} frozen` + (stats > 0 ? ` (+ ${stats} batch-norm statistics, never trained by gradients)` : ''));
  return rows.join('\n');
}

function bnStats(model: tf.LayersModel): number {
  let n = 0;
  for (const l of model.layers) {
    for (const w of l.weights) if (/moving_(mean|variance)/.test(w.originalName)) n += (w.shape as number[]).reduce((a, b) => a * b, 1);
  }
  return n;
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
