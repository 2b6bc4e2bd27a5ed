/**
 * The datasets `fetchDataset` and `npm run fetch` know by name: the built-in ones (the lecture's ants/bees photos),
 * and archives of an instructor's own described in a JSON file that KIT_DATASETS names — each with its locations
 * (tried in order) and its SHA-256, so a school server's copy is checked exactly like a public one.
 */
import * as fs from 'fs';
import * as path from 'path';
import type { Location } from './download';

/** A downloadable dataset: where it lives, how to check it, what it unpacks to. */
export interface RemoteDataset {
  /** Tried in order. */
  locations: Location[];
  /** Archive file name in the cache. */
  archive: string;
  /** SHA-256 of the archive when published (otherwise the first successful download pins it). */
  sha256?: string;
  /** Where `sha256` was published. */
  sha256Source?: string;
  /** Folder the archive unpacks to. */
  folder: string;
  /** Split folders the unpacked folder must contain. */
  splits: string[];
  description: string;
}

/** Datasets `fetchDataset` knows. */
export const REMOTE_DATASETS: Record<string, RemoteDataset> = {
  hymenoptera: {
    description: "the ants/bees photos of PyTorch's transfer-learning tutorial (≈ 45 MB zip; about 120 training and 75 validation images per class, in the tutorial's words)",
    locations: [
      { label: 'PyTorch tutorial data', url: 'https://download.pytorch.org/tutorial/hymenoptera_data.zip' },
      { label: 'Lightning Flash example data', url: 'https://pl-flash-data.s3.amazonaws.com/hymenoptera_data.zip' },
    ],
    archive: 'hymenoptera_data.zip',
    sha256: 'fbc41b31d544714d18dd1230b1e2b455e1557766e13e67f9f5a7a23af7c02209',
    sha256Source: 'pytorch/tutorials, .jenkins/download_data.py (the tutorial CI pins it)',
    folder: 'hymenoptera_data',
    splits: ['train', 'val'],
  },
};

const HEX64 = /^[0-9a-f]{64}$/i;
/** A plain file or folder name: nothing that could point outside the cache. */
const plainName = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && !/[\\/]/.test(s) && s !== '.' && s !== '..';

/** One entry of a KIT_DATASETS file, checked field by field; `where` names it in errors. */
function datasetEntry(where: string, raw: unknown): RemoteDataset {
  const bad = (what: string) => new Error(`${where}: ${what}`);
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw bad('must be an object { locations, archive, folder, sha256?, splits?, description? }');
  const e = raw as Record<string, unknown>;
  const locations = e.locations;
  if (!Array.isArray(locations) || locations.length === 0) throw bad("needs 'locations': a non-empty list of { \"label\": \"…\", \"url\": \"https://…\" }");
  for (const [i, l] of locations.entries()) {
    const loc = l as Partial<Location> | null;
    if (!loc || typeof loc.label !== 'string' || typeof loc.url !== 'string' || !/^https?:\/\//.test(loc.url)) throw bad(`locations[${i}] needs a 'label' and an http(s) 'url'`);
  }
  if (!plainName(e.archive) || !/\.zip$/i.test(e.archive)) throw bad("needs 'archive': the zip's file name in the cache (no folders), e.g. \"flowers.zip\"");
  if (!plainName(e.folder)) throw bad("needs 'folder': the top folder the zip unpacks to (no slashes), e.g. \"flowers\"");
  if (e.sha256 !== undefined && !(typeof e.sha256 === 'string' && HEX64.test(e.sha256))) throw bad("'sha256' must be 64 hex digits (`sha256sum FILE.zip`), or left out to pin the first download");
  const splits = e.splits ?? ['train', 'val'];
  if (!Array.isArray(splits) || splits.length === 0 || !splits.every(plainName)) throw bad("'splits' must list the split folders inside 'folder', e.g. [\"train\", \"val\"]");
  return {
    description: typeof e.description === 'string' ? e.description : `${e.archive} (${where})`,
    locations: locations as Location[],
    archive: e.archive,
    sha256: (e.sha256 as string | undefined)?.toLowerCase(),
    sha256Source: e.sha256 ? where : undefined,
    folder: e.folder,
    splits: splits as string[],
  };
}

/** Reads a KIT_DATASETS file: `{ "NAME": { locations, archive, folder, sha256?, splits?, description? }, … }`. */
export function readDatasetsFile(file: string): Record<string, RemoteDataset> {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`KIT_DATASETS=${file}: cannot read it as JSON (${(err as Error).message}); fix the file or unset KIT_DATASETS`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`KIT_DATASETS=${file}: expected an object of datasets by name, e.g. { "flowers": { … } }`);
  const out: Record<string, RemoteDataset> = {};
  for (const [name, entry] of Object.entries(raw)) {
    // a built-in name keeps its published pin: a settings file must not be able to swap the lecture's data
    if (Object.prototype.hasOwnProperty.call(REMOTE_DATASETS, name)) throw new Error(`KIT_DATASETS=${file}: '${name}' is a built-in dataset; give yours another name`);
    if (!/^[A-Za-z0-9][\w.-]*$/.test(name)) throw new Error(`KIT_DATASETS=${file}: '${name}' is not a usable name (letters, digits, '-', '_', '.')`);
    out[name] = datasetEntry(`KIT_DATASETS=${file}, dataset '${name}'`, entry);
  }
  return out;
}

/** The datasets known by name: the built-in ones plus those of the file KIT_DATASETS names (read at each call). */
export function knownDatasets(): Record<string, RemoteDataset> {
  const file = process.env.KIT_DATASETS;
  return file ? { ...REMOTE_DATASETS, ...readDatasetsFile(path.resolve(file)) } : REMOTE_DATASETS;
}
