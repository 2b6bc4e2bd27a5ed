/**
 * A published ImageNet backbone as a kit source model: input [size, size, 3] in [0, 1] (as every kit loader gives),
 * the backbone's own preprocessing as its first layer, the network up to its feature cut, and a layer named
 * `features` at the end — so `buildTransferModel`, `train`, `compareStrategies` and the notebooks use it like the
 * shipped sources. Layers-format backbones can fine-tune their top blocks; graph-format ones stay frozen.
 */
import * as tf from '@tensorflow/tfjs';
import { FEATURE_LAYER } from './zoo';
import { GraphModelLayer, registerGraph } from './graph-layer';
import { PUBLISHED_BACKBONES, loadPublishedBackbone, type PublishedBackboneOptions } from './published';
import type { ModelLocation } from './fetch-model';

/** A published backbone ready for transfer (see the module comment). */
export interface PublishedSource {
  name: string;
  /** image [0,1] → rescaling → backbone → `features` [n, d]; a plain tf.LayersModel. */
  model: tf.LayersModel;
  /** Which copy was loaded (its URL, format, range). */
  location: ModelLocation;
  format: 'layers' | 'graph';
  /** False for graph models: fine-tuning and training from scratch are impossible in TF.js. */
  fineTunable: boolean;
  inputSize: number;
  /** One line: which network, from where, how preprocessed. */
  description: string;
  /** Names of the model's layers in its top `k` blocks (empty for graph models or unknown block names). */
  topBlockLayers(k: number): string[];
  dispose(): void;
}

let graphCounter = 0;

/**
 * Loads a published backbone (e.g. 'mobilenet_v1') as a kit source model. Network, cache and offline options as
 * in `loadPublishedBackbone`. Example: `const src = await resolvePublishedSource('mobilenet_v1');
 * buildTransferModel(src.model, { strategy: 'freeze', numClasses: 2, seed: 42 })`.
 */
export async function resolvePublishedSource(backbone: string | PublishedBackboneOptions = 'mobilenet_v1'): Promise<PublishedSource> {
  const opts = typeof backbone === 'string' ? { name: backbone } : backbone;
  const bb = await loadPublishedBackbone(opts);
  const spec = opts.spec ?? (opts.name ? PUBLISHED_BACKBONES[opts.name] : undefined);
  const size = bb.base ? (bb.base.inputs[0].shape[1] as number) : bb.inputSize;
  const input = tf.input({ shape: [size, size, 3], name: 'image' });
  // The backbone's own preprocessing travels with the model: kit images are [0,1].
  const x = bb.range === '[-1,1]' ? (tf.layers.rescaling({ scale: 2, offset: -1, name: 'preprocess' }).apply(input) as tf.SymbolicTensor) : input;
  let flat: tf.LayersModel;
  if (bb.base) flat = flatten(bb.base, input, x);
  else {
    const key = `${bb.name}#${++graphCounter}`;
    registerGraph(key, bb.graph!);
    const units = (spec?.features ?? 0) || (tf.tidy(() => bb.features(tf.zeros([1, size, size, 3]))).shape[1] as number);
    const layer = new GraphModelLayer({ graphKey: key, node: bb.location.cutAt, units, name: FEATURE_LAYER, description: `${bb.name} (${bb.location.label})` });
    flat = tf.model({ inputs: input, outputs: layer.apply(x) as tf.SymbolicTensor, name: `${bb.name}_source` });
  }
  const pattern = spec?.blockPattern;
  return {
    name: bb.name,
    model: flat,
    location: bb.location,
    format: bb.format,
    fineTunable: bb.fineTunable,
    inputSize: size,
    description: `${spec?.description ?? bb.name}; loaded from ${bb.location.label} (${bb.location.format} model), inputs ${bb.range} inside the model`,
    topBlockLayers: (k) => (bb.base && pattern ? topBlocks(flat, pattern, k) : []),
    // `model.dispose()` alone frees everything too (layers: the weights it shares with the backbone; graph: the
    // graph, once the last layer using it — transfer models cloned from this source included — is disposed).
    dispose: () => flat.dispose(),
  };
}

/** The same network with the backbone's layers at top level (not nested), so layers can be frozen one by one. */
function flatten(base: tf.LayersModel, input: tf.SymbolicTensor, x: tf.SymbolicTensor): tf.LayersModel {
  const map = new Map<number, tf.SymbolicTensor>([[base.inputs[0].id, x]]);
  let last = x;
  for (const layer of base.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    const node = layer.inboundNodes[0];
    const ins = node.inputTensors.map((t) => map.get(t.id));
    if (ins.some((t) => t === undefined)) throw new Error(`resolvePublishedSource: cannot rebuild layer '${layer.name}' of ${base.name} (its inputs come later)`);
    const out = layer.apply(ins.length === 1 ? ins[0]! : (ins as tf.SymbolicTensor[])) as tf.SymbolicTensor;
    // Each symbolic call counts a reference; the backbone's own model is dropped, so the source owns the layer:
    // one `dispose()` of the source must free it (as buildTransferModel does for its head).
    (layer as unknown as { _refCount: number })._refCount = 1;
    map.set(node.outputTensors[0].id, out);
    last = out;
  }
  const features = tf.layers.activation({ activation: 'linear', name: FEATURE_LAYER }).apply(last) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: features, name: `${base.name.replace(/_base$/, '')}_source` });
}

/** Layer names in the `k` highest-numbered blocks (block number = `pattern`'s first group). */
function topBlocks(model: tf.LayersModel, pattern: RegExp, k: number): string[] {
  const blockOf = (name: string) => {
    const m = pattern.exec(name);
    return m ? Number(m[1]) : null;
  };
  const numbers = [...new Set(model.layers.map((l) => blockOf(l.name)).filter((b): b is number => b !== null))].sort((a, b) => a - b);
  const top = new Set(numbers.slice(Math.max(0, numbers.length - k)));
  return model.layers.filter((l) => top.has(blockOf(l.name) as number)).map((l) => l.name);
}
