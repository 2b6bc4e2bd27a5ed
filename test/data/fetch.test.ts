import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import AdmZip from 'adm-zip';
import { fetchDataset, unzipSafe, REMOTE_DATASETS, knownDatasets } from '../../lib/data/fetch';
import { partFor } from '../../lib/data/download';
import { listImageFolder } from '../../lib/data/folder';
import { rmTmp, tmpDir, writeImage } from './helpers';
import { FakeHosts, closedPort } from './fetch-hosts';

const dir = tmpDir();
let zip: Buffer;
let sha: string;
const hosts = new FakeHosts();
const ZIP = '/hymenoptera_data.zip';

before(async () => {
  // a small archive with the tutorial's layout
  const src = path.join(dir, 'src');
  const z = new AdmZip();
  for (const split of ['train', 'val'])
    for (const cls of ['ants', 'bees'])
      for (let i = 0; i < 3; i++) {
        const f = path.join(src, `${split}-${cls}-${i}.jpg`);
        await writeImage(f, 64, 48, i + (cls === 'bees' ? 10 : 0));
        z.addFile(`hymenoptera_data/${split}/${cls}/${i}.jpg`, fs.readFileSync(f));
      }
  zip = z.toBuffer();
  sha = crypto.createHash('sha256').update(zip).digest('hex');
  hosts.files.set(ZIP, zip);
  await hosts.start();
});
after(async () => {
  await hosts.stop();
  rmTmp(dir);
});

const quiet = { progressBar: false, log: () => undefined, retryDelayMs: 0 } as const;
const bucket = () => `${hosts.base}/bucket${ZIP}`;
/** hymenoptera (its checksum known) into `out` from `locations` in turn, the log lines kept in `logs`. */
const fetchFromLocations = (out: string, logs: string[], locations: { label: string; url: string }[]) =>
  fetchDataset('hymenoptera', { ...quiet, log: (m) => logs.push(m), sha256: sha, dir: out, locations });

test('the built-in hymenoptera spec pins the SHA-256 the PyTorch tutorials publish, and lists fallbacks', () => {
  const spec = REMOTE_DATASETS.hymenoptera;
  assert.equal(spec.sha256, 'fbc41b31d544714d18dd1230b1e2b455e1557766e13e67f9f5a7a23af7c02209');
  assert.ok(spec.locations.length >= 2);
  assert.match(spec.locations[0].url, /^https:\/\/download\.pytorch\.org\//);
});

test('fetchDataset downloads, verifies the SHA-256, unpacks train/val, and is a no-op the second time', async () => {
  const out = path.join(dir, 'a');
  const progress: number[] = [];
  hosts.requests.length = 0;
  const got = await fetchDataset('hymenoptera', { ...quiet, url: bucket(), sha256: sha, dir: out, onProgress: (p) => progress.push(p.received) });
  assert.equal(got.sha256, sha);
  assert.equal(got.root, path.join(out, 'hymenoptera_data'));
  const scan = await listImageFolder(got.splits.train);
  assert.deepEqual(scan.classes, ['ants', 'bees']);
  assert.equal(scan.paths.length, 6);
  assert.equal(progress.at(-1), zip.length);
  assert.equal(hosts.requests.length, 1);
  await fetchDataset('hymenoptera', { ...quiet, url: bucket(), sha256: sha, dir: out });
  assert.equal(hosts.requests.length, 1, 'no second download');
});

test('a redirect chain to a signed URL that answers 403 falls through to the next location; both are named', async () => {
  const out = path.join(dir, 'fallback');
  hosts.forbidden.add('/storage/forbidden');
  hosts.files.set('/forbidden/hymenoptera_data.zip', zip);
  const logs: string[] = [];
  hosts.requests.length = 0;
  const got = await fetchFromLocations(out, logs, [
    { label: 'hub', url: `${hosts.base}/hub/forbidden/hymenoptera_data.zip` },
    { label: 'bucket', url: bucket() },
  ]);
  assert.equal(got.sha256, sha);
  // hub → models site → signed storage URL (403) → next location
  const urls = hosts.requests.map((r) => r.url);
  assert.equal(urls[0], '/hub/forbidden/hymenoptera_data.zip');
  assert.match(urls[1], /^\/models\/forbidden\/hymenoptera_data\.zip\?tfhub-redirect=true$/);
  assert.match(urls[2], /^\/storage\/forbidden\/hymenoptera_data\.zip\?X-Goog-Algorithm=.*X-Goog-Signature=[0-9a-f]{64}$/);
  assert.equal(urls[3], `/bucket${ZIP}`);
  assert.match(logs.join('\n'), /1\. hub — .*hub\/forbidden.*failed \(HTTP 403 Forbidden \(redirected 2× to .*\/storage\/forbidden\/hymenoptera_data\.zip\?…\)\); trying the next location/);
  // when every location fails, the error lists each failure in order
  await assert.rejects(
    fetchDataset('hymenoptera', { ...quiet, sha256: sha, dir: path.join(dir, 'fallback2'), locations: [{ label: 'hub', url: `${hosts.base}/hub/forbidden/x.zip` }, { label: 'bucket', url: `${hosts.base}/bucket/missing.zip` }] }),
    /from any of its 2 known locations:\n {2}1\. hub — .*: HTTP 403 Forbidden \(redirected 2×.*\n {2}2\. bucket — .*missing\.zip: HTTP 404 Not Found/,
  );
  hosts.forbidden.clear();
});

test('a wrong checksum on the first location is named, and the second location is used', async () => {
  const out = path.join(dir, 'badsum');
  const other = Buffer.concat([zip, Buffer.from('tampered')]);
  hosts.files.set('/tampered.zip', other);
  const logs: string[] = [];
  const got = await fetchFromLocations(out, logs, [
    { label: 'tampered mirror', url: `${hosts.base}/bucket/tampered.zip` },
    { label: 'bucket', url: bucket() },
  ]);
  assert.equal(got.sha256, sha);
  await assert.rejects(
    fetchDataset('hymenoptera', { ...quiet, sha256: sha, dir: path.join(dir, 'badsum2'), url: `${hosts.base}/bucket/tampered.zip` }),
    new RegExp(`checksum mismatch: SHA-256 [0-9a-f]{64}, expected ${sha} \\(download deleted\\)`),
  );
  assert.deepEqual(fs.readdirSync(path.join(dir, 'badsum2')), [], 'nothing left behind');
});

test('without a known checksum the first download pins it; a later mismatch is an error', async () => {
  const out = path.join(dir, 'pin');
  const logs: string[] = [];
  const got = await fetchDataset('hymenoptera', { ...quiet, log: (m) => logs.push(m), url: bucket(), dir: out });
  assert.ok(got.pinned);
  assert.equal(fs.readFileSync(path.join(out, 'hymenoptera_data.zip.sha256'), 'utf8').trim(), sha);
  assert.match(logs.join('\n'), /pinned [0-9a-f]{64}/);
  // the server's file "changes": the pinned hash no longer matches → an error that says where the pin is
  fs.writeFileSync(path.join(out, 'hymenoptera_data.zip.sha256'), 'f'.repeat(64));
  fs.rmSync(path.join(out, 'hymenoptera_data.zip'));
  await assert.rejects(
    fetchDataset('hymenoptera', { ...quiet, url: bucket(), dir: out }),
    /checksum mismatch.*pinned by an earlier download in .*hymenoptera_data\.zip\.sha256; delete that file to re-pin/,
  );
});

test('a cut connection is resumed with an HTTP Range request into the .part file, also across runs', async () => {
  const out = path.join(dir, 'resume');
  hosts.requests.length = 0;
  hosts.misbehave.set(ZIP, { cutAfter: [1000, 500] });
  const logs: string[] = [];
  const got = await fetchDataset('hymenoptera', { ...quiet, log: (m) => logs.push(m), url: bucket(), sha256: sha, dir: out });
  hosts.misbehave.delete(ZIP);
  assert.equal(got.sha256, sha);
  assert.deepEqual(hosts.requests.map((h) => h.range), [undefined, 'bytes=1000-', 'bytes=1500-']);
  assert.match(logs[0], /cut after 1000 .*resuming from byte 1000/);
  // a .part left by an earlier, interrupted run is resumed too
  const out2 = path.join(dir, 'resume2');
  fs.mkdirSync(out2);
  fs.writeFileSync(partFor(path.join(out2, 'hymenoptera_data.zip'), bucket()), zip.subarray(0, 2048));
  hosts.requests.length = 0;
  await fetchDataset('hymenoptera', { ...quiet, url: bucket(), sha256: sha, dir: out2 });
  assert.deepEqual(hosts.requests.map((h) => h.range), ['bytes=2048-']);
});

test('a stalled transfer and a truncated body fall through to the next location, each failure named', async () => {
  hosts.files.set('/stall.zip', zip);
  hosts.misbehave.set('/stall.zip', { stall: true });
  hosts.files.set('/short.zip', zip);
  hosts.misbehave.set('/short.zip', { truncateTo: 4000 });
  hosts.files.set('/cut.zip', zip);
  hosts.misbehave.set('/cut.zip', { cutAfter: [100, 100] });
  const locations = [
    { label: 'stalls', url: `${hosts.base}/bucket/stall.zip` },
    { label: 'truncates', url: `${hosts.base}/bucket/short.zip` },
    { label: 'keeps cutting', url: `${hosts.base}/bucket/cut.zip` },
  ];
  const t0 = Date.now();
  const err = await fetchDataset('hymenoptera', { ...quiet, sha256: sha, dir: path.join(dir, 'flaky'), idleTimeoutMs: 200, retries: 1, locations }).catch((e: Error) => e);
  assert.ok(err instanceof Error);
  assert.match(err.message, /1\. stalls — .*: no data from 127\.0\.0\.1:\d+ for 200 ms/);
  assert.match(err.message, /2\. truncates — .*: checksum mismatch: SHA-256 [0-9a-f]{64}, expected/);
  assert.match(err.message, /3\. keeps cutting — .*: connection to 127\.0\.0\.1:\d+ cut after 200 bytes/);
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  // with a good location after them, the download succeeds
  const got = await fetchDataset('hymenoptera', { ...quiet, sha256: sha, dir: path.join(dir, 'flaky2'), idleTimeoutMs: 200, retries: 1, locations: [...locations, { label: 'bucket', url: bucket() }] });
  assert.equal(got.sha256, sha);
});

test('offline: a clear error, fast, that says what to fetch and from where', async () => {
  const port = await closedPort();
  const t0 = Date.now();
  await assert.rejects(
    fetchDataset('hymenoptera', { ...quiet, url: `http://127.0.0.1:${port}/x.zip`, dir: path.join(dir, 'off') }),
    new RegExp(
      `1\\. given url — http://127\\.0\\.0\\.1:${port}/x\\.zip: cannot reach 127\\.0\\.0\\.1:${port} \\(ECONNREFUSED\\)\\n` +
        'No location could be reached: this machine looks offline\\.\\nTo work without internet: .*`npm run fetch -- hymenoptera --out DIR`.*KIT_FETCH_FROM=DIR' +
        '.*Or download https://download\\.pytorch\\.org/tutorial/hymenoptera_data\\.zip by hand and copy it to .*off/hymenoptera_data\\.zip',
    ),
  );
  await assert.rejects(
    fetchDataset('hymenoptera', { ...quiet, url: 'http://no-such-host.invalid/x.zip', dir: path.join(dir, 'off2'), connectTimeoutMs: 2000 }),
    /cannot reach no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\)|no answer from no-such-host\.invalid within 2000 ms/,
  );
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  // the offline route: a folder unpacked by hand is used as found
  const byHand = path.join(dir, 'off3');
  for (const s of ['train', 'val']) fs.mkdirSync(path.join(byHand, 'hymenoptera_data', s), { recursive: true });
  const got = await fetchDataset('hymenoptera', { ...quiet, url: `http://127.0.0.1:${port}/x.zip`, dir: byHand });
  assert.equal(got.splits.val, path.join(byHand, 'hymenoptera_data', 'val'));
  await assert.rejects(fetchDataset('imagenet'), /unknown dataset 'imagenet'; known: hymenoptera/);
});

test('a classroom folder (from / KIT_FETCH_FROM) is used without any network: unpacked in place, or its archive', async () => {
  const classroom = path.join(dir, 'classroom');
  await fetchDataset('hymenoptera', { ...quiet, url: bucket(), sha256: sha, dir: path.join(classroom, 'datasets') }); // what `npm run fetch --out` does
  const port = await closedPort();
  const offline = [{ label: 'unreachable', url: `http://127.0.0.1:${port}/x.zip` }];
  hosts.requests.length = 0;
  const inPlace = await fetchDataset('hymenoptera', { ...quiet, from: classroom, locations: offline, dir: path.join(dir, 'student1') });
  assert.equal(inPlace.root, path.join(classroom, 'datasets', 'hymenoptera_data'));
  assert.equal(inPlace.sha256, sha);
  // only the archive was copied (e.g. to a USB stick): checked and unpacked into the student's own cache
  const zipOnly = path.join(dir, 'zip-only');
  fs.mkdirSync(path.join(zipOnly, 'datasets'), { recursive: true });
  fs.copyFileSync(path.join(classroom, 'datasets', 'hymenoptera_data.zip'), path.join(zipOnly, 'datasets', 'hymenoptera_data.zip'));
  process.env.KIT_FETCH_FROM = zipOnly;
  try {
    const own = path.join(dir, 'student2');
    const got = await fetchDataset('hymenoptera', { ...quiet, sha256: sha, locations: offline, dir: own });
    assert.equal(got.root, path.join(own, 'hymenoptera_data'));
    assert.equal((await listImageFolder(got.splits.val)).paths.length, 6);
    assert.equal(hosts.requests.length, 0, 'no request to any host');
    await assert.rejects(
      fetchDataset('hymenoptera', { ...quiet, from: path.join(dir, 'empty'), dir: own }),
      /offline folder .*empty has neither .*hymenoptera_data\/\{train,val\} nor .*hymenoptera_data\.zip\. Make it .*`npm run fetch -- hymenoptera --out /,
    );
  } finally {
    delete process.env.KIT_FETCH_FROM;
  }
});

test('KIT_MIRROR (a web server over a classroom folder) is tried before the public locations', async () => {
  hosts.files.set('/classroom/datasets/hymenoptera_data.zip', zip);
  process.env.KIT_MIRROR = `${hosts.base}/bucket/classroom`;
  hosts.requests.length = 0;
  try {
    const got = await fetchDataset('hymenoptera', { ...quiet, sha256: sha, dir: path.join(dir, 'mirror') });
    assert.equal(got.sha256, sha);
    assert.deepEqual(hosts.requests.map((r) => r.url), ['/bucket/classroom/datasets/hymenoptera_data.zip']);
  } finally {
    delete process.env.KIT_MIRROR;
  }
});

test('unzipSafe refuses an entry that would escape the target folder (zip-slip)', () => {
  const evil = path.join(dir, 'evil.zip');
  const z = new AdmZip();
  z.addFile('ok.txt', Buffer.from('fine'));
  z.addFile('placeholder.txt', Buffer.from('boom'));
  // adm-zip normalises names on add, so write the hostile name into the archive bytes directly
  const buf = z.toBuffer();
  const patched = Buffer.from(buf.toString('latin1').split('placeholder.txt').join('../../evilx.txt'), 'latin1');
  fs.writeFileSync(evil, patched);
  const dest = path.join(dir, 'unz', 'inner');
  assert.throws(() => unzipSafe(evil, dest), /entry '\.\.\/\.\.\/evilx\.txt' would be written outside .*zip-slip/);
  assert.ok(!fs.existsSync(path.join(dir, 'evilx.txt')));
  assert.ok(!fs.existsSync(path.join(dest, 'ok.txt')), 'nothing unpacked');
});

test('KIT_ONLY_HOSTS (a locked-down network): other hosts are skipped and named, redirects to them refused', async () => {
  process.env.KIT_ONLY_HOSTS = 'localhost';
  hosts.requests.length = 0;
  try {
    await assert.rejects(
      fetchDataset('hymenoptera', { ...quiet, sha256: sha, dir: path.join(dir, 'locked'), locations: [{ label: 'bucket', url: bucket() }] }),
      /1\. bucket — .*: skipped \(its host is not in KIT_ONLY_HOSTS=localhost\)/,
    );
    assert.equal(hosts.requests.length, 0);
    const port = new URL(hosts.base).port;
    await assert.rejects(
      fetchDataset('hymenoptera', { ...quiet, sha256: sha, dir: path.join(dir, 'locked2'), url: `http://localhost:${port}/models${ZIP}` }),
      /redirected to 127\.0\.0\.1:\d+, which is not in KIT_ONLY_HOSTS/,
    );
  } finally {
    delete process.env.KIT_ONLY_HOSTS;
  }
});

/** Runs `fn` with KIT_DATASETS naming a file that holds `content` (JSON text). */
async function withDatasetsFile<T>(content: string, fn: (file: string) => Promise<T> | T): Promise<T> {
  const file = path.join(dir, `datasets-${crypto.randomBytes(4).toString('hex')}.json`);
  fs.writeFileSync(file, content);
  process.env.KIT_DATASETS = file;
  try {
    return await fn(file);
  } finally {
    delete process.env.KIT_DATASETS;
  }
}

test("KIT_DATASETS: an instructor's own archive is fetched by name — its locations in order, its SHA-256 checked", async () => {
  hosts.files.set('/school/own.zip', zip);
  const bad = Buffer.from(zip);
  bad[bad.length >> 1] ^= 0xff; // a corrupt copy on the first location
  hosts.files.set('/school/corrupt/own.zip', bad);
  const entry = {
    description: 'ants and bees, school copy',
    locations: [
      { label: 'old server', url: `${hosts.base}/bucket/school/corrupt/own.zip` },
      { label: 'school server', url: `${hosts.base}/moved/school/own.zip` },
    ],
    archive: 'own.zip',
    sha256: sha.toUpperCase(),
    folder: 'hymenoptera_data',
  };
  const logs: string[] = [];
  await withDatasetsFile(JSON.stringify({ 'ants-bees-school': entry }), async (file) => {
    assert.deepEqual(Object.keys(knownDatasets()), ['hymenoptera', 'ants-bees-school']);
    assert.equal(knownDatasets()['ants-bees-school'].sha256Source, `KIT_DATASETS=${file}, dataset 'ants-bees-school'`);
    const got = await fetchDataset('ants-bees-school', { ...quiet, log: (m) => logs.push(m), dir: path.join(dir, 'own') });
    assert.equal(got.sha256, sha);
    assert.deepEqual(Object.keys(got.splits), ['train', 'val'], "splits default to ['train', 'val']");
    assert.deepEqual((await listImageFolder(got.splits.val)).classes, ['ants', 'bees']);
  });
  assert.match(logs.join('\n'), /1\. old server — .*checksum mismatch: SHA-256 [0-9a-f]{64}, expected [0-9a-f]{64} \(download deleted\)/);
  await assert.rejects(fetchDataset('ants-bees-school', { ...quiet, dir: path.join(dir, 'own2') }), /unknown dataset 'ants-bees-school'; known: hymenoptera\. .*KIT_DATASETS/);
});

test('KIT_DATASETS: a broken file or entry is an error naming the file, the dataset and the fix', async () => {
  const loc = [{ label: 'school', url: 'https://school.example/x.zip' }];
  const cases: Array<[unknown, RegExp]> = [
    [{ hymenoptera: { locations: loc, archive: 'x.zip', folder: 'x' } }, /'hymenoptera' is a built-in dataset; give yours another name/],
    [{ mine: { archive: 'x.zip', folder: 'x' } }, /dataset 'mine': needs 'locations'/],
    [{ mine: { locations: [{ label: 'school', url: 'ftp://x/x.zip' }], archive: 'x.zip', folder: 'x' } }, /dataset 'mine': locations\[0\] needs a 'label' and an http\(s\) 'url'/],
    [{ mine: { locations: loc, archive: '../x.zip', folder: 'x' } }, /dataset 'mine': needs 'archive': the zip's file name in the cache \(no folders\)/],
    [{ mine: { locations: loc, archive: 'x.zip', folder: '..' } }, /dataset 'mine': needs 'folder'/],
    [{ mine: { locations: loc, archive: 'x.zip', folder: 'x', sha256: 'abc' } }, /dataset 'mine': 'sha256' must be 64 hex digits/],
    [{ mine: { locations: loc, archive: 'x.zip', folder: 'x', splits: ['a/b'] } }, /dataset 'mine': 'splits' must list/],
  ];
  for (const [content, re] of cases) {
    await withDatasetsFile(JSON.stringify(content), (file) => {
      assert.throws(() => knownDatasets(), (e: Error) => e.message.startsWith(`KIT_DATASETS=${file}`) && re.test(e.message));
    });
  }
  await withDatasetsFile('{ "mine": ', (file) => assert.throws(() => knownDatasets(), new RegExp(`KIT_DATASETS=${file}: cannot read it as JSON .*unset KIT_DATASETS`)));
});
