/**
 * Notebook 05's online path — a photo dataset and a published ImageNet backbone, the lecture's practical — executed
 * by the kit's runner (real tslab kernel, the kit's Jupyter client) with a loopback server standing in for the
 * internet. Everything the notebook needs is DOWNLOADED by the kit's own code and SHA-256 checked:
 * - the photos: a small zip in the ants/bees layout, described in a KIT_DATASETS file with its SHA-256. The
 *   classroom mirror (KIT_MIRROR) holds a corrupt copy, so the pin rejects it and the next location (a 301 redirect
 *   to a bucket) is used. (The built-in 'hymenoptera' pins the real archive's hash, which no stand-in zip can pass;
 *   `dataset = NAME` takes the same code path for both — test/data/fetch.test.ts covers the built-in spec.)
 * - the backbone: a MobileNet-V1-shaped stand-in (the real layer names, cut and blocks; 4 channels wide) served by
 *   the mirror as `mobilenet_v1`; its weight file is cut once mid-body, so the kit resumes it with a Range request,
 *   then pins both files' SHA-256 in the cache's sha256.json.
 * KIT_ONLY_HOSTS keeps every public host out of reach. `npm test -- 05-online` runs only this file (≈ 1–2 min).
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import AdmZip from 'adm-zip';
import { saveModel } from '../../lib/models/storage';
import { buildTinyMobileNetV1 } from '../models/tiny-mobilenet';
import { FakeHosts } from '../data/fetch-hosts';
import { rmTmp, tmpDir, writeImage } from '../data/helpers';

const root = path.resolve(__dirname, '..', '..');
const notebook = process.env.NB05_FILE ?? path.join(root, 'notebooks', '05-practice.ipynb');
const hosts = new FakeHosts();
const dir = tmpDir('kit-05-online-');
const cache = path.join(dir, 'cache');
const NAME = 'ants-bees-tiny';
const ARCHIVE = `${NAME}.zip`;
const BACKBONE = '/classroom/backbones/mobilenet_v1/tfjs-models';
const CUT_AT = 2048; // the weight file's first response stops after this many bytes
const sha256 = (b: Buffer) => crypto.createHash('sha256').update(b).digest('hex');
/** What the server holds, by path, with each file's SHA-256. */
const served: Record<string, string> = {};

before(async () => {
  await hosts.start();
  // the photos: 10 training and 4 test images per class, in the tutorial's zip layout (folder/split/class/image)
  const zip = new AdmZip();
  for (const [split, n] of [['train', 10], ['val', 4]] as const)
    for (const [k, cls] of ['ants', 'bees'].entries())
      for (let i = 0; i < n; i++) {
        const f = path.join(dir, 'src', `${split}-${cls}-${i}.jpg`);
        await writeImage(f, 64, 48, k * 50 + i + (split === 'val' ? 20 : 0));
        zip.addFile(`ants_bees_tiny/${split}/${cls}/${cls}-${i}.jpg`, fs.readFileSync(f));
      }
  const good = zip.toBuffer();
  const corrupt = Buffer.from(good);
  corrupt[corrupt.length >> 1] ^= 0xff;
  hosts.files.set(`/classroom/datasets/${ARCHIVE}`, corrupt);
  hosts.files.set(`/school/${ARCHIVE}`, good);
  served.dataset = sha256(good);
  fs.writeFileSync(
    path.join(dir, 'datasets.json'),
    JSON.stringify({
      [NAME]: {
        description: 'ants vs bees, a tiny test copy',
        locations: [{ label: 'school server', url: `${hosts.base}/moved/school/${ARCHIVE}` }],
        archive: ARCHIVE,
        sha256: served.dataset,
        folder: 'ants_bees_tiny',
      },
    }),
  );
  // the backbone: saved as tfjs's model.json + weights.bin, served by the mirror
  const m = buildTinyMobileNetV1(224, 4, 10, 7);
  const md = path.join(dir, 'model');
  await saveModel(m, md);
  m.dispose();
  for (const f of fs.readdirSync(md)) {
    const body = fs.readFileSync(path.join(md, f));
    hosts.files.set(`${BACKBONE}/${f}`, body);
    served[f] = sha256(body);
  }
  assert.ok(hosts.files.get(`${BACKBONE}/weights.bin`)!.length > 2 * CUT_AT, 'the weight file is big enough to be cut');
  hosts.misbehave.set(`${BACKBONE}/weights.bin`, { cutAfter: [CUT_AT] });
});
after(async () => {
  await hosts.stop();
  rmTmp(dir);
});

/** Runs the runner without blocking this process (the loopback server must answer meanwhile). */
function runNotebook(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'notebooks.ts'), ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface Output { output_type: string; name?: string; text?: string | string[]; data?: Record<string, string | string[]> }
interface Cell { id: string; cell_type: string; source: string | string[]; outputs?: Output[] }
const outputText = (o: Output) => [o.text ?? '', ...Object.values(o.data ?? {})].flat().join('');
const sourceOf = (c: Cell) => [c.source].flat().join('');

test('05 with a photo dataset: downloaded and pinned, ImageNet backbone (stand-in) resumed and pinned, freeze → head → top blocks, F1 and the report', { timeout: 10 * 60 * 1000 }, async () => {
  const out = path.join(dir, 'out');
  const res = await runNotebook(['--quick', '--param', `dataset=${NAME}`, '--out', out, notebook], {
    ...process.env,
    KIT_QUICK: '1',
    KIT_CACHE_DIR: cache,
    KIT_DATASETS: path.join(dir, 'datasets.json'),
    KIT_MIRROR: `${hosts.base}/bucket/classroom`,
    KIT_ONLY_HOSTS: '127.0.0.1',
    KIT_FETCH_FROM: '',
  });
  const executed = path.join(out, 'notebooks', path.basename(notebook));
  assert.ok(fs.existsSync(executed), `no executed notebook (exit ${res.status}):\n${res.stdout.slice(-2000)}\n${res.stderr.slice(-3000)}`);
  const nb = JSON.parse(fs.readFileSync(executed, 'utf8')) as { cells: Cell[] };
  const errors = nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === 'error'));
  assert.equal(res.status, 0, `runner exit ${res.status}; errors: ${JSON.stringify(errors).slice(0, 3000)}\n${res.stdout.slice(-2000)}`);
  /** The text a cell printed (every output), found by a piece of its source. */
  const printed = (piece: string) => {
    const cell = nb.cells.find((c) => c.cell_type === 'code' && sourceOf(c).includes(piece));
    assert.ok(cell, `no code cell contains ${JSON.stringify(piece)}`);
    return (cell.outputs ?? []).map(outputText).join('\n');
  };

  // the download: the mirror's corrupt copy rejected by the pin, the school server's (after a redirect) used
  const fetched = printed('kit.fetchDataset(dataset)');
  assert.match(fetched, /classroom mirror \(KIT_MIRROR\) — .*checksum mismatch: SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64} \(download deleted\); trying the next location/);
  const unpacked = path.join(cache, 'datasets', 'ants_bees_tiny');
  assert.ok(fetched.includes(`${unpacked}/train: 20 images`), `the table caption names the downloaded folder and its 20 images:\n${fetched.slice(0, 1500)}`);
  assert.match(printed("scanImageFolder(path.join(root, 'val'))"), /train: 16,\s*val: 4,\s*test: 8/);
  assert.equal(fs.readFileSync(`${unpacked}.complete`, 'utf8').trim(), served.dataset, 'the unpacked folder records the pinned archive hash');
  assert.equal(sha256(fs.readFileSync(path.join(cache, 'datasets', ARCHIVE))), served.dataset);

  // the backbone: from the mirror, the cut weight file resumed, both files pinned
  const loaded = printed('kit.resolvePublishedSource(backbone)');
  assert.match(loaded, /MobileNet V1 1\.0-224, ImageNet.*loaded from classroom mirror \(KIT_MIRROR\) \(layers model\)/);
  assert.match(loaded, new RegExp(`resuming from byte ${CUT_AT} \\(attempt 2 of 4\\)`));
  assert.match(loaded, /no published SHA-256 for 2 file\(s\); pinned them in .*sha256\.json/);
  const pins = JSON.parse(fs.readFileSync(path.join(cache, 'backbones', 'mobilenet_v1', 'tfjs-models', 'sha256.json'), 'utf8')) as Record<string, string>;
  assert.equal(pins['model.json'], served['model.json']);
  assert.deepEqual(Object.values(pins).sort(), [served['model.json'], served['weights.bin']].sort());

  // every request, in order: nothing else was asked for
  assert.deepEqual(hosts.requests, [
    { url: `/bucket/classroom/datasets/${ARCHIVE}`, range: undefined },
    { url: `/moved/school/${ARCHIVE}`, range: undefined },
    { url: `/bucket/school/${ARCHIVE}`, range: undefined },
    { url: `/bucket${BACKBONE}/model.json`, range: undefined },
    { url: `/bucket${BACKBONE}/weights.bin`, range: undefined },
    { url: `/bucket${BACKBONE}/weights.bin`, range: `bytes=${CUT_AT}-` },
  ]);

  // the lecture's steps, as the cells print them
  assert.match(printed('function fineTunePart'), /phase 2 trains the top 2 blocks of mobilenet_v1 \(batch norm in inference mode\) and the head/);
  assert.match(printed("label: 'phase 1: frozen base, head only'"), /val_accuracy/);
  const report = printed('kit.classificationReport(');
  assert.match(report, /ants[\s\S]*bees[\s\S]*macro avg/);
  const summary = printed('are misclassified');
  const m = /(\d+) of (\d+) test images are misclassified \(accuracy ([\d.]+)%, macro F1 (\d\.\d{3})\)/.exec(summary);
  assert.ok(m, `the closing sentence: ${summary}`);
  const [wrong, total, accuracy, f1] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4])];
  assert.equal(total, 8);
  assert.ok(Math.abs(accuracy - (100 * (total - wrong)) / total) < 0.051, `accuracy ${accuracy}% is ${total - wrong}/${total}`);
  assert.ok(f1 >= 0 && f1 <= 1);
  // the report's macro-avg F1 is the sentence's macro F1
  const macro = /macro avg\s+[\d.]+\s+[\d.]+\s+([\d.]+)/.exec(report);
  assert.ok(macro, `no macro avg row in:\n${report}`);
  assert.equal(macro[1], m[4]);

  const prose = nb.cells.filter((c) => c.cell_type === 'markdown').map(sourceOf).join('\n');
  assert.match(prose, /could not be measured where this kit was built/, 'the text says the ants/bees accuracy was not measured here');
});
