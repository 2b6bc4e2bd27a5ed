import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd';
import { KIT_BATCH_NORM_FINISH_DX, KIT_BATCH_NORM_GRAD, KIT_CHANNEL_SUM, KIT_SWISH_GRAD } from './kernels/fused_grads';

/**
 * Training-mode fusions of two tfjs-layers layers on wasm, patched onto their classes when the library loads:
 *
 * - **BatchNormalization**: tfjs runs the moments, the normalization and a gradient of ≈ 45 kernels (15 of them over
 *   the whole activation, each an engine call with its bookkeeping) per layer and step; the fused op runs the same
 *   arithmetic in 3 full passes forward and 3 backward, with a dozen small kernels on [c].
 * - **swish** activation layers: x · sigmoid(x · 1) and a 4-kernel gradient become a 2-kernel op with a 1-pass gradient.
 *
 * Every value is rounded exactly as tfjs's unfused kernels round it, and the gradient contributions are added in
 * the order tfjs's backward pass adds them, so weights train to the same bits (test/backend/layers.test.ts). That
 * order is only known when the layer's input has no other consumer, so a layer fuses only when its one inbound
 * layer feeds nothing else, in a first-order training pass (the tape at depth 1) on wasm with the SIMD kernels;
 * everything else runs tfjs's own code.
 */

type LayerLike = tf.layers.Layer & {
  inboundNodes: { inboundLayers: { outboundNodes: unknown[] }[] }[];
  invokeCallHook(inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict): void;
};
type Call = (this: LayerLike, inputs: tf.Tensor | tf.Tensor[], kwargs: tf.serialization.ConfigDict) => tf.Tensor | tf.Tensor[];

let enabled = true;
let fusedCalls = 0;

/** How many layer calls ran fused so far (tests check the fused path ran). */
export function layerFusions(): number {
  return fusedCalls;
}

/** Turns the layer fusions on or off (tests compare both); returns the previous setting. */
export function setLayerFusion(on: boolean): boolean {
  const old = enabled;
  enabled = on;
  return old;
}

/** Whether this call of `layer` on `x` may run fused (see above). */
function fusable(layer: LayerLike, inputs: tf.Tensor | tf.Tensor[], training: boolean): tf.Tensor | null {
  const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : null) : inputs;
  if (!enabled || !training || x == null || x.dtype !== 'float32' || x.rank !== 4 || x.shape[3]! % 4 !== 0 || tf.getBackend() !== 'wasm') return null;
  if ((tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth !== 1) return null;
  const nodes = layer.inboundNodes;
  if (nodes.length !== 1 || nodes[0].inboundLayers.length !== 1 || nodes[0].inboundLayers[0].outboundNodes.length !== 1) return null;
  if (simdKernels(tf.backend() as BackendWasm) == null) return null;
  fusedCalls++;
  return x;
}

interface BatchNormLayer extends LayerLike {
  axis: number;
  momentum: number;
  epsilon: number;
  center: boolean;
  scale: boolean;
  gamma: tf.LayerVariable;
  beta: tf.LayerVariable;
  movingMean: tf.LayerVariable;
  movingVariance: tf.LayerVariable;
}

/** Per-channel sums over the rows of x (see channelSum in assembly/kernels.ts). */
function channelSum(x: tf.Tensor, kind: 0 | 1 | 2, scale: number, mean?: tf.Tensor, k?: tf.Tensor): tf.Tensor {
  const inputs: tf.NamedTensorMap = { x, mean: mean ?? x, k: k ?? x };
  return tf.engine().runKernel(KIT_CHANNEL_SUM, inputs, { kind, scale } as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** The batch norm tfjs-layers trains — moments, normalization, gradient — as one op: [normed, mean, variance]. */
function fusedBatchNorm(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, epsilon: number): tf.Tensor[] {
  const rows = x.size / x.shape[3];
  let stats: tf.Tensor[] = [];
  const op = tf.customGrad(((xv: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    // tf.moments: Mean, then Mean of the squared deviations (the kit's Mean: float64 sums times 1/rows).
    const mean = channelSum(xv, 0, 1 / rows);
    const variance = channelSum(xv, 1, 1 / rows, mean);
    const normed = tf.batchNorm(xv as tf.Tensor4D, mean, variance, b, g, epsilon);
    stats = [tf.keep(mean.clone()), tf.keep(variance.clone())];
    save([xv, g, mean, variance]);
    return { value: normed, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => batchNormGrad(dy as tf.Tensor, saved, epsilon, rows) };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const normed = op(x, gamma, beta);
  return [normed, ...stats];
}

/**
 * The gradient of the batch norm above, in tfjs's order: FusedBatchNorm's gradient (dx₁ and the four channel sums),
 * then through the variance's Mean, the Square and the Sub (dd and its sum into the mean's gradient), then through
 * the mean's Mean: dx = (dx₁ + dd) + dm.
 */
function batchNormGrad(dy: tf.Tensor, [x, gamma, mean, variance]: tf.Tensor[], epsilon: number, rows: number): tf.Tensor[] {
  const r = tf.rsqrt(tf.add(variance, tf.scalar(epsilon)));
  const m = tf.mul(tf.mul(tf.mul(r, r), r), tf.scalar(-0.5));
  const nr = tf.mul(r, tf.scalar(-1));
  const [dx1, dMean, dVariance, dGamma, dBeta] = tf.engine().runKernel(KIT_BATCH_NORM_GRAD, { x, dy, mean, scale: gamma, r, m, nr }) as tf.Tensor[];
  const ds = tf.div(dVariance, rows);
  const dMeanTotal = tf.add(dMean, tf.neg(channelSum(x, 2, 1, mean, ds)));
  const dm = tf.div(dMeanTotal, rows);
  const dx = tf.engine().runKernel(KIT_BATCH_NORM_FINISH_DX, { x, mean, ds, dm, dx: dx1 }) as tf.Tensor;
  return [dx, dGamma, dBeta];
}

/** tfjs-layers' moving-average update, as it writes it. */
function movingAverage(variable: tf.LayerVariable, value: tf.Tensor, momentum: number): void {
  tf.tidy(() => {
    const decay = 1 - momentum;
    const orig = variable.read();
    variable.write(tf.sub(orig, tf.mul(tf.sub(orig, value), decay)));
  });
}

function batchNormCall(original: Call): Call {
  return function (this: LayerLike, inputs, kwargs) {
    const layer = this as BatchNormLayer;
    const x = fusable(layer, inputs, kwargs['training'] === true);
    const axis = x == null ? -1 : layer.axis >= 0 ? layer.axis : layer.axis + x.rank;
    if (x == null || axis !== x.rank - 1 || !layer.center || !layer.scale) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const [normed, mean, variance] = fusedBatchNorm(x as tf.Tensor4D, layer.gamma.read(), layer.beta.read(), layer.epsilon);
      movingAverage(layer.movingMean, mean, layer.momentum);
      movingAverage(layer.movingVariance, variance, layer.momentum);
      tf.dispose([mean, variance]);
      return normed;
    });
  };
}

/** tfjs-layers' swish, x · sigmoid(x · 1), as one op with a one-pass gradient. */
const fusedSwish = tf.customGrad(((x: tf.Tensor, save: tf.GradSaveFunc) => {
  const s = tf.sigmoid(x);
  save([x, s]);
  return {
    value: tf.mul(s, x),
    gradFunc: (dy: tf.Tensor | tf.Tensor[], [xs, ss]: tf.Tensor[]) => tf.engine().runKernel(KIT_SWISH_GRAD, { dy: dy as tf.Tensor, x: xs, s: ss }) as tf.Tensor,
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]);

function activationCall(original: Call): Call {
  return function (this: LayerLike, inputs, kwargs) {
    const activation = (this as unknown as { activation: { getClassName(): string } }).activation;
    const x = activation.getClassName() === 'swish' ? fusable(this, inputs, true) : null;
    if (x == null) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      this.invokeCallHook(inputs, kwargs);
      return fusedSwish(x);
    });
  };
}

let patched = false;

/** Patches BatchNormalization and Activation (swish) of tfjs-layers with the fusions above; idempotent. */
export function patchLayersForWasm(): void {
  if (patched) return;
  patched = true;
  const bn = Object.getPrototypeOf(tf.layers.batchNormalization({})) as { call: Call };
  const act = Object.getPrototypeOf(tf.layers.activation({ activation: 'swish' })) as { call: Call };
  bn.call = batchNormCall(bn.call);
  act.call = activationCall(act.call);
}
