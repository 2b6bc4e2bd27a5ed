/**
 * Storing models (lecture §2), in TensorFlow.js's own layers format so any TF.js program reads them:
 *  - architecture + weights: `model.json` (topology + weights manifest) + `weights.bin` — `saveModel`/`loadModel`;
 *  - weights only: `weights.json` (names, shapes, dtypes) + `weights.bin` — `saveWeights`/`loadWeightsInto`,
 *    which needs the same architecture declared again in code (like a PyTorch `state_dict`).
 * Both record the SHA-256 of weights.bin (`weightsSha256` in model.json / weights.json), checked when loading.
 * The plain `@tensorflow/tfjs` package has no `file://` handler (that one ships with tfjs-node), so the
 * handlers here use Node's `fs` with `tf.io.withSaveHandler` / `tf.io.fromMemory`.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { checkModelJson, checkWeightEntry, checkWeightsHash, sha256Hex } from './validate';

const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';
const WEIGHTS_JSON = 'weights.json';

/** Concatenate tfjs weight data (one buffer or several) into one ArrayBuffer. */
function joinWeightData(data: tf.io.WeightData | undefined): ArrayBuffer {
  if (data == null) return new ArrayBuffer(0);
  return Array.isArray(data) ? tf.io.CompositeArrayBuffer.join(data) : data;
}

/** An ArrayBuffer holding exactly a file's bytes. */
function readBuffer(file: string): ArrayBuffer {
  const b = fs.readFileSync(file);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** An IOHandler writing `model.json` + `weights.bin` into `dir` (the TF.js layers format). */
export function fileSaveHandler(dir: string): tf.io.IOHandler {
  return tf.io.withSaveHandler(async (artifacts) => {
    fs.mkdirSync(dir, { recursive: true });
    const weights = joinWeightData(artifacts.weightData);
    const modelJson: tf.io.ModelJSON = {
      modelTopology: artifacts.modelTopology as tf.io.ModelJSON['modelTopology'],
      format: artifacts.format ?? 'layers-model',
      generatedBy: artifacts.generatedBy ?? `TensorFlow.js tfjs-layers v${tf.version_layers}`,
      convertedBy: artifacts.convertedBy ?? null,
      weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
    };
    if (artifacts.trainingConfig) modelJson.trainingConfig = artifacts.trainingConfig;
    if (artifacts.userDefinedMetadata) modelJson.userDefinedMetadata = artifacts.userDefinedMetadata;
    // An extra top-level field: TF.js readers ignore it; loadModel checks it.
    fs.writeFileSync(path.join(dir, MODEL_JSON), JSON.stringify({ ...modelJson, weightsSha256: sha256Hex(weights) }));
    fs.writeFileSync(path.join(dir, WEIGHTS_BIN), Buffer.from(weights));
    return {
      modelArtifactsInfo: {
        dateSaved: new Date(),
        modelTopologyType: 'JSON',
        modelTopologyBytes: JSON.stringify(artifacts.modelTopology).length,
        weightSpecsBytes: JSON.stringify(artifacts.weightSpecs).length,
        weightDataBytes: weights.byteLength,
      },
    };
  });
}

/** Parses a JSON file, or throws naming it (`what` prefixes the message). */
function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${what}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

/**
 * Reads `dir/model.json` (checked against the TF.js format, errors naming the field) and the weight files its
 * manifest names into model artifacts; the weights must have the size the manifest describes and, when model.json
 * records one, its SHA-256.
 */
export function readModelArtifacts(dir: string): tf.io.ModelArtifacts {
  const jsonPath = path.join(dir, MODEL_JSON);
  if (!fs.existsSync(jsonPath)) throw new Error(`loadModel: no ${MODEL_JSON} in ${dir}`);
  let json: ReturnType<typeof checkModelJson>;
  try {
    json = checkModelJson(readJson(jsonPath, 'loadModel'), jsonPath);
  } catch (e) {
    throw new Error(`loadModel: ${(e as Error).message.replace(/^loadModel: /, '')}`);
  }
  const specs: tf.io.WeightsManifestEntry[] = [];
  const buffers: ArrayBuffer[] = [];
  for (const group of json.weightsManifest ?? []) {
    for (const p of group.paths) {
      const file = path.join(dir, p);
      if (!fs.existsSync(file)) throw new Error(`loadModel: weight file ${file} named in ${jsonPath} is missing`);
      buffers.push(readBuffer(file));
    }
    specs.push(...group.weights);
  }
  const weightData = tf.io.CompositeArrayBuffer.join(buffers);
  const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * bytesPerElement(s.dtype), 0);
  if (expected !== weightData.byteLength) {
    throw new Error(`loadModel: ${dir} weights hold ${weightData.byteLength} bytes but ${jsonPath} describes ${expected} (truncated or corrupt weights.bin?)`);
  }
  const files = (json.weightsManifest ?? []).flatMap((g) => g.paths.map((p) => path.join(dir, p))).join(' + ');
  if (json.weightsSha256) checkWeightsHash(weightData, json.weightsSha256, files, jsonPath);
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    trainingConfig: json.trainingConfig,
    userDefinedMetadata: json.userDefinedMetadata,
    weightSpecs: specs,
    weightData,
  };
}

function bytesPerElement(dtype: string): number {
  if (dtype === 'float32' || dtype === 'int32') return 4;
  if (dtype === 'bool' || dtype === 'uint8') return 1;
  if (dtype === 'float16' || dtype === 'int16') return 2;
  throw new Error(`storage: unsupported weight dtype ${dtype}`);
}

/** Saves architecture + weights (`model.json` + `weights.bin`) into `dir`. */
export async function saveModel(model: tf.LayersModel, dir: string): Promise<void> {
  await model.save(fileSaveHandler(dir));
}

/** Loads a model saved by `saveModel` (or by any TF.js layers-format writer) from `dir`. */
export async function loadModel(dir: string): Promise<tf.LayersModel> {
  return modelFromArtifacts(readModelArtifacts(dir), dir);
}

/** Builds a layers model from artifacts read from `dir` (errors name the folder). */
export async function modelFromArtifacts(artifacts: tf.io.ModelArtifacts, dir: string): Promise<tf.LayersModel> {
  try {
    return await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw new Error(`loadModel: could not build the model in ${dir}: ${(e as Error).message}`);
  }
}

/** One entry of a weights-only manifest. */
export interface WeightEntry {
  name: string;
  shape: number[];
  dtype: string;
}

/** Saves only the weights (`weights.json` with names/shapes + `weights.bin`), in `model.weights` order. */
export async function saveWeights(model: tf.LayersModel, dir: string): Promise<void> {
  const named = model.weights.map((w) => ({ name: w.originalName, tensor: w.read() }));
  const { data, specs } = await tf.io.encodeWeights(named);
  fs.mkdirSync(dir, { recursive: true });
  const manifest = { format: 'weights-only', generatedBy: `tfjs-layers v${tf.version_layers}`, weights: specs, weightsSha256: sha256Hex(data) };
  fs.writeFileSync(path.join(dir, WEIGHTS_JSON), JSON.stringify(manifest, null, 1));
  fs.writeFileSync(path.join(dir, WEIGHTS_BIN), Buffer.from(data));
}

/**
 * Loads weights saved by `saveWeights` into a model declared again in code. Weights are matched in order;
 * a count or shape mismatch throws, naming the first mismatched weight and both shapes.
 */
export function loadWeightsInto(model: tf.LayersModel, dir: string): void {
  const manifestPath = path.join(dir, WEIGHTS_JSON);
  if (!fs.existsSync(manifestPath)) throw new Error(`loadWeightsInto: no ${WEIGHTS_JSON} in ${dir}`);
  const manifest = readJson(manifestPath, 'loadWeightsInto') as { weights: tf.io.WeightsManifestEntry[]; weightsSha256?: string } | null;
  if (manifest === null || typeof manifest !== 'object' || !Array.isArray(manifest.weights)) {
    throw new Error(`loadWeightsInto: ${manifestPath}: field 'weights' must be a list of { name, shape, dtype }, got ${JSON.stringify(manifest?.weights ?? manifest)}`);
  }
  manifest.weights.forEach((w, i) => checkWeightEntry(w, manifestPath, `weights[${i}]`));
  const specs = manifest.weights;
  const targets = model.weights;
  const n = Math.min(specs.length, targets.length);
  for (let i = 0; i < n; i++) {
    const want = targets[i].shape as number[];
    const got = specs[i].shape;
    if (want.length !== got.length || want.some((d, k) => d !== got[k])) {
      throw new Error(
        `loadWeightsInto: weight #${i} of ${dir} ('${specs[i].name}', shape [${got}]) does not fit ` +
          `'${targets[i].originalName}' of model '${model.name}' (shape [${want}]) — was the same architecture declared?`,
      );
    }
  }
  if (specs.length !== targets.length) {
    const extra = specs.length > targets.length ? `first extra saved weight: '${specs[n].name}'` : `first weight without a saved value: '${targets[n].originalName}'`;
    throw new Error(`loadWeightsInto: ${dir} holds ${specs.length} weights but model '${model.name}' has ${targets.length} (${extra})`);
  }
  const data = readBuffer(path.join(dir, WEIGHTS_BIN));
  if (manifest.weightsSha256 !== undefined) checkWeightsHash(data, manifest.weightsSha256, path.join(dir, WEIGHTS_BIN), manifestPath);
  const decoded = tf.io.decodeWeights(data, specs);
  const values = specs.map((s) => decoded[s.name]);
  // decodeWeights keys by name: duplicated names would collapse, so fall back to slicing in order.
  if (new Set(specs.map((s) => s.name)).size !== specs.length) throw new Error(`loadWeightsInto: ${manifestPath} has duplicated weight names`);
  model.setWeights(values);
  tf.dispose(values);
}
