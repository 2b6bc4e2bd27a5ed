/**
 * Online data: a dataset archive is downloaded once (lib/data/download: several locations, resume, SHA-256),
 * unpacked safely (no path escapes the target folder) and its image folder returned. An offline classroom uses a
 * folder made by `npm run fetch -- hymenoptera --out DIR` (`from` / KIT_FETCH_FROM) and never touches the network.
 */
import * as fs from 'fs';
import * as path from 'path';
import AdmZip from 'adm-zip';
import { cacheDir } from '../config';
import {
  byteProgress, downloadArtefact, fetchFromDir, mirrorLocation, offlineAdvice, sha256File,
  type FetchProgress, type Location, type NetOptions,
} from './download';

import { knownDatasets, type RemoteDataset } from './remote-datasets';

export { sha256File, type FetchProgress } from './download';
export { REMOTE_DATASETS, knownDatasets, readDatasetsFile, type RemoteDataset } from './remote-datasets';

/** Options of `fetchDataset` (network options as in lib/data/download). */
export interface FetchOptions extends NetOptions {
  /** One URL instead of the known locations (a mirror of your own; tests point it at a local server). */
  url?: string;
  /** Locations tried in order instead of the known ones. */
  locations?: Location[];
  /** A dataset of your own (then `name` only names it in messages). */
  spec?: RemoteDataset;
  /** Expected SHA-256 (hex) of the archive, instead of the built-in one. */
  sha256?: string;
  /** Where to keep the archive and the unpacked folder (default `<cacheDir>/datasets`). */
  dir?: string;
  /** A folder made by `npm run fetch -- NAME --out DIR`: used first, read only, no network (default KIT_FETCH_FROM). */
  from?: string;
  /** Called as bytes arrive. */
  onProgress?: (p: FetchProgress) => void;
  /** Show lib/display's ProgressBar (default true; false in tests). */
  progressBar?: boolean;
}

/** Where `fetchDataset` put things. */
export interface FetchedDataset {
  /** The unpacked folder (e.g. `.../hymenoptera_data`). */
  root: string;
  /** `root/train`, `root/val`. */
  splits: Record<string, string>;
  /** SHA-256 of the archive ('' for a folder unpacked by hand). */
  sha256: string;
  /** True when no checksum was known and this download's checksum was pinned for next time. */
  pinned: boolean;
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

const splitsOf = (root: string, spec: RemoteDataset) => Object.fromEntries(spec.splits.map((s) => [s, path.join(root, s)]));
const hasSplits = (root: string, spec: RemoteDataset) => spec.splits.every((s) => fs.existsSync(path.join(root, s)));

/** Unpacks `zipPath` into `dir/<folder>` through a temporary folder, checking the split layout; writes the marker. */
function unpackInto(name: string, spec: RemoteDataset, zipPath: string, dir: string, sha: string): string {
  const root = path.join(dir, spec.folder);
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
    fs.writeFileSync(`${root}.complete`, `${sha}\n`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  return root;
}

/** The dataset from an offline folder (`from`): unpacked there (used in place) or its archive (checked, unpacked here). */
async function fromOfflineFolder(name: string, spec: RemoteDataset, from: string, dir: string, expected?: string): Promise<FetchedDataset> {
  const base = path.join(from, 'datasets');
  const root = path.join(base, spec.folder);
  const marker = `${root}.complete`;
  if (hasSplits(root, spec)) {
    const sha = fs.existsSync(marker) ? fs.readFileSync(marker, 'utf8').trim() : '';
    if (expected && sha && sha !== expected) throw new Error(`fetchDataset('${name}'): ${root} was unpacked from an archive with SHA-256 ${sha}, expected ${expected}`);
    return { root, splits: splitsOf(root, spec), sha256: sha, pinned: false };
  }
  const zip = path.join(base, spec.archive);
  if (!fs.existsSync(zip)) {
    throw new Error(
      `fetchDataset('${name}'): the offline folder ${from} has neither ${root}/{${spec.splits.join(',')}} nor ${zip}. ` +
        `Make it on a machine with internet with \`npm run fetch -- ${name} --out ${from}\`.`,
    );
  }
  const sha = await sha256File(zip);
  if (expected && sha !== expected) throw new Error(`fetchDataset('${name}'): ${zip} has SHA-256 ${sha}, expected ${expected}; copy it again (or fetch it again)`);
  const ownRoot = path.join(dir, spec.folder);
  const done = fs.existsSync(`${ownRoot}.complete`) && fs.readFileSync(`${ownRoot}.complete`, 'utf8').trim() === sha;
  fs.mkdirSync(dir, { recursive: true });
  return { root: done ? ownRoot : unpackInto(name, spec, zip, dir, sha), splits: splitsOf(ownRoot, spec), sha256: sha, pinned: false };
}

/**
 * Download (once), verify and unpack a dataset; returns its folder with `train/` and `val/`.
 * Example: `const { splits } = await fetchDataset('hymenoptera'); await scanImageFolder(splits.train)`.
 */
export async function fetchDataset(name: string, opts: FetchOptions = {}): Promise<FetchedDataset> {
  const spec = opts.spec ?? knownDatasets()[name];
  if (!spec) {
    throw new Error(
      `fetchDataset: unknown dataset '${name}'; known: ${Object.keys(knownDatasets()).join(', ')}. ` +
        'An archive of your own: describe it in a JSON file and set KIT_DATASETS to its path (docs/data.md).',
    );
  }
  const dir = opts.dir ?? path.join(cacheDir(), 'datasets');
  const log = opts.log ?? ((m: string) => console.warn(m));
  const zipPath = path.join(dir, spec.archive);
  const pinFile = `${zipPath}.sha256`;
  const root = path.join(dir, spec.folder);
  const marker = `${root}.complete`;
  const custom = opts.locations ?? (opts.url ? [{ label: 'given url', url: opts.url }] : undefined);
  const known = (opts.sha256 ?? (custom ? undefined : spec.sha256))?.toLowerCase();
  const expected = known ?? (fs.existsSync(pinFile) ? fs.readFileSync(pinFile, 'utf8').trim().toLowerCase() : undefined);
  const from = fetchFromDir(opts.from);
  if (from) return fromOfflineFolder(name, spec, from, dir, expected);

  if (fs.existsSync(marker)) {
    const done = fs.readFileSync(marker, 'utf8').trim();
    if (!expected || done === expected) return { root, splits: splitsOf(root, spec), sha256: done, pinned: false };
  }
  // unpacked by hand (the offline route the error message suggests): use it as it is
  if (!fs.existsSync(marker) && hasSplits(root, spec)) {
    log(`fetchDataset: using ${root} as found (unpacked by hand, so not checksummed)`);
    return { root, splits: splitsOf(root, spec), sha256: '', pinned: false };
  }
  fs.mkdirSync(dir, { recursive: true });
  const locations = custom ?? [...mirrorLocation(`datasets/${spec.archive}`), ...spec.locations];
  const progress = byteProgress(`${name} download`, opts);
  let got;
  try {
    got = await downloadArtefact(
      {
        what: `${name} (${spec.archive})`,
        locations,
        file: zipPath,
        sha256: known,
        pinFile,
        advice: offlineAdvice(name, `Or download ${spec.locations[0].url} by hand and copy it to ${zipPath} (or unpack it so that ${path.join(root, spec.splits[0])} exists).`),
      },
      { ...opts, log, onBytes: (d, t) => progress.add(d, t) },
    );
  } finally {
    progress.close();
  }
  unpackInto(name, spec, zipPath, dir, got.sha256);
  return { root, splits: splitsOf(root, spec), sha256: got.sha256, pinned: got.pinned };
}
