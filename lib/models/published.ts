/**
 * Published ImageNet backbones in TF.js format, loaded over HTTP(S) with tfjs's own http IO (Node 20's fetch),
 * preprocessed the way they were trained, and cut for features. Needs internet (the classroom usually has it;
 * this build machine does not): offline, loading fails fast with a message naming the URL.
 */
import * as tf from '@tensorflow/tfjs';

/** A known published backbone: where it lives, its format, preprocessing and feature cut. */
export interface BackboneSpec {
  url: string;
  /** 'layers' = tf.loadLayersModel (cut at a named layer); 'graph' = tf.loadGraphModel (a named output node). */
  format: 'layers' | 'graph';
  /** The URL is a TF Hub / Kaggle Models handle (tfjs appends `model.json?tfjs-format=file`). */
  fromTFHub?: boolean;
  inputSize: number;
  /** Pixel range the network expects: [0,1] (TF Hub image convention) or [-1,1] (Keras MobileNet). */
  range: '[0,1]' | '[-1,1]';
  /** Layer name (layers) or output node name (graph) where features are taken; undefined = the model's output. */
  cutAt?: string;
  description: string;
}

/** Backbones the kit knows by name. */
export const PUBLISHED_BACKBONES: Record<string, BackboneSpec> = {
  // MobileNet V2 (width 1.0, 224 px) feature vector, TF.js graph model on TF Hub (now served by Kaggle Models:
  // https://www.kaggle.com/models/google/mobilenet-v2/tfJs/100-224-feature-vector). Output: 1280 features.
  mobilenet_v2: {
    url: 'https://tfhub.dev/google/tfjs-model/imagenet/mobilenet_v2_100_224/feature_vector/3/default/1',
    format: 'graph',
    fromTFHub: true,
    inputSize: 224,
    range: '[0,1]',
    description: 'MobileNet V2 1.0 224, ImageNet feature vector (1280), TF Hub/Kaggle graph model, inputs in [0,1]',
  },
  // MobileNet V1 (width 0.25, 224 px), Keras layers model used by tfjs-examples (webcam transfer learning);
  // cut at conv_pw_13_relu: 7×7×256, pooled to 256 features.
  mobilenet_v1_025: {
    url: 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.25_224/model.json',
    format: 'layers',
    inputSize: 224,
    range: '[-1,1]',
    cutAt: 'conv_pw_13_relu',
    description: 'MobileNet V1 0.25 224, ImageNet Keras layers model (tfjs-models), inputs in [-1,1]',
  },
};

/** Options of `loadPublishedBackbone`: a known `name`, or a `url` with its format and preprocessing. */
export interface PublishedBackboneOptions {
  name?: string;
  url?: string;
  format?: 'layers' | 'graph';
  fromTFHub?: boolean;
  inputSize?: number;
  range?: '[0,1]' | '[-1,1]';
  cutAt?: string;
  /** Give up on the network after this many milliseconds (default 15 s). */
  timeoutMs?: number;
}

/** A loaded backbone: `features(images in [0,1])` resizes, rescales and returns [n, d] features. */
export interface PublishedBackbone {
  name: string;
  url: string;
  format: 'layers' | 'graph';
  inputSize: number;
  range: '[0,1]' | '[-1,1]';
  /** For layers models: the base cut at `cutAt` (pooled to a vector); usable with `buildTransferModel`. */
  base?: tf.LayersModel;
  graph?: tf.GraphModel;
  /** Resize to inputSize and map [0,1] pixels to the network's range. */
  preprocess(images: tf.Tensor4D): tf.Tensor4D;
  /** Preprocess and run the backbone: [n, features]. */
  features(images: tf.Tensor4D): tf.Tensor2D;
  dispose(): void;
}

/** A fetch that gives up after `timeoutMs` and says which URL could not be reached. */
function fetchWithTimeout(timeoutMs: number): typeof fetch {
  return async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    try {
      return await fetch(input, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (e) {
      const cause = (e as Error & { cause?: Error }).cause?.message ?? (e as Error).message;
      throw new Error(`loadPublishedBackbone: cannot fetch ${url} (${cause}) — is this machine online? Published backbones need internet.`);
    }
  };
}

/** Loads a published TF.js backbone (default MobileNet V2 feature vector) and prepares it for feature extraction. */
export async function loadPublishedBackbone(opts: PublishedBackboneOptions = {}): Promise<PublishedBackbone> {
  const known = opts.name ? PUBLISHED_BACKBONES[opts.name] : opts.url ? undefined : PUBLISHED_BACKBONES.mobilenet_v2;
  if (opts.name && !known) {
    throw new Error(`loadPublishedBackbone: unknown backbone '${opts.name}'; known: ${Object.keys(PUBLISHED_BACKBONES).join(', ')} (or pass url)`);
  }
  const spec: BackboneSpec = {
    url: opts.url ?? known!.url,
    format: opts.format ?? known?.format ?? 'layers',
    fromTFHub: opts.fromTFHub ?? known?.fromTFHub ?? false,
    inputSize: opts.inputSize ?? known?.inputSize ?? 224,
    range: opts.range ?? known?.range ?? '[0,1]',
    cutAt: opts.cutAt ?? known?.cutAt,
    description: known?.description ?? opts.url ?? '',
  };
  const name = opts.name ?? (opts.url ? opts.url : 'mobilenet_v2');
  const fetchFunc = fetchWithTimeout(opts.timeoutMs ?? 15000);
  const preprocess = (images: tf.Tensor4D): tf.Tensor4D =>
    tf.tidy(() => {
      const sized = images.shape[1] === spec.inputSize && images.shape[2] === spec.inputSize ? images : tf.image.resizeBilinear(images, [spec.inputSize, spec.inputSize]);
      const rgb = sized.shape[3] === 1 ? tf.tile(sized, [1, 1, 1, 3]) : sized;
      return (spec.range === '[-1,1]' ? rgb.mul(2).sub(1) : rgb.clone()) as tf.Tensor4D;
    });

  if (spec.format === 'layers') {
    const full = await tf.loadLayersModel(spec.url, { fetchFunc });
    let base = full;
    if (spec.cutAt) {
      let layer: tf.layers.Layer;
      try {
        layer = full.getLayer(spec.cutAt);
      } catch {
        throw new Error(`loadPublishedBackbone: ${spec.url} has no layer '${spec.cutAt}'`);
      }
      let out = layer.output as tf.SymbolicTensor;
      if (out.shape.length === 4) out = tf.layers.globalAveragePooling2d({ name: 'cut_pool' }).apply(out) as tf.SymbolicTensor;
      base = tf.model({ inputs: full.inputs, outputs: out, name: `${name}_base` });
    }
    return {
      name,
      url: spec.url,
      format: 'layers',
      inputSize: spec.inputSize,
      range: spec.range,
      base,
      preprocess,
      features: (images) => tf.tidy(() => base.predict(preprocess(images)) as tf.Tensor2D),
      dispose: () => full.dispose(),
    };
  }
  const graph = await tf.loadGraphModel(spec.url, { fetchFunc, fromTFHub: spec.fromTFHub });
  return {
    name,
    url: spec.url,
    format: 'graph',
    inputSize: spec.inputSize,
    range: spec.range,
    graph,
    preprocess,
    features: (images) =>
      tf.tidy(() => {
        const x = preprocess(images);
        const y = (spec.cutAt ? graph.execute(x, spec.cutAt) : graph.predict(x)) as tf.Tensor;
        return (y.rank === 4 ? y.mean([1, 2]) : y.reshape([y.shape[0], -1])) as tf.Tensor2D;
      }),
    dispose: () => graph.dispose(),
  };
}
