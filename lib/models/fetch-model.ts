/**
 * Brings a published TF.js model (model.json + weight shards) into a local folder once, from the first of its
 * locations that works (lib/data/download: redirects, resume, SHA-256). Weight shards are addressed relative to the
 * FINAL URL model.json came from after redirects (without that URL's query: a signed storage URL's signature
 * covers one object only); when that fails they are asked through the original location with its query, as tfjs's
 * `fromTFHub` loader does (each shard then gets its own redirect). Every file's SHA-256 is pinned in the folder's
 * `sha256.json` on first download and checked whenever the folder is used.
 */
import * as fs from 'fs';
import * as path from 'path';
import type * as tf from '@tensorflow/tfjs';
import { byteProgress, downloadArtefact, sha256File, shortUrl, type FetchProgress, type Location, type NetOptions } from '../data/download';

/** One place a published model can be loaded from, with what that copy is. */
export interface ModelLocation extends Location {
  /** Folder name of this copy in the cache (`backbones/<name>/<id>/`). */
  id: string;
  /** 'layers' = Keras layers model (trainable in tfjs); 'graph' = converted graph (weights are constants). */
  format: 'layers' | 'graph';
  /** Pixel range this copy expects. */
  range: '[0,1]' | '[-1,1]';
  /** Layer (layers) or node (graph) where features are taken; undefined = the model's output. */
  cutAt?: string;
}

/** Options of `fetchTfjsModel`. */
export interface FetchModelOptions extends NetOptions {
  /** Cache folder holding `<name>/<id>/` (default `<cacheDir>/backbones`). */
  dir?: string;
  /** An offline folder made by `npm run fetch` (its `backbones/<name>/<id>/` is used in place, read only). */
  from?: string;
  progressBar?: boolean;
  onProgress?: (p: FetchProgress) => void;
}

/** A verified local copy. */
export interface FetchedModel {
  dir: string;
  location: ModelLocation;
  /** True when this call downloaded it. */
  downloaded: boolean;
}

const PINS = 'sha256.json';

interface Manifest {
  json: tf.io.ModelJSON;
  shards: string[];
  bytes: number;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, float16: 2, int16: 2, uint16: 2, uint8: 1, int8: 1, bool: 1 };

/** Parses and checks a model.json; names the file and what is wrong. */
export function readManifest(file: string): Manifest {
  let json: tf.io.ModelJSON;
  const text = fs.readFileSync(file, 'utf8');
  try {
    json = JSON.parse(text) as tf.io.ModelJSON;
  } catch {
    throw new Error(`${file} is not JSON (starts with ${JSON.stringify(text.slice(0, 40))}: an error or login page instead of model.json?)`);
  }
  if (json.modelTopology == null || !Array.isArray(json.weightsManifest)) throw new Error(`${file} is not a TF.js model.json (no modelTopology or weightsManifest)`);
  const shards = json.weightsManifest.flatMap((g) => g.paths);
  for (const s of shards) if (s.includes('..') || path.isAbsolute(s) || /^[a-z]+:/i.test(s)) throw new Error(`${file} names a weight file outside its folder: '${s}'`);
  const bytes = json.weightsManifest
    .flatMap((g) => g.weights)
    .reduce((n, w) => n + w.shape.reduce((a, b) => a * b, 1) * (BYTES[w.quantization?.dtype ?? w.dtype] ?? 4), 0);
  return { json, shards, bytes };
}

/** The model artifacts of a local TF.js folder (model.json + its shards), for `tf.io.fromMemory`. */
export function readTfjsArtifacts(dir: string): tf.io.ModelArtifacts {
  const { json, shards, bytes } = readManifest(path.join(dir, 'model.json'));
  const parts = shards.map((s) => {
    const file = path.join(dir, s);
    if (!fs.existsSync(file)) throw new Error(`${dir}: weight file ${s} named in model.json is missing`);
    return fs.readFileSync(file);
  });
  const all = Buffer.concat(parts);
  if (all.length !== bytes) throw new Error(`${dir}: weight files hold ${all.length} bytes but model.json describes ${bytes} (truncated or corrupt shard?)`);
  return {
    modelTopology: json.modelTopology,
    format: json.format,
    generatedBy: json.generatedBy,
    convertedBy: json.convertedBy,
    signature: (json as { signature?: object }).signature,
    userDefinedMetadata: json.userDefinedMetadata,
    modelInitializer: (json as { modelInitializer?: object }).modelInitializer,
    weightSpecs: json.weightsManifest.flatMap((g) => g.weights),
    weightData: all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength) as ArrayBuffer,
  };
}

/** True when `dir` holds a complete copy whose files match their pinned SHA-256 (`sha256.json`). */
export async function verifyModelFolder(dir: string): Promise<{ ok: true } | { ok: false; why: string }> {
  const pinFile = path.join(dir, PINS);
  if (!fs.existsSync(pinFile)) return { ok: false, why: `no ${PINS} (incomplete download)` };
  const pins = JSON.parse(fs.readFileSync(pinFile, 'utf8')) as Record<string, string>;
  if (!pins['model.json']) return { ok: false, why: `${PINS} has no model.json entry` };
  const names = ['model.json', ...readManifest(path.join(dir, 'model.json')).shards];
  for (const n of names) {
    const f = path.join(dir, n);
    if (!fs.existsSync(f)) return { ok: false, why: `${n} is missing` };
    const sha = await sha256File(f);
    if (pins[n] !== sha) return { ok: false, why: `${n} has SHA-256 ${sha}, pinned ${pins[n] ?? 'nothing'}` };
  }
  return { ok: true };
}

/** The two ways to address a shard: relative to model.json's final URL (no query), then via the original location. */
export function shardLocations(shard: string, loc: Location, finalUrl: string): Location[] {
  const final = new URL(finalUrl);
  final.search = '';
  const viaFinal = new URL(shard, final).toString();
  const orig = new URL(loc.url);
  const viaOrig = new URL(shard, `${orig.origin}${orig.pathname}`).toString() + orig.search;
  const out = [{ label: `${loc.label}, next to model.json's final URL`, url: viaFinal }];
  if (viaOrig !== viaFinal) out.push({ label: `${loc.label}, through the original location`, url: viaOrig });
  return out;
}

/** Downloads model.json and every shard of one location into `dir`; throws with one line saying what failed. */
async function downloadAt(what: string, loc: ModelLocation, dir: string, opts: FetchModelOptions): Promise<void> {
  fs.mkdirSync(dir, { recursive: true });
  const pinFile = path.join(dir, PINS);
  const pins: Record<string, string> = fs.existsSync(pinFile) ? JSON.parse(fs.readFileSync(pinFile, 'utf8')) : {};
  fs.rmSync(pinFile, { force: true }); // the folder counts as complete only once the pins are written again
  try {
    await downloadFiles(what, loc, dir, pins, opts);
  } catch (e) {
    if (Object.keys(pins).length > 0) fs.writeFileSync(pinFile, JSON.stringify(pins, null, 1) + '\n'); // keep what was pinned before
    throw e;
  }
}

/** model.json, then each shard (two ways to address it), then the size check; writes `sha256.json` last. */
async function downloadFiles(what: string, loc: ModelLocation, dir: string, pins: Record<string, string>, opts: FetchModelOptions): Promise<void> {
  const pinFile = path.join(dir, PINS);
  const quietLog = opts.log ?? ((m: string) => console.warn(m));
  // downloadArtefact's failure lines read `N. label — url: reason`; model.json has one location (named by the caller)
  const oneLine = (e: Error, keepLabel: boolean) =>
    e.message
      .split('\n')
      .slice(1)
      .map((l) => l.trim())
      .filter((l) => /^\d+\. /.test(l))
      .map((l) => (keepLabel ? l.replace(/^\d+\. (.*?) — \S+: /, '$1: ') : l.replace(/^\d+\. .*? — \S+: /, '')))
      .join('; ');
  let json;
  try {
    json = await downloadArtefact({ what: `${what}/model.json`, locations: [loc], file: path.join(dir, 'model.json'), sha256: pins['model.json'], validate: (f) => void readManifest(f) }, { ...opts, log: quietLog });
  } catch (e) {
    throw new Error(oneLine(e as Error, false) || (e as Error).message);
  }
  const manifest = readManifest(json.file);
  const finalUrl = json.finalUrl ?? loc.url;
  const progress = byteProgress(`${what} download`, { ...opts, total: manifest.bytes });
  const newPins: Record<string, string> = { 'model.json': json.sha256 };
  try {
    for (const shard of manifest.shards) {
      const got = await downloadArtefact(
        { what: `${what}/${shard}`, locations: shardLocations(shard, loc, finalUrl), file: path.join(dir, shard), sha256: pins[shard] },
        { ...opts, log: quietLog, onBytes: (d) => progress.add(d) },
      ).catch((e: Error) => {
        throw new Error(`model.json came from ${shortUrl(finalUrl)}, but weight file ${shard}: ${oneLine(e, true)}`);
      });
      newPins[shard] = got.sha256;
    }
  } finally {
    progress.close();
  }
  try {
    readTfjsArtifacts(dir); // the shards' sizes add up to what model.json describes
  } catch (e) {
    for (const shard of manifest.shards) fs.rmSync(path.join(dir, shard), { force: true });
    throw e;
  }
  const fresh = Object.keys(newPins).filter((k) => !pins[k]);
  if (fresh.length > 0) quietLog(`${what}: no published SHA-256 for ${fresh.length} file(s); pinned them in ${pinFile} (later downloads must match)`);
  fs.writeFileSync(pinFile, JSON.stringify(newPins, null, 1) + '\n');
}

/**
 * A verified local copy of a published model: from the offline folder (`from`), else the cache, else downloaded
 * from the first location that works. The error after every location failed names each failure.
 */
export async function fetchTfjsModel(name: string, locations: ModelLocation[], opts: FetchModelOptions & { advice?: string }): Promise<FetchedModel> {
  const log = opts.log ?? ((m: string) => console.warn(m));
  if (opts.from) {
    const tried: string[] = [];
    for (const loc of locations) {
      const dir = path.join(opts.from, 'backbones', name, loc.id);
      if (!fs.existsSync(dir)) continue;
      const v = await verifyModelFolder(dir);
      if (v.ok) return { dir, location: loc, downloaded: false };
      tried.push(`${dir}: ${v.why}`);
    }
    throw new Error(
      `${name}: the offline folder ${opts.from} holds no verified copy (expected ${path.join(opts.from, 'backbones', name)}/<${locations.map((l) => l.id).join('|')}>/)` +
        (tried.length ? `; found ${tried.join('; ')}` : '') +
        `. Make it on a machine with internet with \`npm run fetch -- ${name} --out ${opts.from}\`.`,
    );
  }
  const root = path.join(opts.dir!, name);
  for (const loc of locations) {
    const dir = path.join(root, loc.id);
    if (fs.existsSync(path.join(dir, PINS)) && (await verifyModelFolder(dir)).ok) return { dir, location: loc, downloaded: false };
  }
  const failures: string[] = [];
  for (const [i, loc] of locations.entries()) {
    const dir = path.join(root, loc.id);
    try {
      await downloadAt(name, loc, dir, opts);
      return { dir, location: loc, downloaded: true };
    } catch (e) {
      failures.push(`${i + 1}. ${loc.label} — ${shortUrl(loc.url)}: ${(e as Error).message}`);
      if (i + 1 < locations.length) log(`${name}: ${loc.label} failed; trying the next location`);
    }
  }
  const offline = failures.every((f) => /cannot reach/.test(f));
  throw new Error(
    [`Could not download ${name} from any of its ${locations.length} known locations:`, ...failures.map((f) => `  ${f}`)].join('\n') +
      (offline ? '\nNo location could be reached: this machine looks offline.' : '') +
      (opts.advice ? `\n${opts.advice}` : ''),
  );
}
