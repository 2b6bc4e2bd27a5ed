/**
 * Online data: download a dataset archive once (resuming a broken download with HTTP Range), verify its
 * SHA-256, unpack it safely (no path escapes the target folder) and return the image folder.
 */
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import * as https from 'https';
import * as path from 'path';
import AdmZip from 'adm-zip';
import { cacheDir } from '../config';

/** A downloadable dataset. */
interface RemoteDataset {
  url: string;
  /** SHA-256 of the archive when known in advance (otherwise pinned by the first successful download). */
  sha256?: string;
  /** Folder the archive unpacks to. */
  folder: string;
  /** Split folders the unpacked folder must contain. */
  splits: string[];
}

/** Datasets `fetchDataset` knows. */
export const REMOTE_DATASETS: Record<string, RemoteDataset> = {
  // The ants/bees photos of PyTorch's transfer-learning tutorial (about 45 MB, 397 JPEGs).
  // Its SHA-256 is not published; the first successful download pins it (see docs/data.md).
  hymenoptera: { url: 'https://download.pytorch.org/tutorial/hymenoptera_data.zip', folder: 'hymenoptera_data', splits: ['train', 'val'] },
};

/** Download progress, for a callback. */
export interface FetchProgress {
  received: number;
  /** Total bytes when the server says (Content-Length), else undefined. */
  total?: number;
}

/** Options of `fetchDataset`. */
export interface FetchOptions {
  /** Override the archive URL (tests point it at a local server). */
  url?: string;
  /** Expected SHA-256 (hex) of the archive; a mismatch is an error and the download is deleted. */
  sha256?: string;
  /** Where to keep the archive and the unpacked folder (default `<cacheDir>/datasets`). */
  dir?: string;
  /** Called as bytes arrive. */
  onProgress?: (p: FetchProgress) => void;
  /** Show lib/display's ProgressBar (default true; false in tests). */
  progressBar?: boolean;
  /** Give up connecting after this many ms (default 5000): offline fails fast. */
  connectTimeoutMs?: number;
  /** Give up when no byte arrives for this many ms (default 30000). */
  idleTimeoutMs?: number;
  /** Resume attempts after a broken connection (default 3). */
  retries?: number;
  /** Print messages (default console.warn). */
  log?: (msg: string) => void;
}

/** Where `fetchDataset` put things. */
export interface FetchedDataset {
  /** The unpacked folder (e.g. `.../hymenoptera_data`). */
  root: string;
  /** `root/train`, `root/val`. */
  splits: Record<string, string>;
  /** SHA-256 of the archive. */
  sha256: string;
  /** True when no checksum was known and this download's checksum was pinned for next time. */
  pinned: boolean;
}

/** SHA-256 (hex) of a file, streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

class HttpError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** One GET (following redirects), appending to `part` from its current size with a Range header. */
function downloadOnce(url: string, part: string, opts: Required<Pick<FetchOptions, 'connectTimeoutMs' | 'idleTimeoutMs'>>, onBytes: (received: number, total?: number) => void, redirects = 0): Promise<void> {
  return new Promise((resolve, reject) => {
    const have = fs.existsSync(part) ? fs.statSync(part).size : 0;
    const u = new URL(url);
    const lib = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : null;
    if (!lib) return reject(new HttpError(`unsupported URL protocol ${u.protocol} in ${url}`, false));
    let settled = false;
    let out: fs.WriteStream | undefined;
    const fail = (e: HttpError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(connectTimer);
      req.destroy();
      // flush what arrived into the .part file before reporting, so a retry resumes from its true size
      if (out && !out.closed) {
        out.once('close', () => reject(e));
        if (!out.writableEnded) out.end();
      } else reject(e);
    };
    const req = lib.get(u, { headers: have > 0 ? { Range: `bytes=${have}-` } : {} });
    const connectTimer = setTimeout(
      () => fail(new HttpError(`no connection to ${u.host} within ${opts.connectTimeoutMs} ms (offline, or a firewall?)`, false)),
      opts.connectTimeoutMs,
    );
    req.on('error', (err: NodeJS.ErrnoException) => {
      const offline = ['ENOTFOUND', 'EAI_AGAIN', 'ECONNREFUSED', 'ENETUNREACH', 'EHOSTUNREACH'].includes(err.code ?? '');
      fail(new HttpError(offline ? `cannot reach ${u.host} (${err.code}): the machine looks offline` : `connection to ${u.host} broke: ${err.code ?? err.message}`, !offline));
    });
    req.on('response', (res) => {
      clearTimeout(connectTimer);
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        settled = true;
        if (redirects >= 5) return reject(new HttpError(`too many redirects from ${url}`, false));
        downloadOnce(new URL(res.headers.location, u).toString(), part, opts, onBytes, redirects + 1).then(resolve, reject);
        return;
      }
      if (status === 416 && have > 0) {
        // Range not satisfiable: the part file already holds the whole archive; the checksum decides.
        res.resume();
        settled = true;
        return resolve();
      }
      if (status !== 200 && status !== 206) {
        res.resume();
        return fail(new HttpError(`HTTP ${status} from ${url}`, status >= 500));
      }
      const append = status === 206;
      const base = append ? have : 0;
      const len = Number(res.headers['content-length']);
      const total = Number.isFinite(len) ? base + len : undefined;
      out = fs.createWriteStream(part, { flags: append ? 'a' : 'w' });
      let received = base;
      res.setTimeout(opts.idleTimeoutMs, () => fail(new HttpError(`no data from ${u.host} for ${opts.idleTimeoutMs} ms`, true)));

      res.on('aborted', () => fail(new HttpError(`connection to ${u.host} cut after ${received} bytes`, true)));
      res.on('error', (err) => fail(new HttpError(`connection to ${u.host} broke after ${received} bytes: ${err.message}`, true)));
      res.on('data', (chunk: Buffer) => {
        if (settled) return;
        out!.write(chunk);
        received += chunk.length;
        onBytes(received, total);
      });
      res.on('end', () => {
        if (!settled) out!.end();
      });
      out.on('error', (err) => fail(new HttpError(`cannot write ${part}: ${err.message}`, false)));
      out.on('finish', () => {
        if (settled) return;
        if (total !== undefined && received < total) return fail(new HttpError(`connection to ${u.host} cut after ${received} of ${total} bytes`, true));
        settled = true;
        resolve();
      });
    });
  });
}

/** Unpack a zip into `dest`, refusing any entry whose path would land outside it (zip-slip). */
export function unzipSafe(zipFile: string, dest: string): void {
  let zip: AdmZip;
  try {
    zip = new AdmZip(zipFile);
  } catch (err) {
    throw new Error(`Cannot open ${zipFile} as a zip archive: ${(err as Error).message}. Delete it and download again.`);
  }
  const root = path.resolve(dest);
  for (const entry of zip.getEntries()) {
    const name = entry.entryName.replace(/\\/g, '/');
    const target = path.resolve(root, name);
    if (path.isAbsolute(name) || (target !== root && !target.startsWith(root + path.sep))) {
      throw new Error(`Refusing to unpack ${zipFile}: entry '${entry.entryName}' would be written outside ${root} (zip-slip)`);
    }
  }
  fs.mkdirSync(root, { recursive: true });
  for (const entry of zip.getEntries()) {
    const target = path.resolve(root, entry.entryName.replace(/\\/g, '/'));
    if (entry.isDirectory) fs.mkdirSync(target, { recursive: true });
    else {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, entry.getData());
    }
  }
}

function makeProgressBar(label: string): { update(done: number, total?: number): void; close(): void } | undefined {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const display = require('../display') as { ProgressBar?: new (o: { total: number; label?: string; unit?: string }) => { update(d: number, f?: Record<string, string | number>): void; close(): void } };
    if (typeof display.ProgressBar !== 'function') return undefined;
    let bar: { update(d: number): void; close(): void } | undefined;
    return {
      update(done, total) {
        if (!bar && total) bar = new display.ProgressBar!({ total: Math.ceil(total / 1e6), label, unit: 'MB' });
        bar?.update(Math.floor(done / 1e6));
      },
      close: () => bar?.close(),
    };
  } catch {
    return undefined;
  }
}

/**
 * Download (once), verify and unpack a dataset; returns its folder with `train/` and `val/`.
 * Example: `const { splits } = await fetchDataset('hymenoptera'); await scanImageFolder(splits.train)`.
 */
export async function fetchDataset(name: string, opts: FetchOptions = {}): Promise<FetchedDataset> {
  const spec = REMOTE_DATASETS[name];
  if (!spec) throw new Error(`fetchDataset: unknown dataset '${name}'; known: ${Object.keys(REMOTE_DATASETS).join(', ')}`);
  const url = opts.url ?? spec.url;
  const dir = opts.dir ?? path.join(cacheDir(), 'datasets');
  const log = opts.log ?? ((m: string) => console.warn(m));
  const zipName = path.basename(new URL(url).pathname) || `${name}.zip`;
  const zipPath = path.join(dir, zipName);
  const part = `${zipPath}.part`;
  const pinFile = `${zipPath}.sha256`;
  const root = path.join(dir, spec.folder);
  const marker = `${root}.complete`;
  const splits = Object.fromEntries(spec.splits.map((s) => [s, path.join(root, s)]));
  fs.mkdirSync(dir, { recursive: true });

  const pinned = fs.existsSync(pinFile) ? fs.readFileSync(pinFile, 'utf8').trim() : undefined;
  const expected = (opts.sha256 ?? spec.sha256 ?? pinned)?.toLowerCase();
  if (fs.existsSync(marker)) {
    const done = fs.readFileSync(marker, 'utf8').trim();
    if (!expected || done === expected) return { root, splits, sha256: done, pinned: false };
  }

  // unpacked by hand (the offline route the error message suggests): use it as it is
  if (!fs.existsSync(marker) && spec.splits.every((sp) => fs.existsSync(splits[sp]))) {
    log(`fetchDataset: using ${root} as found (unpacked by hand, so not checksummed)`);
    return { root, splits, sha256: '', pinned: false };
  }

  // 1. the archive: reuse a complete one (e.g. put there by hand), else download/resume into .part
  let have: string | undefined;
  if (fs.existsSync(zipPath)) {
    have = await sha256File(zipPath);
    if (expected && have !== expected) {
      log(`fetchDataset: ${zipPath} has SHA-256 ${have}, expected ${expected}; downloading again`);
      fs.rmSync(zipPath);
      have = undefined;
    }
  }
  if (!have) {
    const retries = opts.retries ?? 3;
    const bar = opts.progressBar === false ? undefined : makeProgressBar(`${name} download`);
    const onBytes = (received: number, total?: number): void => {
      opts.onProgress?.({ received, total });
      bar?.update(received, total);
    };
    const tOpts = { connectTimeoutMs: opts.connectTimeoutMs ?? 5000, idleTimeoutMs: opts.idleTimeoutMs ?? 30000 };
    for (let attempt = 0; ; attempt++) {
      try {
        await downloadOnce(url, part, tOpts, onBytes);
        break;
      } catch (err) {
        const e = err as HttpError;
        if (e.retryable && attempt < retries) {
          const size = fs.existsSync(part) ? fs.statSync(part).size : 0;
          log(`fetchDataset: ${e.message}; resuming from byte ${size} (attempt ${attempt + 2} of ${retries + 1})`);
          continue;
        }
        bar?.close();
        throw new Error(
          `fetchDataset('${name}'): could not download ${url}: ${e.message}. ` +
            `Work offline by downloading it elsewhere and copying it to ${zipPath} (or unpacking it so that ${splits[spec.splits[0]]} exists).` +
            (fs.existsSync(part) ? ` The partial download ${part} is kept and will be resumed.` : ''),
        );
      }
    }
    bar?.close();
    have = await sha256File(part);
    if (expected && have !== expected) {
      fs.rmSync(part);
      throw new Error(
        `fetchDataset('${name}'): checksum mismatch for ${url}: SHA-256 ${have}, expected ${expected}. ` +
          'The download was corrupted or the file changed on the server; it was deleted — run again, or pass the new sha256 if the change is legitimate' +
          (pinned && !opts.sha256 ? ` (the expected value was pinned by an earlier download in ${pinFile}; delete that file to re-pin)` : '') +
          '.',
      );
    }
    fs.renameSync(part, zipPath);
  }
  let didPin = false;
  if (!expected) {
    fs.writeFileSync(pinFile, `${have}\n`);
    didPin = true;
    log(`fetchDataset: no known SHA-256 for ${url}; pinned ${have} in ${pinFile} (later downloads must match)`);
  }

  // 2. unpack into a temporary folder, check the layout, then move into place
  const tmp = path.join(dir, `.unpack-${process.pid}-${Date.now()}`);
  try {
    unzipSafe(zipPath, tmp);
    const unpacked = path.join(tmp, spec.folder);
    for (const s of spec.splits) {
      if (!fs.existsSync(path.join(unpacked, s))) {
        throw new Error(`fetchDataset('${name}'): ${zipPath} has no ${spec.folder}/${s}/ folder; expected ${spec.folder}/{${spec.splits.join(',')}}/<class>/<image>`);
      }
    }
    fs.rmSync(root, { recursive: true, force: true });
    fs.renameSync(unpacked, root);
    fs.writeFileSync(marker, `${have}\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return { root, splits, sha256: have, pinned: didPin };
}
