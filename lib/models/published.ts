/**
 * Published ImageNet backbones in TF.js format: each has several known locations (the tfjs-models storage bucket,
 * Kaggle Models, TF Hub), brought once into the cache by lib/models/fetch-model (redirects, resume, SHA-256,
 * offline folders) and loaded from disk — tfjs's own HTTP loader is not used, so a 403 on one host falls through
 * to the next. `loadPublishedBackbone` gives features; `resolvePublishedSource` gives a kit source model (input
 * [size, size, 3] in [0, 1], the backbone's own preprocessing inside, output `features`) for `buildTransferModel`,
 * `train` and the experiments. See docs/models.md §5 for which backbone and why.
 */
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { cacheDir } from '../config';
import { fetchFromDir, mirrorLocation, offlineAdvice, type FetchProgress, type NetOptions } from '../data/download';
import { fetchTfjsModel, readTfjsArtifacts, type FetchedModel, type ModelLocation } from './fetch-model';

export type { ModelLocation } from './fetch-model';

/** A known published backbone: what it is and where its copies live (tried in order). */
export interface BackboneSpec {
  description: string;
  /** Side of the square input the network was trained at. */
  inputSize: number;
  /** Width of the feature vector. */
  features: number;
  /** Layers format only: a layer name's block number is this pattern's first group (fine-tuning "the top blocks"). */
  blockPattern?: RegExp;
  locations: ModelLocation[];
  /** The first location's URL, format, range and cut (kept for code that reads one URL). */
  url: string;
  format: 'layers' | 'graph';
  range: '[0,1]' | '[-1,1]';
  cutAt?: string;
}

const spec = (s: Omit<BackboneSpec, 'url' | 'format' | 'range' | 'cutAt'>): BackboneSpec => ({
  ...s,
  url: s.locations[0].url,
  format: s.locations[0].format,
  range: s.locations[0].range,
  cutAt: s.locations[0].cutAt,
});

const TFHUB = 'https://tfhub.dev/google/tfjs-model/imagenet';
const KAGGLE = 'https://www.kaggle.com/models/google';
const BUCKET = 'https://storage.googleapis.com';
const MOBILENET_V1_BLOCKS = /^conv_(?:dw|pw)_(\d+)(?:_|$)/;

/** Backbones the kit knows by name (sources: docs/models.md §5). */
export const PUBLISHED_BACKBONES: Record<string, BackboneSpec> = {
  // MobileNet V2 1.0-224 (TF-Slim checkpoint mobilenet_v2_1.0_224), published in TF.js only as converted graphs.
  mobilenet_v2: spec({
    description: 'MobileNet V2 1.0-224, ImageNet, 1280 features (TF.js graph model: frozen only), inputs in [0,1]',
    inputSize: 224,
    features: 1280,
    locations: [
      // the classification graph @tensorflow-models/mobilenet documents, cut at its embedding node
      { id: 'tfjs-models', label: 'tfjs-models bucket', url: `${BUCKET}/tfjs-models/savedmodel/mobilenet_v2_1.0_224/model.json`, format: 'graph', range: '[0,1]', cutAt: 'module_apply_default/MobilenetV2/Logits/AvgPool' },
      { id: 'kaggle', label: 'Kaggle Models', url: `${KAGGLE}/mobilenet-v2/TfJs/100-224-feature-vector/3/model.json?tfjs-format=file`, format: 'graph', range: '[0,1]' },
      { id: 'tfhub', label: 'TF Hub', url: `${TFHUB}/mobilenet_v2_100_224/feature_vector/3/default/1/model.json?tfjs-format=file`, format: 'graph', range: '[0,1]' },
      { id: 'tfhub-bucket', label: "TF Hub's storage bucket", url: `${BUCKET}/tfhub-tfjs-modules/google/tfjs-model/imagenet/mobilenet_v2_100_224/feature_vector/3/default/1/model.json`, format: 'graph', range: '[0,1]' },
    ],
  }),
  // MobileNet V1 1.0-224 as a Keras layers model (trainable: the lecture's fine-tuning), graph copies as fallbacks.
  mobilenet_v1: spec({
    description: 'MobileNet V1 1.0-224, ImageNet, 1024 features (Keras layers model: fine-tunable), inputs in [-1,1]',
    inputSize: 224,
    features: 1024,
    blockPattern: MOBILENET_V1_BLOCKS,
    locations: [
      { id: 'tfjs-models', label: 'tfjs-models bucket', url: `${BUCKET}/tfjs-models/tfjs/mobilenet_v1_1.0_224/model.json`, format: 'layers', range: '[-1,1]', cutAt: 'conv_pw_13_relu' },
      { id: 'kaggle', label: 'Kaggle Models (graph: frozen only)', url: `${KAGGLE}/mobilenet-v1/TfJs/100-224-feature-vector/2/model.json?tfjs-format=file`, format: 'graph', range: '[0,1]' },
      { id: 'tfhub', label: 'TF Hub (graph: frozen only)', url: `${TFHUB}/mobilenet_v1_100_224/feature_vector/3/default/1/model.json?tfjs-format=file`, format: 'graph', range: '[0,1]' },
    ],
  }),
  // MobileNet V1 0.25-224, the Keras layers model tfjs-examples' webcam transfer learning uses (small and fast).
  mobilenet_v1_025: spec({
    description: 'MobileNet V1 0.25-224, ImageNet, 256 features (Keras layers model: fine-tunable), inputs in [-1,1]',
    inputSize: 224,
    features: 256,
    blockPattern: MOBILENET_V1_BLOCKS,
    locations: [
      { id: 'tfjs-models', label: 'tfjs-models bucket', url: `${BUCKET}/tfjs-models/tfjs/mobilenet_v1_0.25_224/model.json`, format: 'layers', range: '[-1,1]', cutAt: 'conv_pw_13_relu' },
      { id: 'tfhub', label: 'TF Hub (graph: frozen only)', url: `${TFHUB}/mobilenet_v1_025_224/feature_vector/3/default/1/model.json?tfjs-format=file`, format: 'graph', range: '[0,1]' },
    ],
  }),
};

/** True when `name` is a published backbone the kit knows. */
export function isPublishedBackbone(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(PUBLISHED_BACKBONES, name);
}

/** Where and how to get a backbone (every field optional; network options as in lib/data/download). */
export interface PublishedBackboneOptions extends NetOptions {
  /** A known name (default 'mobilenet_v2'), or a spec of your own. */
  name?: string;
  spec?: BackboneSpec;
  /** One ad-hoc location instead: a model.json URL (or a TF Hub/Kaggle handle with `fromTFHub`). */
  url?: string;
  format?: 'layers' | 'graph';
  fromTFHub?: boolean;
  inputSize?: number;
  range?: '[0,1]' | '[-1,1]';
  cutAt?: string;
  /** An offline folder made by `npm run fetch -- NAME --out DIR` (default KIT_FETCH_FROM): no network. */
  from?: string;
  /** Cache folder (default `<cacheDir>/backbones`). */
  dir?: string;
  progressBar?: boolean;
  onProgress?: (p: FetchProgress) => void;
}

/** The spec and name a call resolves to. */
function resolveSpec(opts: PublishedBackboneOptions): { name: string; spec: BackboneSpec } {
  if (opts.spec) return { name: opts.name ?? 'custom', spec: opts.spec };
  if (opts.url) {
    const url = opts.fromTFHub ? `${opts.url.replace(/\/$/, '')}/model.json?tfjs-format=file` : opts.url;
    const loc: ModelLocation = { id: 'url', label: 'given url', url, format: opts.format ?? 'layers', range: opts.range ?? '[0,1]', cutAt: opts.cutAt };
    const name = opts.name ?? `url-${Buffer.from(url).toString('base64url').slice(-24)}`;
    return { name, spec: spec({ description: url, inputSize: opts.inputSize ?? 224, features: 0, locations: [loc] }) };
  }
  const name = opts.name ?? 'mobilenet_v2';
  const known = PUBLISHED_BACKBONES[name];
  if (!known) throw new Error(`loadPublishedBackbone: unknown backbone '${name}'; known: ${Object.keys(PUBLISHED_BACKBONES).join(', ')} (or pass url)`);
  return { name, spec: known };
}

/** A loaded backbone: `features(images in [0,1])` resizes, rescales and returns [n, d] features. */
export interface PublishedBackbone {
  name: string;
  /** The location the weights came from (its URL), and where they are on disk. */
  url: string;
  location: ModelLocation;
  dir: string;
  format: 'layers' | 'graph';
  inputSize: number;
  range: '[0,1]' | '[-1,1]';
  /** Layers format: the network cut at the feature layer (pooled to a vector), inputs in `range`. */
  base?: tf.LayersModel;
  graph?: tf.GraphModel;
  /** False for graph models (their weights are constants in TF.js). */
  fineTunable: boolean;
  /** Resize to inputSize and map [0,1] pixels to the network's range. */
  preprocess(images: tf.Tensor4D): tf.Tensor4D;
  /** Preprocess and run the backbone: [n, features]. */
  features(images: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** The network cut at `cutAt` (its own input), 4-D outputs pooled to a vector by `cut_pool`. */
function cutModel(full: tf.LayersModel, cutAt: string | undefined, name: string): tf.LayersModel {
  let out = full.outputs[0];
  if (cutAt) {
    if (!full.layers.some((l) => l.name === cutAt)) throw new Error(`published backbone ${name}: model '${full.name}' has no layer '${cutAt}'`);
    out = full.getLayer(cutAt).output as tf.SymbolicTensor;
  }
  if (out.shape.length === 4) out = tf.layers.globalAveragePooling2d({ name: 'cut_pool' }).apply(out) as tf.SymbolicTensor;
  return tf.model({ inputs: full.inputs, outputs: out, name: `${name}_base` });
}

const preprocessFor = (inputSize: number, range: '[0,1]' | '[-1,1]') => (images: tf.Tensor4D): tf.Tensor4D =>
  tf.tidy(() => {
    const sized = images.shape[1] === inputSize && images.shape[2] === inputSize ? images : tf.image.resizeBilinear(images, [inputSize, inputSize]);
    const rgb = sized.shape[3] === 1 ? tf.tile(sized, [1, 1, 1, 3]) : sized;
    return (range === '[-1,1]' ? rgb.mul(2).sub(1) : rgb.clone()) as tf.Tensor4D;
  });

/** Brings a published backbone into the cache (or checks it in an offline folder) without loading it: `{ dir, location }`. */
export async function fetchBackbone(opts: PublishedBackboneOptions = {}): Promise<FetchedModel & { name: string; spec: BackboneSpec }> {
  const { name, spec: s } = resolveSpec(opts);
  const mirrored = opts.url || opts.spec ? s.locations : [...s.locations.flatMap((l) => mirrorLocation(`backbones/${name}/${l.id}/model.json`).map((m) => ({ ...l, ...m, id: l.id }))), ...s.locations];
  const got = await fetchTfjsModel(name, mirrored, {
    ...opts,
    from: fetchFromDir(opts.from),
    dir: opts.dir ?? path.join(cacheDir(), 'backbones'),
    advice: offlineAdvice(name),
  });
  return { ...got, name, spec: s };
}

/** Loads a published TF.js backbone (default MobileNet V2) from the cache, an offline folder, or the first location that works. */
export async function loadPublishedBackbone(opts: PublishedBackboneOptions = {}): Promise<PublishedBackbone> {
  const { name, spec: s, ...got } = await fetchBackbone(opts);
  const loc = got.location;
  const inputSize = s.inputSize;
  const artifacts = readTfjsArtifacts(got.dir);
  const common = { name, url: loc.url, location: loc, dir: got.dir, inputSize, range: loc.range, preprocess: preprocessFor(inputSize, loc.range) };
  if (loc.format === 'layers') {
    const full = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    const base = cutModel(full, loc.cutAt, name);
    // the classifier beyond the cut (e.g. MobileNet's 1024×1000 conv_preds) is never used: free it now
    const kept = new Set(base.layers);
    for (const l of full.layers) if (!kept.has(l)) l.weights.forEach((w) => w.dispose());
    return {
      ...common,
      format: 'layers',
      base,
      fineTunable: true,
      features: (images) => tf.tidy(() => base.predict(common.preprocess(images)) as tf.Tensor2D),
      dispose: () => base.dispose(),
    };
  }
  const graph = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  return {
    ...common,
    format: 'graph',
    graph,
    fineTunable: false,
    features: (images) =>
      tf.tidy(() => {
        const x = common.preprocess(images);
        const y = (loc.cutAt ? graph.execute(x, loc.cutAt) : graph.predict(x)) as tf.Tensor;
        return (y.rank === 4 ? y.mean([1, 2]) : y.reshape([y.shape[0], -1])) as tf.Tensor2D;
      }),
    dispose: () => graph.dispose(),
  };
}
