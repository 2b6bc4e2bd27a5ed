/**
 * The shipped source models g = w ∘ c: `data/models/<name>/` holds `model.json` + `weights.bin` (TF.js layers
 * format) and `meta.json` (classes, input shape, recipe, measured accuracy, the weights' SHA-256). `scripts/pretrain.ts`
 * writes them; loading checks meta.json's fields, the weights' hash, and that weights and outputs are finite.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { modelsDir } from '../config';
import { modelFromArtifacts, readModelArtifacts, saveModel } from './storage';
import { assertFiniteOutputs, assertFiniteWeights, checkSourceMeta, checkWeightsHash, sha256Hex } from './validate';

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
  /** SHA-256 of weights.bin (hex), written by saveSourceModel and checked by loadSourceModel. */
  weightsSha256?: string;
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
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(metaPath, 'utf8'));
  } catch (e) {
    throw new Error(`loadSourceModel: ${metaPath} is not valid JSON (${(e as Error).message})`);
  }
  const meta = prefixed(() => checkSourceMeta(raw, metaPath));
  const artifacts = readModelArtifacts(folder);
  prefixed(() => checkWeightsHash(artifacts.weightData as ArrayBuffer, meta.weightsSha256!, path.join(folder, 'weights.bin'), `${metaPath} (weightsSha256)`));
  prefixed(() => assertFiniteWeights(artifacts, folder));
  const model = await modelFromArtifacts(artifacts, folder);
  const inShape = model.inputs[0].shape.slice(1);
  const units = model.outputs[0].shape.at(-1);
  const mismatch = inShape.some((d, i) => d !== meta.inputShape[i])
    ? `${folder} model input [${inShape}] disagrees with meta.json inputShape [${meta.inputShape}]`
    : units !== meta.classes.length ? `${metaPath}: field 'classes' lists ${meta.classes.length} classes but the model has ${units} outputs` : '';
  try {
    if (mismatch) throw new Error(`loadSourceModel: ${mismatch}`);
    // Finite weights can still give NaN (an overflow, a negative variance): one forward pass of two images. In a fresh
    // process it takes the backend's first-use set-up off the first real batch, so loading then using costs ~5–20 ms more.
    prefixed(() => assertFiniteOutputs(model, folder));
  } catch (e) {
    model.dispose();
    throw e;
  }
  return { name, model, meta };
}

/** Runs fn; its error message gets the `loadSourceModel: ` prefix. */
function prefixed<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new Error(`loadSourceModel: ${(e as Error).message}`);
  }
}

/** Writes a source model and its meta.json into `<dir>/<name>/`. */
export async function saveSourceModel(model: tf.LayersModel, meta: SourceMeta, dir = modelsDir()): Promise<string> {
  const folder = path.join(dir, meta.name);
  await saveModel(model, folder);
  const weightsSha256 = sha256Hex(fs.readFileSync(path.join(folder, 'weights.bin')));
  fs.writeFileSync(path.join(folder, 'meta.json'), JSON.stringify({ ...meta, weightsSha256 }, null, 2) + '\n');
  return folder;
}
