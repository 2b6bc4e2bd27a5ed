/**
 * Downloads that survive the real internet. One artefact has several known locations, tried in order; each GET
 * follows redirects by hand (so the final URL — often a signed storage URL with query parameters — is known), gives
 * up on a silent connection or a stalled body, and resumes a cut body with an HTTP Range request into a `.part`
 * file. A 403/404/5xx, a timeout, a truncated body or a wrong SHA-256 on one location falls through to the next;
 * when every location fails the error names each failure and, offline, says what to fetch and from where.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import * as zlib from 'zlib';
import { progressBar, type ProgressBar } from '../display/progress';

/** One place an artefact can be downloaded from. */
export interface Location {
  /** Who hosts it, for messages ("PyTorch tutorial data", "Kaggle Models"). */
  label: string;
  url: string;
}

/** Network behaviour of a download (every field has a default). */
export interface NetOptions {
  /** Give up connecting (or waiting for the response headers) after this many ms (default 10000). */
  connectTimeoutMs?: number;
  /** Give up when no byte arrives for this many ms (default 30000). */
  idleTimeoutMs?: number;
  /** Resume attempts per location after a cut or stalled body, or a 5xx/429 (default 3). */
  retries?: number;
  /** First wait before retrying a 5xx/429, doubled each time (default 500 ms). */
  retryDelayMs?: number;
  /** Messages (default console.warn). */
  log?: (msg: string) => void;
}

/** Download progress, for a callback. */
export interface FetchProgress {
  /** Bytes of the current file (or model) received so far. */
  received: number;
  /** Total bytes when known. */
  total?: number;
}

/** What one successful GET of a location found. */
export interface GetResult {
  /** The URL the body finally came from (after redirects). */
  finalUrl: string;
  /** Every URL visited, the first one included. */
  chain: string[];
}

type FailureKind = 'offline' | 'http' | 'cut' | 'timeout' | 'other';

/** An HTTP failure with what kind it was (offline ones make the "work offline" advice). */
export class HttpError extends Error {
  constructor(
    message: string,
    readonly kind: FailureKind,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Every location of an artefact failed; `failures` lists them in order. */
export class DownloadError extends Error {
  constructor(
    message: string,
    readonly failures: string[],
    readonly offline: boolean,
  ) {
    super(message);
    this.name = 'DownloadError';
  }
}

const OFFLINE_CODES = ['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH', 'ENETDOWN'];
const REDIRECTS = [301, 302, 303, 307, 308];
const MAX_REDIRECTS = 10;
const USER_AGENT = 'transfer-learning-kit (Node.js)';

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

const sizeOf = (file: string): number => (fs.existsSync(file) ? fs.statSync(file).size : 0);

/** A URL without its query, for messages (signed URLs carry long signatures). */
export function shortUrl(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : `${url.slice(0, q)}?…`;
}

interface Hop {
  url: string;
  part: string;
  net: Required<Pick<NetOptions, 'connectTimeoutMs' | 'idleTimeoutMs'>>;
  onBytes: (delta: number, total?: number) => void;
}

/** Streams one response body into `hop.part` (appending on 206), checking Content-Length at the end. */
function writeBody(res: http.IncomingMessage, hop: Hop, have: number, fail: (e: HttpError) => void, done: () => void): void {
  const host = new URL(hop.url).host;
  const partial = res.statusCode === 206;
  const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase();
  const decoded = encoding === 'gzip' || encoding === 'deflate';
  // A compressed body's Content-Length counts compressed bytes: only then is it no check of the file's size.
  const len = Number(res.headers['content-length']);
  const total = Number.isFinite(len) && !decoded ? (partial ? have : 0) + len : undefined;
  const out = fs.createWriteStream(hop.part, { flags: partial ? 'a' : 'w' });
  let received = partial ? have : 0;
  let settled = false;
  const stop = (e: HttpError): void => {
    if (settled) return;
    settled = true;
    res.destroy();
    out.end(() => fail(e)); // flush what arrived, so the next attempt resumes from the file's true size
  };
  const body: NodeJS.ReadableStream = decoded ? res.pipe(encoding === 'gzip' ? zlib.createGunzip() : zlib.createInflate()) : res;
  res.setTimeout(hop.net.idleTimeoutMs, () => stop(new HttpError(`no data from ${host} for ${hop.net.idleTimeoutMs} ms`, 'timeout', true)));
  res.on('aborted', () => stop(new HttpError(`connection to ${host} cut after ${received} bytes`, 'cut', true)));
  res.on('error', (err) => stop(new HttpError(`connection to ${host} broke after ${received} bytes: ${err.message}`, 'cut', true)));
  if (decoded) body.on('error', (err: Error) => stop(new HttpError(`bad ${encoding} body from ${host}: ${err.message}`, 'cut', true)));
  body.on('data', (chunk: Buffer) => {
    if (settled) return;
    out.write(chunk);
    received += chunk.length;
    hop.onBytes(chunk.length, total);
  });
  body.on('end', () => {
    if (settled) return;
    settled = true;
    out.end(() => {
      if (total !== undefined && received < total) fail(new HttpError(`connection to ${host} cut after ${received} of ${total} bytes (truncated body)`, 'cut', true));
      else done();
    });
  });
  out.on('error', (err) => stop(new HttpError(`cannot write ${hop.part}: ${err.message}`, 'other', false)));
}

/** One GET of `hop.url`, following redirects by hand, resuming `hop.part` from its size with a Range header. */
export function getOnce(hop: Hop, chain: string[] = []): Promise<GetResult> {
  return new Promise((resolve, reject) => {
    const u = new URL(hop.url);
    const lib = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!lib) return reject(new HttpError(`unsupported URL protocol ${u.protocol} in ${hop.url}`, 'other', false));
    const visited = [...chain, hop.url];
    const have = sizeOf(hop.part);
    const headers: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: '*/*', ...(have > 0 ? { Range: `bytes=${have}-` } : {}) };
    let settled = false;
    const fail = (e: HttpError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(e);
    };
    const req = lib.get(u, { headers });
    const timer = setTimeout(
      () => fail(new HttpError(`no answer from ${u.host} within ${hop.net.connectTimeoutMs} ms (offline, or a firewall?)`, 'timeout', true)),
      hop.net.connectTimeoutMs,
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const offline = OFFLINE_CODES.includes(err.code ?? '');
      fail(new HttpError(offline ? `cannot reach ${u.host} (${err.code})` : `connection to ${u.host} broke: ${err.code ?? err.message}`, offline ? 'offline' : 'cut', !offline));
    });
    req.on('response', (res) => {
      clearTimeout(timer);
      const status = res.statusCode ?? 0;
      if (REDIRECTS.includes(status) && res.headers.location) {
        res.resume();
        settled = true;
        if (visited.length > MAX_REDIRECTS) return reject(new HttpError(`more than ${MAX_REDIRECTS} redirects from ${shortUrl(visited[0])}`, 'http', false));
        const next = new URL(res.headers.location, u).toString();
        if (!hostAllowed(next)) return reject(new HttpError(`redirected to ${new URL(next).host}, which is not in KIT_ONLY_HOSTS`, 'http', false));
        getOnce({ ...hop, url: next }, visited).then(resolve, reject);
        return;
      }
      const result = { finalUrl: hop.url, chain: visited };
      const via = visited.length > 1 ? ` (redirected ${visited.length - 1}× to ${shortUrl(hop.url)})` : '';
      if (status === 416 && have > 0) {
        // Range not satisfiable: the .part already holds the whole file; its size and checksum decide.
        res.resume();
        settled = true;
        return resolve(result);
      }
      if (status !== 200 && status !== 206) {
        res.resume();
        return fail(new HttpError(`HTTP ${status}${res.statusMessage ? ' ' + res.statusMessage : ''}${via}`, 'http', status >= 500 || status === 429));
      }
      const start = /^bytes (\d+)-/.exec(String(res.headers['content-range'] ?? ''));
      if (status === 206 && (!start || Number(start[1]) !== have)) {
        res.resume();
        fs.rmSync(hop.part, { force: true }); // a range we did not ask for: start again from byte 0
        return fail(new HttpError(`${u.host} answered a Range request for byte ${have} with '${res.headers['content-range'] ?? 'no Content-Range'}'`, 'cut', true));
      }
      settled = true;
      writeBody(res, hop, have, reject, () => resolve(result));
    });
  });
}

/** Downloads one location into `part`, resuming after a cut or stall up to `retries` times. */
export async function downloadLocation(url: string, part: string, opts: NetOptions & { onBytes?: (delta: number, total?: number) => void } = {}): Promise<GetResult> {
  const retries = opts.retries ?? 3;
  const net = { connectTimeoutMs: opts.connectTimeoutMs ?? 10000, idleTimeoutMs: opts.idleTimeoutMs ?? 30000 };
  const log = opts.log ?? ((m: string) => console.warn(m));
  fs.mkdirSync(path.dirname(part), { recursive: true });
  for (let attempt = 0; ; attempt++) {
    try {
      return await getOnce({ url, part, net, onBytes: opts.onBytes ?? (() => undefined) });
    } catch (err) {
      const e = err as HttpError;
      if (!(e instanceof HttpError) || !e.retryable || attempt >= retries) throw err;
      log(`download: ${e.message}; resuming from byte ${sizeOf(part)} (attempt ${attempt + 2} of ${retries + 1})`);
      // A busy server (5xx, 429) gets a moment; a cut connection is resumed at once.
      if (e.kind === 'http') await new Promise((r) => setTimeout(r, (opts.retryDelayMs ?? 500) * 2 ** attempt));
    }
  }
}

/** What to download: an artefact, where from, where to, and how to check it. */
export interface ArtefactSpec {
  /** For messages: `hymenoptera_data.zip`, `mobilenet_v2/model.json`. */
  what: string;
  locations: Location[];
  /** Where the verified file goes. */
  file: string;
  /** Expected SHA-256 (hex); otherwise the pin file's, otherwise the first download pins it there. */
  sha256?: string;
  /** Where a first download's SHA-256 is recorded (no pinning without one). */
  pinFile?: string;
  /** Exact size in bytes when known (weight shards: from model.json): a shorter body is a failure. */
  bytes?: number;
  /** Extra check of a downloaded file (e.g. "is this JSON?"); throw to reject this location. */
  validate?: (file: string) => void;
  /** Added to the final error: how to get the artefact without this machine's network. */
  advice?: string;
}

/** Where `downloadArtefact` put the file and how it was checked. */
export interface Downloaded {
  file: string;
  sha256: string;
  /** The location used (undefined when the file was already there). */
  location?: Location;
  /** The URL the bytes came from, after redirects. */
  finalUrl?: string;
  /** True when this download's hash was pinned (no hash was known). */
  pinned: boolean;
}

const readPin = (pinFile?: string): string | undefined => (pinFile && fs.existsSync(pinFile) ? fs.readFileSync(pinFile, 'utf8').trim().toLowerCase() : undefined);
/** The `.part` file a download of `url` into `file` resumes from (one per location: hosts may differ). */
export const partFor = (file: string, url: string): string => `${file}.${crypto.createHash('sha256').update(url).digest('hex').slice(0, 8)}.part`;

/** Checks a finished `.part` (size, checksum, validator) and moves it into place; returns the failure text if any. */
async function acceptPart(spec: ArtefactSpec, part: string, expected: string | undefined): Promise<{ sha: string } | { failure: string }> {
  if (spec.bytes !== undefined && sizeOf(part) !== spec.bytes) {
    const size = sizeOf(part);
    if (size > spec.bytes) fs.rmSync(part);
    return { failure: `got ${size} bytes, expected ${spec.bytes} (truncated or wrong file)` };
  }
  const sha = await sha256File(part);
  if (expected && sha !== expected) {
    fs.rmSync(part);
    return { failure: `checksum mismatch: SHA-256 ${sha}, expected ${expected} (download deleted)` };
  }
  try {
    spec.validate?.(part);
  } catch (e) {
    fs.rmSync(part);
    return { failure: (e as Error).message };
  }
  fs.renameSync(part, spec.file);
  return { sha };
}

/**
 * Downloads an artefact from the first of its locations that works, verifies it and returns where it is. A file
 * already at `spec.file` with the expected hash is used as it is (no network).
 */
export async function downloadArtefact(spec: ArtefactSpec, opts: NetOptions & { onBytes?: (delta: number, total?: number) => void } = {}): Promise<Downloaded> {
  const pinned = readPin(spec.pinFile);
  const expected = (spec.sha256 ?? pinned)?.toLowerCase();
  const log = opts.log ?? ((m: string) => console.warn(m));
  if (fs.existsSync(spec.file)) {
    const sha = await sha256File(spec.file);
    if (!expected || sha === expected) return { file: spec.file, sha256: sha, pinned: false };
    log(`download: ${spec.file} has SHA-256 ${sha}, expected ${expected}; downloading it again`);
    fs.rmSync(spec.file);
  }
  const failures: string[] = [];
  let offline = true;
  for (const [i, loc] of spec.locations.entries()) {
    const part = partFor(spec.file, loc.url);
    const name = `${i + 1}. ${loc.label} — ${shortUrl(loc.url)}`;
    if (!hostAllowed(loc.url)) {
      failures.push(`${name}: skipped (its host is not in KIT_ONLY_HOSTS=${process.env.KIT_ONLY_HOSTS})`);
      continue;
    }
    let got: GetResult;
    try {
      got = await downloadLocation(loc.url, part, opts);
    } catch (e) {
      if (!(e instanceof HttpError)) throw e;
      if (e.kind !== 'offline') offline = false;
      failures.push(`${name}: ${e.message}`);
      if (i + 1 < spec.locations.length) log(`download: ${spec.what}: ${name} failed (${e.message}); trying the next location`);
      continue;
    }
    offline = false;
    const verdict = await acceptPart(spec, part, expected);
    if ('failure' in verdict) {
      failures.push(`${name}: ${verdict.failure}${expected === pinned && pinned ? ` (the expected hash was pinned by an earlier download in ${spec.pinFile}; delete that file to re-pin)` : ''}`);
      if (i + 1 < spec.locations.length) log(`download: ${spec.what}: ${failures.at(-1)}; trying the next location`);
      continue;
    }
    for (const other of spec.locations) fs.rmSync(partFor(spec.file, other.url), { force: true });
    let didPin = false;
    if (!expected && spec.pinFile) {
      fs.writeFileSync(spec.pinFile, `${verdict.sha}\n`);
      didPin = true;
      log(`download: no published SHA-256 for ${spec.what}; pinned ${verdict.sha} in ${spec.pinFile} (later downloads must match)`);
    }
    return { file: spec.file, sha256: verdict.sha, location: loc, finalUrl: got.finalUrl, pinned: didPin };
  }
  const head = `Could not download ${spec.what} from any of its ${spec.locations.length} known location${spec.locations.length === 1 ? '' : 's'}:`;
  const tail = offline ? '\nNo location could be reached: this machine looks offline.' : '';
  throw new DownloadError([head, ...failures.map((f) => `  ${f}`)].join('\n') + tail + (spec.advice ? `\n${spec.advice}` : ''), failures, offline);
}

/** A byte counter that draws lib/display's ProgressBar (in MB, or kB below 1 MB) once the total is known. */
export function byteProgress(label: string, opts: { progressBar?: boolean; onProgress?: (p: FetchProgress) => void; total?: number } = {}): {
  add(delta: number, total?: number): void;
  close(): void;
} {
  let received = 0;
  let bar: ProgressBar | undefined;
  return {
    add(delta, fileTotal) {
      received += delta;
      const total = opts.total ?? fileTotal;
      opts.onProgress?.({ received, total });
      if (opts.progressBar === false || !total) return;
      const [scale, unit] = total >= 1e6 ? [1e6, 'MB'] : [1e3, 'kB'];
      const round = (b: number) => Math.round((b / scale) * 10) / 10;
      if (!bar) bar = progressBar(round(total), label, unit);
      bar.update(Math.min(round(received), round(total)));
    },
    close: () => bar?.close(),
  };
}

/** False when KIT_ONLY_HOSTS (comma-separated host names) is set and `url`'s host is not in it (a locked-down network). */
export function hostAllowed(url: string): boolean {
  const only = (process.env.KIT_ONLY_HOSTS ?? '').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
  return only.length === 0 || only.includes(new URL(url).hostname.toLowerCase());
}

/** The offline folder to use: an explicit `from`, else KIT_FETCH_FROM (a folder made by `npm run fetch -- … --out DIR`). */
export function fetchFromDir(from?: string): string | undefined {
  const dir = from ?? (process.env.KIT_FETCH_FROM || undefined);
  return dir ? path.resolve(dir) : undefined;
}

/** A classroom mirror tried before the public locations: KIT_MIRROR, a web server over a `npm run fetch -- --out` folder. */
export function mirrorLocation(relPath: string): Location[] {
  const base = process.env.KIT_MIRROR;
  if (!base) return [];
  return [{ label: 'classroom mirror (KIT_MIRROR)', url: new URL(relPath, base.endsWith('/') ? base : `${base}/`).toString() }];
}

/** The sentence every offline error ends with: how to bring `names` to a machine without internet. */
export function offlineAdvice(names: string, byHand?: string): string {
  return (
    `To work without internet: on a machine with internet run \`npm run fetch -- ${names} --out DIR\`, copy DIR to this machine ` +
    `(or a shared drive) and set KIT_FETCH_FROM=DIR (or pass { from: DIR }; \`npm run fetch -- ${names} --from DIR\` copies it into the cache).` +
    (byHand ? ` ${byHand}` : '')
  );
}
