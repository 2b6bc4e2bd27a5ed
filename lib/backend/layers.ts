import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { simdKernels } from './simd';
import { KIT_SWISH_GRAD } from './kernels/fused_grads';
import { KIT_BATCH_NORM_BACKWARD, KIT_BATCH_NORM_TRAIN } from './kernels/batch_norm_train';
import { modeSwitch } from './kernels/compose';

/**
 * Training-mode fusions of two tfjs-layers layers on wasm, patched onto their classes when the library loads:
 *
 * - **BatchNormalization**: tfjs runs the moments, the normalization, the moving averages and a gradient of ≈ 45
 *   kernels (15 of them over the whole activation, each an engine call with its bookkeeping) per layer and step; the
 *   fused op runs the same arithmetic as one kernel forward (3 full passes) and one backward (3 passes), the [c]
 *   arithmetic between the passes inside them (lib/backend/kernels/batch_norm_train.ts).
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

const fusion = modeSwitch<boolean>(true);
let fusedCalls = 0;

/** How many layer calls ran fused so far (tests check the fused path ran). */
export function layerFusions(): number {
  return fusedCalls;
}

/** Turns the layer fusions on or off (tests compare both); returns the previous setting. */
export const setLayerFusion = fusion.set;

/** Whether this call of `layer` on `x` may run fused (see above). */
function fusable(layer: LayerLike, inputs: tf.Tensor | tf.Tensor[], training: boolean): tf.Tensor | null {
  const x = Array.isArray(inputs) ? (inputs.length === 1 ? inputs[0] : null) : inputs;
  if (!fusion.get() || !training || x == null || x.dtype !== 'float32' || x.rank !== 4 || x.shape[3]! % 4 !== 0 || tf.getBackend() !== 'wasm') return null;
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

/**
 * The batch norm tfjs-layers trains — moments, normalization, moving averages, gradient — as one op with a
 * one-kernel forward and a one-kernel gradient (lib/backend/kernels/batch_norm_train.ts): the normalized x, and
 * the new moving mean and variance (kept; the caller writes them).
 */
function fusedBatchNorm(layer: BatchNormLayer, x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor[] {
  const { epsilon, momentum } = layer;
  let moving: tf.Tensor[] = [];
  const op = tf.customGrad(((xv: tf.Tensor, g: tf.Tensor, b: tf.Tensor, save: tf.GradSaveFunc) => {
    const inputs = { x: xv, scale: g, offset: b, movingMean: layer.movingMean.read(), movingVariance: layer.movingVariance.read() };
    const attrs = { epsilon, momentum } as unknown as tf.NamedAttrMap;
    const [normed, mean, variance, newMean, newVariance] = tf.engine().runKernel(KIT_BATCH_NORM_TRAIN, inputs, attrs) as tf.Tensor[];
    moving = [tf.keep(newMean), tf.keep(newVariance)];
    save([xv, g, mean, variance]);
    const gradFunc = (dy: tf.Tensor | tf.Tensor[], [xs, gs, ms, vs]: tf.Tensor[]) =>
      tf.engine().runKernel(KIT_BATCH_NORM_BACKWARD, { x: xs, dy: dy as tf.Tensor, mean: ms, variance: vs, scale: gs }, { epsilon } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    return { value: normed, gradFunc };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  const normed = op(x, gamma, beta);
  return [normed, ...moving];
}

function batchNormCall(original: Call): Call {
  return function (this: LayerLike, inputs, kwargs) {
    const layer = this as BatchNormLayer;
    const x = fusable(layer, inputs, kwargs['training'] === true);
    const axis = x == null ? -1 : layer.axis >= 0 ? layer.axis : layer.axis + x.rank;
    if (x == null || axis !== x.rank - 1 || !layer.center || !layer.scale) return original.call(this, inputs, kwargs);
    return tf.tidy(() => {
      const [normed, newMean, newVariance] = fusedBatchNorm(layer, x as tf.Tensor4D, layer.gamma.read(), layer.beta.read());
      layer.movingMean.write(newMean);
      layer.movingVariance.write(newVariance);
      tf.dispose([newMean, newVariance]);
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
