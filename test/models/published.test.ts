import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { buildPlainCnn, saveModel, buildTransferModel } from '../../lib/models';
import { loadPublishedBackbone, PUBLISHED_BACKBONES, type BackboneSpec, type ModelLocation } from '../../lib/models/published';
import { resolvePublishedSource } from '../../lib/models/published-source';
import { registeredGraphs } from '../../lib/models/graph-layer';
import { partFor } from '../../lib/data/download';
import { train } from '../../lib/train/loop';
import { FakeHosts, closedPort } from '../data/fetch-hosts';

const hosts = new FakeHosts();
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'kit-published-'));
const quiet = { progressBar: false, log: () => undefined, retryDelayMs: 0 } as const;
let cnn: tf.LayersModel;
const graphWeights = new Float32Array([0.5, -1, 1, 2, 0.25, -0.5]);

/** Puts every file of a model folder on the fake internet under `prefix`. */
function publish(dir: string, prefix: string): void {
  for (const f of fs.readdirSync(dir)) hosts.files.set(`${prefix}/${f}`, fs.readFileSync(path.join(dir, f)));
}

/** A hand-written TF.js graph model (the converter's JSON): images → 1×1 conv (weights in a shard) → relu. */
function writeGraphModel(dir: string): void {
  const shape = (d: number[]) => ({ dim: d.map((size) => ({ size: String(size) })) });
  const graphJson = {
    format: 'graph-model',
    generatedBy: 'test',
    convertedBy: 'hand',
    modelTopology: {
      node: [
        { name: 'images', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: shape([-1, 6, 6, 3]) } } },
        { name: 'w', op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shape([1, 1, 3, 2]) } }, dtype: { type: 'DT_FLOAT' } } },
        {
          name: 'conv', op: 'Conv2D', input: ['images', 'w'],
          attr: {
            T: { type: 'DT_FLOAT' }, strides: { list: { i: ['1', '1', '1', '1'] } }, dilations: { list: { i: ['1', '1', '1', '1'] } },
            padding: { s: Buffer.from('SAME').toString('base64') }, data_format: { s: Buffer.from('NHWC').toString('base64') },
          },
        },
        { name: 'feature_vector', op: 'Relu', input: ['conv'], attr: { T: { type: 'DT_FLOAT' } } },
      ],
      versions: { producer: 1 },
    },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [1, 1, 3, 2], dtype: 'float32' }] }],
  };
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(graphJson));
  fs.writeFileSync(path.join(dir, 'group1-shard1of1.bin'), Buffer.from(graphWeights.buffer));
}

const layersLoc = (id: string, url: string): ModelLocation => ({ id, label: id, url, format: 'layers', range: '[-1,1]', cutAt: 'block2_relu' });
const graphLoc = (id: string, url: string, cutAt?: string): ModelLocation => ({ id, label: id, url, format: 'graph', range: '[0,1]', cutAt });
const tinySpec = (locations: ModelLocation[], inputSize = 16): BackboneSpec => ({
  description: 'tiny test backbone',
  inputSize,
  features: locations[0].format === 'graph' ? 2 : 8,
  blockPattern: /^block(\d+)_/,
  locations,
  url: locations[0].url,
  format: locations[0].format,
  range: locations[0].range,
  cutAt: locations[0].cutAt,
});

before(async () => {
  await hosts.start();
  cnn = buildPlainCnn({ inputShape: [16, 16, 3], numClasses: 4, filters: [4, 8], batchNorm: true, seed: 1 });
  const layersDir = tmp();
  await saveModel(cnn, layersDir);
  publish(layersDir, '/cnn');
  const graphDir = tmp();
  writeGraphModel(graphDir);
  publish(graphDir, '/graph');
});
after(async () => {
  await hosts.stop();
  cnn.dispose();
});

test('the known backbones: the tfjs-models bucket first, then Kaggle Models and TF Hub; a layers-format one for fine-tuning', () => {
  const v2 = PUBLISHED_BACKBONES.mobilenet_v2;
  assert.deepEqual(v2.locations.map((l) => l.id), ['tfjs-models', 'kaggle', 'tfhub', 'tfhub-bucket']);
  assert.match(v2.locations[0].url, /^https:\/\/storage\.googleapis\.com\/tfjs-models\//);
  assert.match(v2.locations[1].url, /^https:\/\/www\.kaggle\.com\/models\/google\/mobilenet-v2\/TfJs\/.*\?tfjs-format=file$/);
  assert.match(v2.locations[2].url, /^https:\/\/tfhub\.dev\/.*\?tfjs-format=file$/);
  assert.equal(PUBLISHED_BACKBONES.mobilenet_v1.locations[0].format, 'layers');
  assert.equal(v2.url, v2.locations[0].url, 'the first URL stays readable as spec.url');
});

test('a layers model behind a redirect: shards are fetched next to the FINAL URL, features match a direct computation', async () => {
  const dir = tmp();
  hosts.requests.length = 0;
  // /moved/… redirects to /bucket/…; the shard exists only in the bucket
  const bb = await loadPublishedBackbone({ ...quiet, name: 'tiny', spec: tinySpec([layersLoc('moved', `${hosts.base}/moved/cnn/model.json`)]), dir });
  assert.deepEqual(hosts.requests.map((r) => r.url), ['/moved/cnn/model.json', '/bucket/cnn/model.json', '/bucket/cnn/weights.bin']);
  assert.equal(bb.dir, path.join(dir, 'tiny', 'moved'));
  assert.ok(bb.fineTunable);
  const imgs = tf.randomUniform([2, 8, 8, 3], 0, 1, 'float32', 3) as tf.Tensor4D;
  const f = bb.features(imgs);
  const ref = tf.tidy(() => {
    const cut = tf.model({ inputs: cnn.inputs, outputs: cnn.getLayer('block2_relu').output as tf.SymbolicTensor });
    return (cut.predict(tf.image.resizeBilinear(imgs, [16, 16]).mul(2).sub(1)) as tf.Tensor).mean([1, 2]);
  });
  assert.deepEqual(f.shape, [2, 8]);
  assert.ok(tf.tidy(() => f.sub(ref).abs().max().dataSync()[0]) < 1e-5);
  // the second load comes from the cache, checked against the pinned SHA-256 of every file
  const pins = JSON.parse(fs.readFileSync(path.join(bb.dir, 'sha256.json'), 'utf8'));
  assert.deepEqual(Object.keys(pins).sort(), ['./weights.bin', 'model.json']);
  hosts.requests.length = 0;
  const again = await loadPublishedBackbone({ ...quiet, name: 'tiny', spec: tinySpec([layersLoc('moved', `${hosts.base}/moved/cnn/model.json`)]), dir });
  assert.equal(hosts.requests.length, 0);
  [bb, again].forEach((b) => b.dispose());
  tf.dispose([imgs, f, ref]);
});

test('a TF Hub handle: hub → models site → signed storage URL; unsigned shards are refused, so they go through the handle', async () => {
  const dir = tmp();
  hosts.requests.length = 0;
  const spec = tinySpec([graphLoc('hub', `${hosts.base}/hub/graph/model.json?tfjs-format=file`)], 6);
  const bb = await loadPublishedBackbone({ ...quiet, name: 'tinygraph', spec, dir });
  const urls = hosts.requests.map((r) => r.url);
  assert.equal(urls[0], '/hub/graph/model.json?tfjs-format=file');
  assert.match(urls[1], /^\/models\/graph\/model\.json\?tfhub-redirect=true$/);
  assert.match(urls[2], /^\/storage\/graph\/model\.json\?X-Goog-Algorithm=GOOG4-RSA-SHA256&.*X-Goog-Signature=/);
  assert.equal(urls[3], '/storage/graph/group1-shard1of1.bin', 'first: next to the final URL, without its signature (403)');
  assert.equal(urls[4], '/hub/graph/group1-shard1of1.bin?tfjs-format=file', 'then: through the handle, with its query');
  assert.match(urls[6], /^\/storage\/graph\/group1-shard1of1\.bin\?X-Goog-Algorithm=.*X-Goog-Signature=[0-9a-f]{64}$/);
  assert.equal(bb.format, 'graph');
  assert.equal(bb.fineTunable, false);
  const imgs = tf.randomUniform([2, 3, 3, 3], 0, 1, 'float32', 8) as tf.Tensor4D;
  const f = bb.features(imgs);
  const ref = tf.tidy(() => tf.relu(tf.conv2d(tf.image.resizeBilinear(imgs, [6, 6]), tf.tensor4d(graphWeights, [1, 1, 3, 2]), 1, 'same')).mean([1, 2]));
  assert.ok(tf.tidy(() => f.sub(ref).abs().max().dataSync()[0]) < 1e-6);
  // an inner node as the cut (before the relu)
  const pre = await loadPublishedBackbone({ ...quiet, name: 'tinygraph-conv', spec: tinySpec([graphLoc('hub', `${hosts.base}/hub/graph/model.json?tfjs-format=file`, 'conv')], 6), dir });
  const g = pre.features(imgs);
  const refPre = tf.tidy(() => tf.conv2d(tf.image.resizeBilinear(imgs, [6, 6]), tf.tensor4d(graphWeights, [1, 1, 3, 2]), 1, 'same').mean([1, 2]));
  assert.ok(tf.tidy(() => g.sub(refPre).abs().max().dataSync()[0]) < 1e-6);
  [bb, pre].forEach((b) => b.dispose());
  tf.dispose([imgs, f, ref, g, refPre]);
});

test('a 403 on the first location falls through to the second; all failing names each one', async () => {
  hosts.forbidden.add('/storage/cnn');
  const dir = tmp();
  const logs: string[] = [];
  const spec = tinySpec([layersLoc('kaggle', `${hosts.base}/models/cnn/model.json?tfjs-format=file`), layersLoc('bucket', `${hosts.base}/bucket/cnn/model.json`)]);
  const bb = await loadPublishedBackbone({ ...quiet, log: (m) => logs.push(m), name: 'tiny', spec, dir });
  assert.equal(bb.location.id, 'bucket');
  assert.match(logs.join('\n'), /tiny: kaggle failed; trying the next location/);
  bb.dispose();
  const bad = tinySpec([layersLoc('kaggle', `${hosts.base}/models/cnn/model.json?tfjs-format=file`), layersLoc('gone', `${hosts.base}/bucket/nothing/model.json`)]);
  await assert.rejects(
    loadPublishedBackbone({ ...quiet, name: 'tiny2', spec: bad, dir }),
    /Could not download tiny2 from any of its 2 known locations:\n {2}1\. kaggle — .*\/models\/cnn\/model\.json\?…: HTTP 403 Forbidden \(redirected 1× to .*\/storage\/cnn\/model\.json\?…\)\n {2}2\. gone — .*: HTTP 404 Not Found/,
  );
  hosts.forbidden.clear();
});

test('a truncated shard, a cut shard (resumed) and a shard that changed after pinning', async () => {
  const dir = tmp();
  // truncated (ends cleanly, short): the sizes do not add up → next location
  hosts.files.set('/short/model.json', hosts.files.get('/cnn/model.json')!);
  hosts.files.set('/short/weights.bin', hosts.files.get('/cnn/weights.bin')!);
  hosts.misbehave.set('/short/weights.bin', { truncateTo: 100 });
  const spec = tinySpec([layersLoc('short', `${hosts.base}/bucket/short/model.json`), layersLoc('bucket', `${hosts.base}/bucket/cnn/model.json`)]);
  const logs: string[] = [];
  const bb = await loadPublishedBackbone({ ...quiet, log: (m) => logs.push(m), name: 'tiny', spec, dir });
  assert.equal(bb.location.id, 'bucket');
  bb.dispose();
  await assert.rejects(
    loadPublishedBackbone({ ...quiet, name: 'tiny-short', spec: tinySpec([spec.locations[0]]), dir }),
    /1\. short — .*: .*weight files hold 100 bytes but model\.json describes \d+ \(truncated or corrupt shard\?\)/,
  );
  // cut after 200 bytes: resumed with a Range request
  const cutDir = tmp();
  hosts.misbehave.set('/cnn/weights.bin', { cutAfter: [200] });
  hosts.requests.length = 0;
  (await loadPublishedBackbone({ ...quiet, name: 'tiny', spec: tinySpec([layersLoc('bucket', `${hosts.base}/bucket/cnn/model.json`)]), dir: cutDir })).dispose();
  assert.deepEqual(hosts.requests.filter((r) => r.url.endsWith('weights.bin')).map((r) => r.range), [undefined, 'bytes=200-']);
  hosts.misbehave.delete('/cnn/weights.bin');
  // the cached shard is corrupted on disk, and the server now serves different bytes: the pin catches both
  const cached = path.join(cutDir, 'tiny', 'bucket', 'weights.bin');
  fs.writeFileSync(cached, Buffer.alloc(fs.statSync(cached).size));
  const original = hosts.files.get('/cnn/weights.bin')!;
  hosts.files.set('/cnn/weights.bin', Buffer.from(original).fill(1, 0, 8));
  await assert.rejects(
    loadPublishedBackbone({ ...quiet, name: 'tiny', spec: tinySpec([layersLoc('bucket', `${hosts.base}/bucket/cnn/model.json`)]), dir: cutDir }),
    /weight file \.\/weights\.bin: .*checksum mismatch: SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64}/,
  );
  hosts.files.set('/cnn/weights.bin', original);
  const repaired = await loadPublishedBackbone({ ...quiet, name: 'tiny', spec: tinySpec([layersLoc('bucket', `${hosts.base}/bucket/cnn/model.json`)]), dir: cutDir });
  repaired.dispose();
  assert.ok(!fs.existsSync(partFor(cached, `${hosts.base}/bucket/cnn/weights.bin`)));
});

test('offline: the error names every location and what to fetch; a classroom folder (from) needs no network', async () => {
  const port = await closedPort();
  const dir = tmp();
  const offline = tinySpec([layersLoc('a', `http://127.0.0.1:${port}/a/model.json`), layersLoc('b', `http://127.0.0.1:${port}/b/model.json`)]);
  await assert.rejects(
    loadPublishedBackbone({ ...quiet, name: 'tiny', spec: offline, dir }),
    /1\. a — .*cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\)\n {2}2\. b — .*ECONNREFUSED\)\nNo location could be reached: this machine looks offline\.\nTo work without internet: .*`npm run fetch -- tiny --out DIR`/,
  );
  // an instructor's folder: backbones/<name>/<id>/ as `npm run fetch --out` writes it
  const classroom = tmp();
  (await loadPublishedBackbone({ ...quiet, name: 'tiny', spec: tinySpec([layersLoc('a', `${hosts.base}/bucket/cnn/model.json`)]), dir: path.join(classroom, 'backbones') })).dispose();
  hosts.requests.length = 0;
  const bb = await loadPublishedBackbone({ ...quiet, name: 'tiny', spec: offline, from: classroom, dir });
  assert.equal(bb.dir, path.join(classroom, 'backbones', 'tiny', 'a'));
  assert.equal(hosts.requests.length, 0);
  bb.dispose();
  await assert.rejects(loadPublishedBackbone({ ...quiet, name: 'tiny', spec: offline, from: tmp(), dir }), /offline folder .* holds no verified copy .*`npm run fetch -- tiny --out /);
  await assert.rejects(loadPublishedBackbone({ name: 'resnet9000' }), /unknown backbone 'resnet9000'; known: mobilenet_v2, mobilenet_v1/);
});

test('resolvePublishedSource (layers): [0,1] input, preprocessing inside, `features` output; transfers and fine-tunes its top blocks', async () => {
  const dir = tmp();
  const opts = { ...quiet, name: 'tiny', spec: tinySpec([layersLoc('bucket', `${hosts.base}/bucket/cnn/model.json`)]), dir };
  const before = tf.memory().numTensors;
  const src = await resolvePublishedSource(opts);
  assert.deepEqual(src.model.inputs[0].shape, [null, 16, 16, 3]);
  assert.equal(src.model.layers[1].name, 'preprocess');
  assert.equal(src.model.layers.at(-1)!.name, 'features');
  assert.deepEqual(src.topBlockLayers(1), ['block2_conv', 'block2_bn', 'block2_relu']);
  const bb = await loadPublishedBackbone(opts);
  const imgs = tf.randomUniform([3, 16, 16, 3], 0, 1, 'float32', 5) as tf.Tensor4D;
  const a = src.model.predict(imgs) as tf.Tensor;
  const b = bb.features(imgs);
  assert.ok(tf.tidy(() => a.sub(b).abs().max().dataSync()[0]) < 1e-6, 'same features as the backbone with its own preprocessing');
  const tm = buildTransferModel(src.model, { strategy: 'freeze', numClasses: 2, seed: 1 });
  assert.equal(tm.cutAt, 'features');
  assert.equal(tm.paramGroups.length, 1);
  [tm].forEach((t) => t.dispose());
  tf.dispose([imgs, a, b]);
  bb.dispose();
  src.dispose();
  assert.ok(tf.memory().numTensors - before <= 0, `leaked ${tf.memory().numTensors - before} tensors`);
});

test('resolvePublishedSource (graph): one frozen layer; freeze trains the head, fine-tuning is refused with the reason', async () => {
  const dir = tmp();
  const src = await resolvePublishedSource({ ...quiet, name: 'tinygraph', spec: tinySpec([graphLoc('bucket', `${hosts.base}/bucket/graph/model.json`)], 6), dir });
  assert.equal(src.fineTunable, false);
  assert.deepEqual(src.topBlockLayers(2), []);
  assert.deepEqual(src.model.outputs[0].shape, [null, 2]);
  const tm = buildTransferModel(src.model, { strategy: 'freeze', numClasses: 2, seed: 1 });
  const data = { images: new Float32Array(8 * 6 * 6 * 3).map((_, i) => (i % 7) / 7), labels: Int32Array.from([0, 1, 0, 1, 0, 1, 0, 1]), height: 6, width: 6, channels: 3, classes: ['a', 'b'] };
  const h = await train(tm, data, { epochs: 2, lr: 1e-2, seed: 1, batchSize: 4, progress: false });
  assert.equal(h.epochs.length, 2);
  tm.dispose();
  src.dispose();
  assert.equal(registeredGraphs(), 0, 'the graph model is freed with the last layer using it');
  const again = await resolvePublishedSource({ ...quiet, name: 'tinygraph', spec: tinySpec([graphLoc('bucket', `${hosts.base}/bucket/graph/model.json`)], 6), dir });
  for (const strategy of ['finetune', 'scratch'] as const) {
    assert.throws(() => buildTransferModel(again.model, { strategy, numClasses: 2, seed: 1 }), /tinygraph \(bucket\) is a TF\.js graph model: its weights are constants in TF\.js, so it cannot be fine-tuned or trained from scratch\. Use it frozen/);
  }
  again.dispose();
});
