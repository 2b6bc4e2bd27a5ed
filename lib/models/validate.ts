/**
 * Checks that a stored model is what it claims to be: `model.json` and `meta.json` against their schemas (errors name
 * the file and the field), the weights against their SHA-256, and a probe batch that must give finite outputs.
 */
import * as crypto from 'crypto';
import * as tf from '@tensorflow/tfjs';
import type { SourceMeta } from './source';

/** Weight dtypes of the TF.js weights manifest. */
const DTYPES = ['float32', 'int32', 'bool', 'uint8', 'float16', 'int16', 'string', 'complex64'];

/** SHA-256 of bytes, as 64 hex digits. */
export function sha256Hex(bytes: Uint8Array | ArrayBuffer): string {
  return crypto.createHash('sha256').update(bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : bytes).digest('hex');
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing (the field is missing)';
  const text = JSON.stringify(v);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

/** Throws `<file>: field '<name>' must be <expected>, got <value>` unless ok. */
function want(ok: boolean, file: string, field: string, expected: string, value: unknown): void {
  if (!ok) throw new Error(`${file}: field '${field}' must be ${expected}, got ${describe(value)}`);
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isDims = (v: unknown): v is number[] => Array.isArray(v) && v.every((x) => Number.isInteger(x) && (x as number) >= 0);
const isHash = (v: unknown): v is string => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v);

/** Validates a parsed `model.json` (TF.js layers or graph format, plus the kit's optional `weightsSha256`). */
export function checkModelJson(json: unknown, file: string): tf.io.ModelJSON & { weightsSha256?: string } {
  if (!isObject(json)) throw new Error(`${file}: expected a JSON object (the TF.js model format), got ${describe(json)}`);
  want(isObject(json.modelTopology), file, 'modelTopology', 'an object (the layers or graph topology)', json.modelTopology);
  for (const k of ['format', 'generatedBy'] as const) if (json[k] !== undefined) want(typeof json[k] === 'string', file, k, 'a string', json[k]);
  if (json.weightsSha256 !== undefined) want(isHash(json.weightsSha256), file, 'weightsSha256', '64 lowercase hex digits (SHA-256)', json.weightsSha256);
  if (json.weightsManifest !== undefined) {
    want(Array.isArray(json.weightsManifest), file, 'weightsManifest', 'a list of weight groups', json.weightsManifest);
    (json.weightsManifest as unknown[]).forEach((g, i) => {
      const at = `weightsManifest[${i}]`;
      want(isObject(g), file, at, 'an object with paths and weights', g);
      const group = g as Record<string, unknown>;
      want(isStrings(group.paths) && group.paths.length > 0, file, `${at}.paths`, 'a non-empty list of file names', group.paths);
      want(Array.isArray(group.weights), file, `${at}.weights`, 'a list of weight entries', group.weights);
      (group.weights as unknown[]).forEach((w, j) => checkWeightEntry(w, file, `${at}.weights[${j}]`));
    });
  }
  return json as unknown as tf.io.ModelJSON & { weightsSha256?: string };
}

/** One `{ name, shape, dtype }` entry of a weights manifest. */
export function checkWeightEntry(w: unknown, file: string, at: string): void {
  want(isObject(w), file, at, 'an object with name, shape and dtype', w);
  const e = w as Record<string, unknown>;
  want(typeof e.name === 'string' && e.name !== '', file, `${at}.name`, 'a non-empty string', e.name);
  want(isDims(e.shape), file, `${at}.shape`, 'a list of whole numbers ≥ 0', e.shape);
  want(typeof e.dtype === 'string' && DTYPES.includes(e.dtype), file, `${at}.dtype`, `one of ${DTYPES.join(', ')}`, e.dtype);
}

/** Validates a parsed source-model `meta.json`: the fields the kit relies on must be there, with the right types. */
export function checkSourceMeta(meta: unknown, file: string): SourceMeta {
  if (!isObject(meta)) throw new Error(`${file}: expected a JSON object, got ${describe(meta)}`);
  const m = meta;
  want(typeof m.name === 'string' && m.name !== '', file, 'name', 'the model name (a non-empty string)', m.name);
  want(typeof m.dataset === 'string', file, 'dataset', 'the name of the data it was trained on (a string)', m.dataset);
  want(isStrings(m.classes) && m.classes.length >= 1, file, 'classes', 'a non-empty list of class names', m.classes);
  want(isDims(m.inputShape) && m.inputShape.length === 3 && m.inputShape.every((d) => d > 0), file, 'inputShape', '[height, width, channels] (whole numbers > 0)', m.inputShape);
  want(isHash(m.weightsSha256), file, 'weightsSha256', 'the SHA-256 of weights.bin (64 hex digits; saveSourceModel writes it)', m.weightsSha256);
  for (const k of ['normalization', 'architecture', 'featureLayer', 'backend', 'date']) if (m[k] !== undefined) want(typeof m[k] === 'string', file, k, 'a string', m[k]);
  for (const k of ['seed', 'params', 'trainAccuracy', 'valAccuracy', 'trainSeconds']) if (m[k] !== undefined) want(typeof m[k] === 'number' && Number.isFinite(m[k]), file, k, 'a finite number', m[k]);
  if (m.recipe !== undefined) want(isObject(m.recipe), file, 'recipe', 'an object', m.recipe);
  return m as unknown as SourceMeta;
}

/** Throws, naming the file and both hashes, when the weights' bytes do not have the recorded SHA-256. */
export function checkWeightsHash(bytes: Uint8Array | ArrayBuffer, expected: string, weightsFile: string, recordedIn: string): void {
  const got = sha256Hex(bytes);
  if (got !== expected) {
    throw new Error(
      `${weightsFile}: its SHA-256 is ${got.slice(0, 16)}…, but ${recordedIn} records ${expected.slice(0, 16)}… — the weights are corrupt or ` +
        'were replaced. Restore the file (git checkout, or copy it again) or save the model anew.',
    );
  }
}

/**
 * Runs the model on a probe batch (a flat grey image and a ramp, in [0, 1]) and refuses it when any output is NaN or
 * infinite: weights like that give accuracy at chance without an error, and training from them stays NaN.
 * One forward pass of two images (a few milliseconds for the kit's models).
 */
export function assertFiniteOutputs(model: tf.LayersModel, where: string): void {
  const shape = model.inputs[0]?.shape.slice(1);
  if (!shape || shape.some((d) => d == null)) return; // variable-sized inputs: no single probe fits
  const dims = shape as number[];
  const bad = tf.tidy(() => {
    const size = dims.reduce((a, b) => a * b, 1);
    const ramp = tf.linspace(0, 1, size).reshape(dims);
    const probe = tf.stack([tf.fill(dims, 0.5), ramp]);
    const out = model.predict(probe);
    const outs = Array.isArray(out) ? out : [out];
    let n = 0;
    for (const t of outs) n += tf.logicalNot(tf.isFinite(t)).sum().dataSync()[0];
    return n;
  });
  if (bad > 0) {
    throw new Error(
      `${where}: the model's outputs are not finite (${bad} NaN or infinite values on a probe batch of two images): its weights are ` +
        'broken (NaN from a diverged training, or corrupt). Refused before any training; retrain or restore the model.',
    );
  }
}

/** Refuses weights holding NaN or infinite values (cheap: one pass over the float32 weights, no model run). */
export function assertFiniteWeights(artifacts: tf.io.ModelArtifacts, where: string): void {
  const data = artifacts.weightData;
  const buf = data instanceof ArrayBuffer ? data : tf.io.CompositeArrayBuffer.join(data ?? []);
  let offset = 0;
  for (const spec of artifacts.weightSpecs ?? []) {
    const n = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.dtype === 'float32' && !spec.quantization) {
      const values = new Float32Array(buf, offset, n);
      for (let i = 0; i < n; i++) {
        if (!Number.isFinite(values[i])) {
          throw new Error(`${where}: weight '${spec.name}' holds ${values[i]} at index ${i}: the weights are broken (NaN from a diverged training, or corrupt). Retrain or restore the model.`);
        }
      }
    }
    offset += n * ({ float32: 4, int32: 4, float16: 2, int16: 2 } as Record<string, number>)[spec.dtype as string] || n;
  }
}
