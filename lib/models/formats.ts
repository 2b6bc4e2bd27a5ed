/**
 * What a saved model needs in order to be loaded again (lecture §2, 모델 저장 형태), measured rather than told:
 *  - architecture + weights (TF.js `model.json` + `weights.bin`, like Keras `.keras`, TorchScript, ONNX): the file
 *    describes every layer, so a program with only the framework rebuilds the network;
 *  - config + weights (`params.json` + weights, the way Llama is published): the file names a builder and its
 *    hyperparameters; the network is rebuilt by *code* that must be at hand (Llama's `model.py`);
 *  - weights only (`weights.json` + `weights.bin`, like a PyTorch state_dict): the numbers alone; the same
 *    architecture must be declared again in code, with the same hyperparameters, typed by hand.
 * `loadInFreshProcess` loads a folder in a new Node process that has only the framework (or the framework and the
 * kit's code), so "what loading needs" is an observation, not a claim.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { repoRoot } from '../config';
import { PlainCnnOptions, buildPlainCnn } from './zoo';
import { loadWeightsInto, saveWeights } from './storage';

const PARAMS_JSON = 'params.json';

/** The config of a config + weights folder: which builder, with which options. */
export interface ModelParams {
  builder: 'buildPlainCnn';
  options: PlainCnnOptions;
}

/** Save `model` as config + weights: `params.json` (builder + options) and the weights-only pair. */
export async function saveConfigAndWeights(model: tf.LayersModel, params: ModelParams, dir: string): Promise<void> {
  await saveWeights(model, dir);
  fs.writeFileSync(path.join(dir, PARAMS_JSON), JSON.stringify(params, null, 1));
}

/** Rebuild a config + weights folder with the kit's builder and fill in its weights. */
export function loadFromConfig(dir: string): tf.LayersModel {
  const file = path.join(dir, PARAMS_JSON);
  if (!fs.existsSync(file)) throw new Error(`loadFromConfig: no ${PARAMS_JSON} in ${dir} (save one with saveConfigAndWeights)`);
  const params = JSON.parse(fs.readFileSync(file, 'utf8')) as ModelParams;
  if (params.builder !== 'buildPlainCnn') throw new Error(`loadFromConfig: ${file} names builder '${params.builder}'; this kit builds 'buildPlainCnn' only`);
  const model = buildPlainCnn(params.options);
  loadWeightsInto(model, dir);
  return model;
}

/** The files of a model folder and their sizes, with the kind of folder they make. */
export function describeModelFolder(dir: string): { kind: 'architecture + weights' | 'config + weights' | 'weights only'; files: Array<{ file: string; bytes: number }> } {
  if (!fs.existsSync(dir)) throw new Error(`describeModelFolder: ${dir} does not exist`);
  const files = fs.readdirSync(dir).sort().map((file) => ({ file, bytes: fs.statSync(path.join(dir, file)).size }));
  const has = (f: string) => files.some((x) => x.file === f);
  const kind = has('model.json') ? 'architecture + weights' : has(PARAMS_JSON) ? 'config + weights' : 'weights only';
  return { kind, files };
}

/** What a fresh process reported: loaded or not, why, and (when loaded) its outputs on the given inputs. */
export interface FreshLoad {
  loaded: boolean;
  message: string;
  /** Outputs of the reloaded model, row by row. */
  outputs?: number[][];
  /** CPU seconds the child process used (user + system, as it measured itself). */
  cpuSeconds: number;
}

/** The program the child runs: only `@tensorflow/tfjs` (and, `withKit`, the compiled kit) are required. */
function childProgram(withKit: boolean): string {
  return `
const tf = require('@tensorflow/tfjs'); const fs = require('fs'); const path = require('path');
const [dir, inputFile] = process.argv.slice(-2);
const say = (o) => { const c = process.cpuUsage(); process.stdout.write('\\n@@' + JSON.stringify({ ...o, cpuSeconds: (c.user + c.system) / 1e6 }) + '\\n'); };
(async () => {
  await tf.setBackend('cpu'); // the plain JavaScript kernels: nothing but the package itself
  const has = (f) => fs.existsSync(path.join(dir, f));
  let model;
  if (has('model.json')) {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    const bufs = json.weightsManifest.flatMap((g) => g.paths.map((p) => fs.readFileSync(path.join(dir, p))));
    const all = Buffer.concat(bufs);
    const weightSpecs = json.weightsManifest.flatMap((g) => g.weights);
    model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs, weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) }));
  } else if (${withKit} && has('params.json')) {
    model = require(${JSON.stringify(repoRoot())}).loadFromConfig(dir);
  } else {
    const what = has('params.json') ? 'params.json names a builder ("' + JSON.parse(fs.readFileSync(path.join(dir, 'params.json'), 'utf8')).builder + '") that is code this process does not have' : 'weights.json lists only names and shapes of tensors, not the layers that use them';
    return say({ loaded: false, message: 'cannot rebuild the network from ' + fs.readdirSync(dir).join(' + ') + ': ' + what });
  }
  const input = JSON.parse(fs.readFileSync(inputFile, 'utf8'));
  const out = model.predict(tf.tensor(input.data, input.shape));
  say({ loaded: true, message: 'rebuilt ' + model.layers.length + ' layers and ran them', outputs: out.arraySync() });
})().catch((e) => say({ loaded: false, message: String(e && e.message || e) }));
`;
}

/**
 * Load `dir` in a new Node process that can require only `@tensorflow/tfjs` — plus the kit's compiled code when
 * `withKit` — and run it on `input` (one batch of images); reports what happened and the child's CPU time.
 */
export function loadInFreshProcess(dir: string, input: tf.Tensor, opts: { withKit?: boolean } = {}): FreshLoad {
  const inputFile = path.join(dir, '..', `input-${path.basename(dir)}.json`);
  fs.writeFileSync(inputFile, JSON.stringify({ shape: input.shape, data: Array.from(input.dataSync()) }));
  const script = `${childProgram(opts.withKit ?? false)}\n`;
  const res = spawnSync(process.execPath, ['-e', script, dir, inputFile], { cwd: repoRoot(), encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  fs.rmSync(inputFile, { force: true });
  const line = (res.stdout ?? '').split('\n').find((l) => l.startsWith('@@'));
  if (!line) throw new Error(`loadInFreshProcess: the child process for ${dir} printed no result (exit ${res.status}): ${(res.stderr ?? '').slice(-400)}`);
  return JSON.parse(line.slice(2)) as FreshLoad;
}
