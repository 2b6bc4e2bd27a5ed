// scripts/fetch.ts: `npm run fetch -- NAMES --out DIR` makes a classroom folder; `--from DIR` installs it with no network.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import AdmZip from 'adm-zip';
import { runFetch, listText, classroomNote, type Registries } from '../../scripts/fetch';
import { buildPlainCnn, saveModel } from '../../lib/models';
import { loadPublishedBackbone, type BackboneSpec, type ModelLocation } from '../../lib/models/published';
import { fetchDataset, type RemoteDataset } from '../../lib/data/fetch';
import { repoRoot } from '../../lib/config';
import { FakeHosts, closedPort } from '../data/fetch-hosts';
import { rmTmp, tmpDir, writeImage } from '../data/helpers';

const hosts = new FakeHosts();
const dir = tmpDir('kit-fetch-cli-');
let online: Registries;
let offline: Registries;

const backbone = (url: string): BackboneSpec => {
  const loc: ModelLocation = { id: 'bucket', label: 'bucket', url, format: 'layers', range: '[-1,1]', cutAt: 'block1_conv' };
  return { description: 'tiny', inputSize: 8, features: 4, locations: [loc], url, format: 'layers', range: '[-1,1]', cutAt: loc.cutAt };
};
const dataset = (url: string, sha256: string): RemoteDataset => ({
  description: 'tiny photos', locations: [{ label: 'bucket', url }], archive: 'tiny.zip', sha256, sha256Source: 'this test', folder: 'tiny', splits: ['train', 'val'],
});

before(async () => {
  await hosts.start();
  const m = buildPlainCnn({ inputShape: [8, 8, 3], numClasses: 2, filters: [4], seed: 1 });
  const md = path.join(dir, 'm');
  await saveModel(m, md);
  m.dispose();
  for (const f of fs.readdirSync(md)) hosts.files.set(`/tiny/${f}`, fs.readFileSync(path.join(md, f)));
  const z = new AdmZip();
  for (const split of ['train', 'val'])
    for (const cls of ['a', 'b']) {
      const f = path.join(dir, `${split}${cls}.png`);
      await writeImage(f, 8, 8, cls === 'a' ? 1 : 2);
      z.addFile(`tiny/${split}/${cls}/0.png`, fs.readFileSync(f));
    }
  const zip = z.toBuffer();
  hosts.files.set('/tiny.zip', zip);
  const sha = crypto.createHash('sha256').update(zip).digest('hex');
  online = { backbones: { tinynet: backbone(`${hosts.base}/bucket/tiny/model.json`) }, datasets: { tinyphotos: dataset(`${hosts.base}/bucket/tiny.zip`, sha) } };
  const port = await closedPort();
  offline = { backbones: { tinynet: backbone(`http://127.0.0.1:${port}/model.json`) }, datasets: { tinyphotos: dataset(`http://127.0.0.1:${port}/tiny.zip`, sha) } };
});
after(async () => {
  await hosts.stop();
  rmTmp(dir);
});

const quiet = () => undefined;

test('--out DIR: a classroom folder laid out like the cache; --from DIR on a machine without network; the kit then needs no network', async () => {
  const classroom = path.join(dir, 'classroom');
  const rows = await runFetch(['tinynet', 'tinyphotos'], { root: classroom, log: quiet, progressBar: false }, online);
  assert.deepEqual(rows.map((r) => [r.name, r.kind, path.relative(classroom, r.path)]), [
    ['tinynet', 'backbone', path.join('backbones', 'tinynet', 'bucket')],
    ['tinyphotos', 'dataset', path.join('datasets', 'tiny')],
  ]);
  assert.ok(fs.existsSync(path.join(classroom, 'backbones', 'tinynet', 'bucket', 'sha256.json')));
  assert.ok(fs.existsSync(path.join(classroom, 'datasets', 'tiny.zip')));
  assert.match(classroomNote(classroom), /KIT_FETCH_FROM=.*classroom[\s\S]*KIT_MIRROR=http:\/\//);
  // a student machine with no network: install from the folder, then use the cache offline
  hosts.requests.length = 0;
  const student = path.join(dir, 'student-cache');
  const copied = await runFetch(['tinynet', 'tinyphotos'], { root: student, from: classroom, log: quiet, progressBar: false }, offline);
  assert.equal(copied[0].path, path.join(student, 'backbones', 'tinynet', 'bucket'));
  assert.equal(copied[1].path, path.join(student, 'datasets', 'tiny'));
  const bb = await loadPublishedBackbone({ name: 'tinynet', spec: offline.backbones.tinynet, dir: path.join(student, 'backbones'), progressBar: false, log: quiet });
  bb.dispose();
  const ds = await fetchDataset('tinyphotos', { spec: offline.datasets.tinyphotos, dir: path.join(student, 'datasets'), progressBar: false, log: quiet });
  assert.ok(fs.existsSync(path.join(ds.splits.train, 'a', '0.png')));
  assert.equal(hosts.requests.length, 0, 'no request on the student machine');
  // --from a folder that lacks something: the error says how to make it
  await assert.rejects(runFetch(['tinynet'], { root: student, from: path.join(dir, 'nothing'), log: quiet }, offline), /holds no verified copy .*`npm run fetch -- tinynet --out /);
  await assert.rejects(runFetch(['resnet'], { root: student, log: quiet }, offline), /unknown name resnet; known: tinynet, tinyphotos/);
});

test('--list names every location in the order tried; usage mistakes exit 2 (no network touched)', () => {
  assert.match(listText(online), /tinynet \(backbone\): tiny\n {2}1\. bucket \[layers\] http:\/\/127\.0\.0\.1:\d+\/bucket\/tiny\/model\.json\ntinyphotos \(dataset\): tiny photos; SHA-256 [0-9a-f]{16}… from this test\n {2}1\. bucket/);
  const tsx = path.join(repoRoot(), 'node_modules', '.bin', 'tsx');
  const run = (args: string[]) => spawnSync(tsx, ['scripts/fetch.ts', ...args], { cwd: repoRoot(), encoding: 'utf8', env: { ...process.env, KIT_MIRROR: '', KIT_FETCH_FROM: '' } });
  const list = run(['--list']);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /mobilenet_v2 \(backbone\)[\s\S]*1\. tfjs-models bucket \[graph\] https:\/\/storage\.googleapis\.com\/tfjs-models\/savedmodel\/mobilenet_v2_1\.0_224\/model\.json[\s\S]*hymenoptera \(dataset\)/);
  const none = run([]);
  assert.equal(none.status, 2);
  assert.match(none.stderr, /name at least one backbone or dataset/);
  const unknown = run(['resnet9000', '--out', path.join(dir, 'x')]);
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /unknown name resnet9000; known: mobilenet_v2, mobilenet_v1, mobilenet_v1_025, hymenoptera/);
});

test('KIT_DATASETS: the command lists and knows an archive of your own; a broken file is an error naming it', () => {
  const tsx = path.join(repoRoot(), 'node_modules', '.bin', 'tsx');
  const file = path.join(dir, 'own-datasets.json');
  const run = (args: string[]) => spawnSync(tsx, ['scripts/fetch.ts', ...args], { cwd: repoRoot(), encoding: 'utf8', env: { ...process.env, KIT_MIRROR: '', KIT_FETCH_FROM: '', KIT_DATASETS: file } });
  fs.writeFileSync(file, JSON.stringify({ 'school-photos': { locations: [{ label: 'school server', url: 'https://files.school.example/photos.zip' }], archive: 'photos.zip', folder: 'photos', sha256: 'ab'.repeat(32) } }));
  const list = run(['--list']);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /school-photos \(dataset\): photos\.zip \(KIT_DATASETS=.*own-datasets\.json, dataset 'school-photos'\); SHA-256 abababababababab… from KIT_DATASETS=.*\n {2}1\. school server https:\/\/files\.school\.example\/photos\.zip/);
  fs.writeFileSync(file, JSON.stringify({ 'school-photos': { locations: [], archive: 'photos.zip', folder: 'photos' } }));
  const broken = run(['--list']);
  assert.notEqual(broken.status, 0);
  assert.match(broken.stderr, /KIT_DATASETS=.*own-datasets\.json, dataset 'school-photos': needs 'locations'/);
});
