/**
 * A converted TF.js graph model as one frozen layer, so a published graph backbone can sit in a functional
 * LayersModel (rescaling → graph → new head) and go through `buildTransferModel`, `train` and the experiments.
 * A graph model's weights are constants in TF.js: the layer has no weights and can never become trainable —
 * asking it to (fine-tuning, training from scratch) is an error that says so.
 */
import * as tf from '@tensorflow/tfjs';

interface Entry {
  graph: tf.GraphModel;
  refs: number;
}

/** Loaded graph models by key; a layer (and each clone of it) holds one reference. */
const GRAPHS = new Map<string, Entry>();

/** Registers a loaded graph model under `key` for `GraphModelLayer`s to use. */
export function registerGraph(key: string, graph: tf.GraphModel): void {
  if (GRAPHS.has(key) && GRAPHS.get(key)!.graph !== graph) throw new Error(`registerGraph: key '${key}' is taken by another graph model`);
  if (!GRAPHS.has(key)) GRAPHS.set(key, { graph, refs: 0 });
}

/** Number of graph models still registered (tests check nothing leaks). */
export function registeredGraphs(): number {
  return GRAPHS.size;
}

interface GraphLayerArgs {
  /** Registry key of the graph model. */
  graphKey: string;
  /** Output node to read (default the model's output). */
  node?: string;
  /** Width of the feature vector. */
  units: number;
  /** What the graph is, for error messages. */
  description?: string;
  name?: string;
  trainable?: boolean;
}

/** A frozen layer running a registered graph model: [n, h, w, 3] → [n, units] (4-D outputs are averaged). */
export class GraphModelLayer extends tf.layers.Layer {
  static readonly className = 'KitGraphModelLayer';
  private readonly graphKey: string;
  private readonly node?: string;
  private readonly units: number;
  private readonly description: string;

  constructor(args: GraphLayerArgs) {
    super({ name: args.name, trainable: false });
    if (args.trainable) throw new Error(this.notTrainable());
    const entry = GRAPHS.get(args.graphKey);
    if (!entry) throw new Error(`GraphModelLayer: no graph model registered as '${args.graphKey}' (load the backbone again)`);
    entry.refs++;
    this.graphKey = args.graphKey;
    this.node = args.node;
    this.units = args.units;
    this.description = args.description ?? args.graphKey;
  }

  private notTrainable(): string {
    return (
      `${this.description ?? 'this backbone'} is a TF.js graph model: its weights are constants in TF.js, so it cannot be fine-tuned ` +
      'or trained from scratch. Use it frozen (strategies freeze / additional-layers), or a layers-format backbone such as mobilenet_v1.'
    );
  }

  override get trainable(): boolean {
    return false;
  }

  override set trainable(value: boolean) {
    if (value) throw new Error(this.notTrainable());
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [s[0], this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const graph = GRAPHS.get(this.graphKey)?.graph;
      if (!graph) throw new Error(`GraphModelLayer '${this.name}': its graph model was disposed`);
      const y = (this.node ? graph.execute(x, this.node) : graph.predict(x)) as tf.Tensor;
      const v = y.rank === 4 ? y.mean([1, 2]) : y.reshape([y.shape[0], -1]);
      if (v.shape[1] !== this.units) throw new Error(`GraphModelLayer '${this.name}': the graph gave ${v.shape[1]} features, expected ${this.units}`);
      return v;
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), graphKey: this.graphKey, node: this.node ?? null, units: this.units, description: this.description, trainable: false };
  }

  /** Frees the graph model once the last layer using it is disposed. */
  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) {
      const entry = GRAPHS.get(this.graphKey);
      if (entry && --entry.refs <= 0) {
        entry.graph.dispose();
        GRAPHS.delete(this.graphKey);
      }
    }
    return result;
  }

  static override fromConfig<T extends tf.serialization.Serializable>(cls: tf.serialization.SerializableConstructor<T>, config: tf.serialization.ConfigDict): T {
    return new cls({ ...config, node: config.node ?? undefined, trainable: false } as never);
  }
}
tf.serialization.registerClass(GraphModelLayer);
