/**
 * The shipped source models g = w ∘ c: `data/models/<name>/` holds `model.json` + `weights.bin` (TF.js layers
 * format) and `meta.json` (classes, input shape, recipe, measured accuracy). `scripts/pretrain.ts` writes them.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { modelsDir } from '../config';
import { loadModel, saveModel } from './storage';

/** The default source: digits-m 0–4 (colour textured digits), where transfer visibly matters. */
export const DEFAULT_SOURCE = 'digits-m-0-4';

/** What `meta.json` records about a source model. */
export interface SourceMeta {
  name: string;
  /** The view it was trained on (`loadView` name). */
  dataset: string;
  /** Class names, in output order. */
  classes: string[];
  /** [height, width, channels]. */
  inputShape: [number, number, number];
  /** How pixels are scaled before the model: here always float32 in [0, 1], no mean/std. */
  normalization: string;
  /** e.g. 'plain-cnn gap [16,32,64,128]'. */
  architecture: string;
  /** Name of the feature layer (the default cut). */
  featureLayer: string;
  recipe: { epochs: number; lr: number; batchSize: number; optimizer: string; trainImages: number; valImages: number };
  seed: number;
  params: number;
  /** Source-task accuracy on its train and validation images. */
  trainAccuracy: number;
  valAccuracy: number;
  trainSeconds: number;
  backend: string;
  date: string;
}

/** A loaded source model with its metadata. */
export interface SourceModel {
  name: string;
  model: tf.LayersModel;
  meta: SourceMeta;
}

/** Names of the source models present in `dir` (default `data/models`). */
export function listSourceModels(dir = modelsDir()): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((n) => fs.existsSync(path.join(dir, n, 'meta.json')))
    .sort();
}

/** Loads `data/models/<name>/` (or `<dir>/<name>/`): the model and its meta.json. */
export async function loadSourceModel(name: string = DEFAULT_SOURCE, dir = modelsDir()): Promise<SourceModel> {
  const folder = path.join(dir, name);
  if (!fs.existsSync(folder)) {
    const have = listSourceModels(dir);
    throw new Error(
      `loadSourceModel: no source model '${name}' at ${folder} (available: ${have.join(', ') || 'none'}; run \`npm run pretrain\` to train them)`,
    );
  }
  const metaPath = path.join(folder, 'meta.json');
  if (!fs.existsSync(metaPath)) throw new Error(`loadSourceModel: ${metaPath} is missing`);
  let meta: SourceMeta;
  try {
    meta = JSON.parse(fs.readFileSync(metaPath, 'utf8')) as SourceMeta;
  } catch (e) {
    throw new Error(`loadSourceModel: ${metaPath} is not valid JSON (${(e as Error).message})`);
  }
  const model = await loadModel(folder);
  const inShape = model.inputs[0].shape.slice(1);
  if (meta.inputShape && inShape.some((d, i) => d !== meta.inputShape[i])) {
    throw new Error(`loadSourceModel: ${folder} model input [${inShape}] disagrees with meta.json inputShape [${meta.inputShape}]`);
  }
  return { name, model, meta };
}

/** Writes a source model and its meta.json into `<dir>/<name>/`. */
export async function saveSourceModel(model: tf.LayersModel, meta: SourceMeta, dir = modelsDir()): Promise<string> {
  const folder = path.join(dir, meta.name);
  await saveModel(model, folder);
  fs.writeFileSync(path.join(folder, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  return folder;
}
