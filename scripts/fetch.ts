/**
 * `npm run fetch -- mobilenet_v1 mobilenet_v2 hymenoptera [--out DIR] [--from DIR] [--list]`
 *
 * Downloads published backbones and datasets once — into the kit's cache, or into DIR laid out like the cache, for
 * a classroom without internet: copy DIR to every machine (or a shared drive) and set KIT_FETCH_FROM=DIR, or serve
 * it on the classroom network and set KIT_MIRROR=http://HOST:PORT. `--from DIR` does the reverse on a machine with
 * no network: checks what DIR holds and copies it into the cache (or `--out`). Every file is SHA-256 checked.
 */
import * as fs from 'fs';
import * as path from 'path';
import { runCommand, UsageError, type CommandSpec } from './lib/cli';
import { cacheDir } from '../lib/config';
import { REMOTE_DATASETS, fetchDataset, knownDatasets, type RemoteDataset } from '../lib/data/fetch';
import { PUBLISHED_BACKBONES, fetchBackbone, type BackboneSpec } from '../lib/models/published';
import { verifyModelFolder } from '../lib/models/fetch-model';

export const SPEC = {
  name: 'npm run fetch --',
  summary: 'Download published backbones and datasets once (into the cache, or a folder for a classroom without internet).',
  flags: {
    out: { kind: 'string', arg: 'DIR', help: 'put everything in DIR (laid out like the cache) instead of the cache' },
    from: { kind: 'string', arg: 'DIR', help: 'no network: take the artefacts from DIR (made by --out) and copy them into the cache / --out' },
    list: { kind: 'boolean', help: 'list what can be fetched, and from where' },
  },
  positionals: { name: 'NAME', help: `backbones (${Object.keys(PUBLISHED_BACKBONES).join(', ')}) and datasets (${Object.keys(REMOTE_DATASETS).join(', ')}; your own: KIT_DATASETS, docs/data.md)` },
  epilog:
    'Examples:\n  npm run fetch -- mobilenet_v1 hymenoptera                 # into the cache\n' +
    '  npm run fetch -- mobilenet_v1 mobilenet_v2 hymenoptera --out /media/usb/kit   # a classroom folder\n' +
    '  npm run fetch -- mobilenet_v1 hymenoptera --from /media/usb/kit                # on a machine without internet',
} satisfies CommandSpec;

/** Registries the command reads (tests pass their own). */
export interface Registries {
  backbones: Record<string, BackboneSpec>;
  datasets: Record<string, RemoteDataset>;
}

/** One fetched artefact, for the summary. */
export interface FetchedRow {
  name: string;
  kind: 'backbone' | 'dataset';
  path: string;
  from: string;
}

/** The `--list` text: every artefact with its locations in the order they are tried. */
export function listText(reg: Registries): string {
  const lines: string[] = [];
  for (const [name, s] of Object.entries(reg.backbones)) {
    lines.push(`${name} (backbone): ${s.description}`, ...s.locations.map((l, i) => `  ${i + 1}. ${l.label} [${l.format}] ${l.url}`));
  }
  for (const [name, s] of Object.entries(reg.datasets)) {
    lines.push(`${name} (dataset): ${s.description}${s.sha256 ? `; SHA-256 ${s.sha256.slice(0, 16)}… from ${s.sha256Source}` : ''}`, ...s.locations.map((l, i) => `  ${i + 1}. ${l.label} ${l.url}`));
  }
  return lines.join('\n');
}

/** Copies `src` (a file or folder) to `dest` unless it is already there. */
function copyInto(src: string, dest: string): void {
  if (path.resolve(src) === path.resolve(dest)) return;
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.cpSync(src, dest, { recursive: true, force: true });
}

/** A dataset from an offline folder copied into `root/datasets` (archive preferred, else the unpacked folder). */
async function datasetFrom(name: string, spec: RemoteDataset, from: string, root: string, log: (m: string) => void): Promise<string> {
  const src = path.join(from, 'datasets');
  const zip = path.join(src, spec.archive);
  const dest = path.join(root, 'datasets');
  if (fs.existsSync(zip)) {
    copyInto(zip, path.join(dest, spec.archive));
    return (await fetchDataset(name, { spec, dir: dest, locations: [], progressBar: false, log })).root; // checks the SHA-256, unpacks
  }
  const got = await fetchDataset(name, { spec, from, dir: dest, log }); // unpacked there: checked, then copied
  for (const f of [spec.folder, `${spec.folder}.complete`]) if (fs.existsSync(path.join(src, f))) copyInto(path.join(src, f), path.join(dest, f));
  return got.root === path.join(src, spec.folder) ? path.join(dest, spec.folder) : got.root;
}

/** Fetches (or copies from `from`) every named artefact into `root`; returns what went where. */
export async function runFetch(names: string[], opts: { root: string; from?: string; log?: (m: string) => void; progressBar?: boolean }, reg: Registries): Promise<FetchedRow[]> {
  const log = opts.log ?? ((m: string) => process.stderr.write(m + '\n'));
  const unknown = names.filter((n) => !reg.backbones[n] && !reg.datasets[n]);
  if (unknown.length) throw new UsageError(`unknown name ${unknown.join(', ')}; known: ${[...Object.keys(reg.backbones), ...Object.keys(reg.datasets)].join(', ')}`);
  const rows: FetchedRow[] = [];
  for (const name of names) {
    if (reg.backbones[name]) {
      const dir = path.join(opts.root, 'backbones');
      if (opts.from) {
        const checked = await fetchBackbone({ name, spec: reg.backbones[name], from: opts.from, log });
        const dest = path.join(dir, name, checked.location.id);
        copyInto(checked.dir, dest);
        const v = await verifyModelFolder(dest);
        if (!v.ok) throw new Error(`${name}: the copy in ${dest} does not verify (${v.why})`);
        rows.push({ name, kind: 'backbone', path: dest, from: checked.dir });
      } else {
        const got = await fetchBackbone({ name, spec: reg.backbones[name], dir, log, progressBar: opts.progressBar });
        rows.push({ name, kind: 'backbone', path: got.dir, from: got.location.label });
      }
    } else {
      const spec = reg.datasets[name];
      const p = opts.from ? await datasetFrom(name, spec, opts.from, opts.root, log) : (await fetchDataset(name, { spec, dir: path.join(opts.root, 'datasets'), log, progressBar: opts.progressBar })).root;
      rows.push({ name, kind: 'dataset', path: p, from: opts.from ?? 'its known locations' });
    }
  }
  return rows;
}

/** The closing note: how the folder serves a classroom. */
export function classroomNote(root: string): string {
  return [
    `Everything is in ${root}. For a classroom without internet:`,
    `  - copy it to every machine (or a shared drive) and set KIT_FETCH_FROM=${root} before starting Jupyter (or \`npm run fetch -- NAMES --from ${root}\` on each machine);`,
    `  - or serve it on the classroom network (e.g. \`cd ${root} && python3 -m http.server 8000\`) and set KIT_MIRROR=http://THAT-MACHINE:8000.`,
  ].join('\n');
}

if (require.main === module) {
  void runCommand(SPEC, process.argv.slice(2), async (flags, names) => {
    const reg = { backbones: PUBLISHED_BACKBONES, datasets: knownDatasets() };
    if (flags.list) return void process.stdout.write(listText(reg) + '\n');
    if (names.length === 0) throw new UsageError('name at least one backbone or dataset (or --list)');
    if (flags.from && !fs.existsSync(flags.from)) throw new UsageError(`--from ${flags.from}: no such folder`);
    const root = path.resolve(flags.out ?? cacheDir());
    // fetch downloads (KIT_FETCH_FROM is for the kit's users); --from means no network at all, not even a mirror
    delete process.env.KIT_FETCH_FROM;
    if (flags.from) delete process.env.KIT_MIRROR;
    const rows = await runFetch(names, { root, from: flags.from ? path.resolve(flags.from) : undefined }, reg).catch((e: Error) => {
      e.stack = e.message; // an expected failure (offline, a host refusing): the message says it all, no stack trace
      throw e;
    });
    for (const r of rows) process.stdout.write(`${r.name} (${r.kind}): ${r.path}  [from ${r.from}]\n`);
    if (flags.out) process.stdout.write(classroomNote(root) + '\n');
  });
}
