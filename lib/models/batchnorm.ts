/**
 * Batch normalization while transferring. A BN layer keeps trained scale/shift weights (gamma, beta) and running
 * statistics (moving mean and variance). In training mode it normalises with the current batch's statistics and
 * updates the running ones; in inference mode it uses the running ones and updates nothing.
 *
 * tfjs's BatchNormalization, unlike Keras 2, keeps training mode (batch statistics, updated running statistics)
 * under `training: true` even when the layer is frozen — PyTorch's trap too: `requires_grad = False` does not stop
 * `model.train()` from updating running statistics. The kit's transfer models therefore choose per BN layer:
 *   - a frozen BN layer always runs in inference mode;
 *   - a trainable one follows the model's `batchNorm` mode: 'train' (batch statistics; tfjs's and PyTorch's
 *     default) or 'frozen-stats' (inference mode even though gamma/beta train — the Keras transfer-learning
 *     guide's advice when unfreezing a base for fine-tuning).
 */
import * as tf from '@tensorflow/tfjs';

/** How the trainable BN layers of a transfer model's base behave during training. */
export type BatchNormMode = 'train' | 'frozen-stats';
/** The two modes, for checks and command-line choices. */
export const BATCH_NORM_MODES: readonly BatchNormMode[] = ['train', 'frozen-stats'];

interface PatchedBn {
  __kitBnMode?: BatchNormMode;
}

/** The BatchNormalization layers of a model (nested models included). */
export function batchNormLayers(model: tf.LayersModel): tf.layers.Layer[] {
  const out: tf.layers.Layer[] = [];
  for (const layer of model.layers) {
    if (layer instanceof tf.LayersModel) out.push(...batchNormLayers(layer));
    else if (layer.getClassName() === 'BatchNormalization') out.push(layer);
  }
  return out;
}

function patch(layer: tf.layers.Layer & PatchedBn, mode: BatchNormMode): void {
  if (layer.__kitBnMode === undefined) {
    const call = layer.call.bind(layer);
    layer.call = (inputs, kwargs) => {
      const inference = !layer.trainable || layer.__kitBnMode === 'frozen-stats';
      return call(inputs, inference ? { ...kwargs, training: false } : kwargs);
    };
  }
  layer.__kitBnMode = mode;
}

/**
 * Makes every BN layer of `model` run in inference mode whenever it is not trainable (checked at each call, so
 * unfreezing later works) and, when trainable, as `mode` says. Calling it again changes the mode.
 */
export function setBatchNormMode(model: tf.LayersModel, mode: BatchNormMode): void {
  if (!BATCH_NORM_MODES.includes(mode)) throw new Error(`batchNorm: expected one of ${BATCH_NORM_MODES.join(', ')}, got ${JSON.stringify(mode)}`);
  for (const layer of batchNormLayers(model)) patch(layer, mode);
}

/** The BN mode of a model's trainable BN layers, or null when it has no BN layer the kit manages. */
export function batchNormMode(model: tf.LayersModel): BatchNormMode | null {
  const modes = new Set(batchNormLayers(model).map((l) => (l as tf.layers.Layer & PatchedBn).__kitBnMode));
  if (modes.size !== 1) return null;
  return [...modes][0] ?? null;
}

/** Frozen BN layers run in inference mode; BN layers not yet managed by the kit get mode 'train' (tfjs's behaviour). */
export function keepFrozenBatchNormInInference(model: tf.LayersModel): void {
  for (const layer of batchNormLayers(model)) {
    const l = layer as tf.layers.Layer & PatchedBn;
    patch(l, l.__kitBnMode ?? 'train');
  }
}

/** Number of running-statistic values (moving mean and variance) in a model — non-trainable, never trained by gradients. */
export function countBatchNormStats(model: tf.LayersModel): number {
  let n = 0;
  for (const l of model.layers) {
    for (const w of l.weights) if (/moving_(mean|variance)/.test(w.originalName)) n += (w.shape as number[]).reduce((a, b) => a * b, 1);
  }
  return n;
}
