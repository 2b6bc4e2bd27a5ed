/**
 * The model zoo: `build*` functions returning functional `tf.LayersModel`s with named layers and seeded
 * initializers, so that a base (c, the feature extractor / 특징 추출기) can be cut at a named layer and
 * blocks can be frozen by name prefix (`stem`, `block1`, …, `top`, `features`).
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../random';

/**
 * Momentum of the batch-norm moving averages. tfjs defaults to 0.99, which after a few hundred steps of a
 * small CPU run still remembers the initial statistics (0.99^130 ≈ 0.27): evaluation then sits at chance.
 */
export const BN_MOMENTUM = 0.9;
/** Name of the layer where every zoo model's feature extractor ends (the default cut point). */
export const FEATURE_LAYER = 'features';
/** Name of every zoo model's classification layer (the source task's head w_i, dropped on transfer). */
export const OUTPUT_LAYER = 'predictions';

/** Options of `buildPlainCnn`. */
export interface PlainCnnOptions {
  /** [height, width, channels] of one image, e.g. [32, 32, 3]. */
  inputShape: [number, number, number];
  /** Classes of the source task (units of the `predictions` layer). */
  numClasses: number;
  /** Filters of each conv block (block i = conv → relu → max-pool); default [16, 32, 64, 128]… see below. */
  filters?: number[];
  /**
   * How the base ends: 'gap' = global average pooling of the last block (features = its channels);
   * 'flatten-dense' = flatten → dense(`dense`, relu). Findings: GAP features transfer better here.
   */
  ending?: 'gap' | 'flatten-dense';
  /** Units of the dense feature layer for the 'flatten-dense' ending (default 128). */
  dense?: number;
  /** Batch normalization after each conv (default false: the shipped sources are plain). */
  batchNorm?: boolean;
  /** Seed of every initializer. */
  seed: number;
}

/** Default filters of the plain CNN: three pooled blocks then a 128-channel conv, GAP → 128 features. */
export const PLAIN_CNN_FILTERS = [16, 32, 64, 128];

/**
 * A plain CNN: blocks `blockK_conv` (3×3 same, relu) [→ `blockK_bn`] → `blockK_pool` (2×2 max) for all but
 * the last block, then `features` (GAP, or flatten → dense) and the `predictions` softmax layer.
 */
export function buildPlainCnn(opts: PlainCnnOptions): tf.LayersModel {
  const filters = opts.filters ?? PLAIN_CNN_FILTERS;
  const ending = opts.ending ?? 'gap';
  const rng = new Rng(opts.seed);
  const input = tf.input({ shape: opts.inputShape, name: 'input' });
  let x: tf.SymbolicTensor = input;
  filters.forEach((f, i) => {
    const b = `block${i + 1}`;
    x = tf.layers
      .conv2d({
        filters: f,
        kernelSize: 3,
        padding: 'same',
        activation: opts.batchNorm ? 'linear' : 'relu',
        useBias: !opts.batchNorm,
        kernelInitializer: tf.initializers.heNormal({ seed: rng.nextSeed() }),
        name: `${b}_conv`,
      })
      .apply(x) as tf.SymbolicTensor;
    if (opts.batchNorm) {
      x = tf.layers.batchNormalization({ momentum: BN_MOMENTUM, name: `${b}_bn` }).apply(x) as tf.SymbolicTensor;
      x = tf.layers.activation({ activation: 'relu', name: `${b}_relu` }).apply(x) as tf.SymbolicTensor;
    }
    if (i < filters.length - 1) {
      x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `${b}_pool` }).apply(x) as tf.SymbolicTensor;
    }
  });
  if (ending === 'gap') {
    x = tf.layers.globalAveragePooling2d({ name: FEATURE_LAYER }).apply(x) as tf.SymbolicTensor;
  } else {
    x = tf.layers.flatten({ name: 'flatten' }).apply(x) as tf.SymbolicTensor;
    x = tf.layers
      .dense({
        units: opts.dense ?? 128,
        activation: 'relu',
        kernelInitializer: tf.initializers.heNormal({ seed: rng.nextSeed() }),
        name: FEATURE_LAYER,
      })
      .apply(x) as tf.SymbolicTensor;
  }
  const out = tf.layers
    .dense({
      units: opts.numClasses,
      activation: 'softmax',
      kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextSeed() }),
      name: OUTPUT_LAYER,
    })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: `plain_cnn_${ending}` });
}

// ---------------------------------------------------------------------------------------------
// EfficientNet-style family (Tan & Le 2019), shrunk for CPUs and 32 px images.

/** One stage of MBConv blocks: expansion ratio, output channels, repeats, first stride, kernel size. */
export interface MBConvStage {
  expand: number;
  channels: number;
  repeats: number;
  stride: number;
  kernel: number;
}

/** The B0-mini baseline (φ = 0): four stages, stem 16, top 256 channels, 32 px input. */
export const EFFNET_MINI_STAGES: MBConvStage[] = [
  { expand: 1, channels: 16, repeats: 1, stride: 1, kernel: 3 },
  { expand: 4, channels: 24, repeats: 2, stride: 2, kernel: 3 },
  { expand: 4, channels: 40, repeats: 2, stride: 2, kernel: 5 },
  { expand: 4, channels: 64, repeats: 2, stride: 2, kernel: 3 },
];
export const EFFNET_MINI_STEM = 16;
export const EFFNET_MINI_TOP = 256;
export const EFFNET_BASE_RESOLUTION = 32;
/** Compound-scaling constants of Tan & Le (2019): depth α, width β, resolution γ (α·β²·γ² ≈ 2). */
export const COMPOUND_SCALING = { alpha: 1.2, beta: 1.1, gamma: 1.15 } as const;

/** Depth, width and resolution multipliers for φ, and the resulting input side. */
export function compoundScaling(phi: number): { depth: number; width: number; resolution: number; imageSize: number } {
  const depth = COMPOUND_SCALING.alpha ** phi;
  const width = COMPOUND_SCALING.beta ** phi;
  const resolution = COMPOUND_SCALING.gamma ** phi;
  return { depth, width, resolution, imageSize: Math.round(EFFNET_BASE_RESOLUTION * resolution) };
}

/** Channels scaled by the width multiplier, rounded to a multiple of 8 (as in the reference code). */
export function roundFilters(channels: number, width: number, divisor = 8): number {
  const c = channels * width;
  let out = Math.max(divisor, Math.floor((c + divisor / 2) / divisor) * divisor);
  if (out < 0.9 * c) out += divisor;
  return out;
}

/** Repeats scaled by the depth multiplier, rounded up. */
export function roundRepeats(repeats: number, depth: number): number {
  return Math.ceil(repeats * depth);
}

/** Options of `buildEfficientNet`. */
export interface EfficientNetOptions {
  /** Compound-scaling coefficient φ ≥ 0 (0 = B0-mini). */
  phi: number;
  /** [h, w, c]; default the scaled resolution for φ, 3 channels. */
  inputShape?: [number, number, number];
  numClasses: number;
  /** Dropout before `predictions` (default 0.2). */
  dropout?: number;
  seed: number;
}

/**
 * An EfficientNet-style model: `stem` conv, MBConv blocks `block{stage}{a,b,…}_*` (expand 1×1, depthwise,
 * squeeze-and-excitation, swish, batch norm, projection, residual), `top` 1×1 conv, `features` (GAP),
 * dropout and `predictions`. Width, depth and resolution scale with φ.
 */
export function buildEfficientNet(opts: EfficientNetOptions): tf.LayersModel {
  const { phi } = opts;
  if (!(phi >= 0)) throw new Error(`buildEfficientNet: phi must be ≥ 0, got ${phi}`);
  const s = compoundScaling(phi);
  const inputShape = opts.inputShape ?? [s.imageSize, s.imageSize, 3];
  const rng = new Rng(opts.seed);
  const convInit = () => tf.initializers.heNormal({ seed: rng.nextSeed() });
  const input = tf.input({ shape: inputShape, name: 'input' });
  const ap = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;

  const stem = roundFilters(EFFNET_MINI_STEM, s.width);
  let x = ap(
    tf.layers.conv2d({ filters: stem, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: convInit(), name: 'stem_conv' }),
    input,
  );
  x = ap(tf.layers.batchNormalization({ momentum: BN_MOMENTUM, name: 'stem_bn' }), x);
  x = ap(tf.layers.activation({ activation: 'swish', name: 'stem_act' }), x);
  let channelsIn = stem;

  EFFNET_MINI_STAGES.forEach((stage, si) => {
    const out = roundFilters(stage.channels, s.width);
    const repeats = roundRepeats(stage.repeats, s.depth);
    for (let r = 0; r < repeats; r++) {
      const name = `block${si + 1}${String.fromCharCode(97 + r)}`;
      const stride = r === 0 ? stage.stride : 1;
      x = mbConv(x, { name, channelsIn, channelsOut: out, expand: stage.expand, kernel: stage.kernel, stride, convInit });
      channelsIn = out;
    }
  });

  const top = roundFilters(EFFNET_MINI_TOP, s.width);
  x = ap(tf.layers.conv2d({ filters: top, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: convInit(), name: 'top_conv' }), x);
  x = ap(tf.layers.batchNormalization({ momentum: BN_MOMENTUM, name: 'top_bn' }), x);
  x = ap(tf.layers.activation({ activation: 'swish', name: 'top_act' }), x);
  x = ap(tf.layers.globalAveragePooling2d({ name: FEATURE_LAYER }), x);
  x = ap(tf.layers.dropout({ rate: opts.dropout ?? 0.2, seed: rng.nextSeed(), name: 'top_dropout' }), x);
  const outT = ap(
    tf.layers.dense({ units: opts.numClasses, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: rng.nextSeed() }), name: OUTPUT_LAYER }),
    x,
  );
  return tf.model({ inputs: input, outputs: outT, name: `effnet_mini_phi${phi}` });
}

interface MBConvSpec {
  name: string;
  channelsIn: number;
  channelsOut: number;
  expand: number;
  kernel: number;
  stride: number;
  convInit: () => ReturnType<typeof tf.initializers.heNormal>;
}

/** One MBConv block with squeeze-and-excitation (ratio 0.25 of the block's input channels). */
function mbConv(inputs: tf.SymbolicTensor, b: MBConvSpec): tf.SymbolicTensor {
  const ap = (layer: tf.layers.Layer, x: tf.SymbolicTensor | tf.SymbolicTensor[]) => layer.apply(x) as tf.SymbolicTensor;
  const n = b.name;
  const expanded = b.channelsIn * b.expand;
  let x = inputs;
  if (b.expand !== 1) {
    x = ap(tf.layers.conv2d({ filters: expanded, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: b.convInit(), name: `${n}_expand_conv` }), x);
    x = ap(tf.layers.batchNormalization({ momentum: BN_MOMENTUM, name: `${n}_expand_bn` }), x);
    x = ap(tf.layers.activation({ activation: 'swish', name: `${n}_expand_act` }), x);
  }
  x = ap(
    tf.layers.depthwiseConv2d({ kernelSize: b.kernel, strides: b.stride, padding: 'same', useBias: false, depthwiseInitializer: b.convInit(), name: `${n}_dwconv` }),
    x,
  );
  x = ap(tf.layers.batchNormalization({ momentum: BN_MOMENTUM, name: `${n}_bn` }), x);
  x = ap(tf.layers.activation({ activation: 'swish', name: `${n}_act` }), x);
  // Squeeze-and-excitation: a per-channel gate computed from the globally pooled activations.
  const se = Math.max(1, Math.floor(b.channelsIn * 0.25));
  let g = ap(tf.layers.globalAveragePooling2d({ name: `${n}_se_squeeze` }), x);
  g = ap(tf.layers.reshape({ targetShape: [1, 1, expanded], name: `${n}_se_reshape` }), g);
  g = ap(tf.layers.conv2d({ filters: se, kernelSize: 1, activation: 'swish', kernelInitializer: b.convInit(), name: `${n}_se_reduce` }), g);
  g = ap(tf.layers.conv2d({ filters: expanded, kernelSize: 1, activation: 'sigmoid', kernelInitializer: b.convInit(), name: `${n}_se_expand` }), g);
  x = ap(tf.layers.multiply({ name: `${n}_se_excite` }), [x, g]);
  x = ap(tf.layers.conv2d({ filters: b.channelsOut, kernelSize: 1, padding: 'same', useBias: false, kernelInitializer: b.convInit(), name: `${n}_project_conv` }), x);
  x = ap(tf.layers.batchNormalization({ momentum: BN_MOMENTUM, name: `${n}_project_bn` }), x);
  if (b.stride === 1 && b.channelsIn === b.channelsOut) {
    x = ap(tf.layers.add({ name: `${n}_add` }), [x, inputs]);
  }
  return x;
}

// ---------------------------------------------------------------------------------------------
// Counting.

/** Parameter counts: all, trainable, and non-trainable (frozen weights and batch-norm statistics). */
export interface ParamCount {
  total: number;
  trainable: number;
  nonTrainable: number;
}

/** Number of parameters of a model (or of any layer), split by trainability. */
export function countParams(model: tf.LayersModel | tf.layers.Layer): ParamCount {
  const size = (ws: tf.LayerVariable[]) => ws.reduce((n, w) => n + (w.shape as number[]).reduce((a, b) => a * b, 1), 0);
  const trainable = size(model.trainableWeights);
  const nonTrainable = size(model.nonTrainableWeights);
  return { total: trainable + nonTrainable, trainable, nonTrainable };
}

/**
 * Multiply–adds for one image, counted for Conv2D, DepthwiseConv2D and Dense layers (element-wise work —
 * activations, batch norm, pooling, SE gating — is left out, as in the papers' FLOP counts).
 * `inputShape` [h, w, c] re-evaluates a fully convolutional model at another resolution.
 */
export function countFlops(model: tf.LayersModel, inputShape?: [number, number, number]): number {
  const declared = model.inputs[0].shape.slice(1) as number[];
  const want = inputShape ?? (declared as [number, number, number]);
  let m = model;
  let rebuilt = false;
  if (inputShape && inputShape.some((d, i) => d !== declared[i])) {
    m = withInputShape(model, inputShape);
    rebuilt = true;
  }
  if (want.some((d) => d == null)) throw new Error(`countFlops: model '${model.name}' has an unknown input shape [${declared}]; pass inputShape`);
  let total = 0;
  for (const layer of flattenLayers(m)) {
    const cls = layer.getClassName();
    if (cls !== 'Conv2D' && cls !== 'DepthwiseConv2D' && cls !== 'Dense') continue;
    const node = layer.inboundNodes[0];
    const first = (s: tf.Shape | tf.Shape[]) => (Array.isArray(s[0]) ? s[0] : s) as number[];
    const outShape = first(node.outputShapes);
    const inShape = first(node.inputShapes);
    if (cls === 'Conv2D') {
      const cfg = layer.getConfig() as { kernelSize: number[] | number; filters: number };
      const [kh, kw] = Array.isArray(cfg.kernelSize) ? cfg.kernelSize : [cfg.kernelSize, cfg.kernelSize];
      total += outShape[1] * outShape[2] * cfg.filters * kh * kw * inShape[3];
    } else if (cls === 'DepthwiseConv2D') {
      const cfg = layer.getConfig() as { kernelSize: number[] | number; depthMultiplier?: number };
      const [kh, kw] = Array.isArray(cfg.kernelSize) ? cfg.kernelSize : [cfg.kernelSize, cfg.kernelSize];
      total += outShape[1] * outShape[2] * inShape[3] * (cfg.depthMultiplier ?? 1) * kh * kw;
    } else if (cls === 'Dense') {
      const cfg = layer.getConfig() as { units: number };
      total += inShape[inShape.length - 1] * cfg.units;
    }
  }
  if (rebuilt) m.dispose();
  return total;
}

/** All leaf layers of a model, nested models expanded. */
export function flattenLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const l of model.layers) {
    if (l instanceof tf.LayersModel) out.push(...flattenLayers(l));
    else out.push(l);
  }
  return out;
}

/** The same architecture with another input shape (fresh weights). */
function withInputShape(model: tf.LayersModel, inputShape: [number, number, number]): tf.LayersModel {
  const config = JSON.parse(JSON.stringify(model.getConfig())) as { layers: Array<{ className: string; config: Record<string, unknown> }> };
  for (const l of config.layers) {
    if (l.className === 'InputLayer') l.config.batchInputShape = [null, ...inputShape];
  }
  return tf.LayersModel.fromConfig(tf.LayersModel, config as unknown as tf.serialization.ConfigDict) as tf.LayersModel;
}

/** One row of the compound-scaling table. */
export interface ScalingRow {
  phi: number;
  depth: number;
  width: number;
  imageSize: number;
  blocks: number;
  params: number;
  /** Multiply–adds per image at the member's own resolution. */
  flops: number;
}

/** Depth/width/resolution multipliers, block count, parameters and FLOPs of the EfficientNet-style family for each φ. */
export function scalingTable(phis: number[] = [0, 1, 2, 3], numClasses = 10): ScalingRow[] {
  return phis.map((phi) => {
    const s = compoundScaling(phi);
    const model = buildEfficientNet({ phi, numClasses, seed: 0 });
    const blocks = new Set(model.layers.map((l) => /^(block\d+[a-z])_/.exec(l.name)?.[1]).filter(Boolean)).size;
    const row: ScalingRow = {
      phi,
      depth: s.depth,
      width: s.width,
      imageSize: s.imageSize,
      blocks,
      params: countParams(model).total,
      flops: countFlops(model),
    };
    model.dispose();
    return row;
  });
}
