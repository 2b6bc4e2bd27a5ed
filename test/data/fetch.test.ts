import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import * as crypto from 'crypto';
import * as fs from 'fs';
import * as http from 'http';
import type { AddressInfo } from 'net';
import * as path from 'path';
import AdmZip from 'adm-zip';
import { fetchDataset, unzipSafe } from '../../lib/data/fetch';
import { listImageFolder } from '../../lib/data/folder';
import { rmTmp, tmpDir, writeImage } from './helpers';

const dir = tmpDir();
let zip: Buffer;
let sha: string;
let server: http.Server;
let base: string;
const hits: Array<{ range?: string }> = [];
/** How the next responses misbehave: cut the connection after this many bytes (once each). */
const cuts: number[] = [];

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
  server = http.createServer((req, res) => {
    hits.push({ range: req.headers.range });
    let start = 0;
    const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (m) start = Number(m[1]);
    if (start >= zip.length && m) {
      res.writeHead(416);
      return res.end();
    }
    res.writeHead(m ? 206 : 200, { 'Content-Length': zip.length - start, ...(m ? { 'Content-Range': `bytes ${start}-${zip.length - 1}/${zip.length}` } : {}) });
    const cut = cuts.shift();
    if (cut !== undefined) {
      res.write(zip.subarray(start, start + cut));
      setTimeout(() => res.destroy(), 20);
    } else res.end(zip.subarray(start));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.close();
  rmTmp(dir);
});

const quiet = { progressBar: false, log: () => undefined } as const;

test('fetchDataset downloads, verifies the SHA-256, unpacks train/val, and is a no-op the second time', async () => {
  const out = path.join(dir, 'a');
  const progress: number[] = [];
  hits.length = 0;
  const got = await fetchDataset('hymenoptera', { ...quiet, url: `${base}/hymenoptera_data.zip`, sha256: sha, dir: out, onProgress: (p) => progress.push(p.received) });
  assert.equal(got.sha256, sha);
  assert.equal(got.root, path.join(out, 'hymenoptera_data'));
  const scan = await listImageFolder(got.splits.train);
  assert.deepEqual(scan.classes, ['ants', 'bees']);
  assert.equal(scan.paths.length, 6);
  assert.equal(progress.at(-1), zip.length);
  assert.equal(hits.length, 1);
  await fetchDataset('hymenoptera', { ...quiet, url: `${base}/hymenoptera_data.zip`, sha256: sha, dir: out });
  assert.equal(hits.length, 1, 'no second download');
});

test('without a known checksum the first download pins it; a later mismatch is an error', async () => {
  const out = path.join(dir, 'pin');
  const logs: string[] = [];
  const got = await fetchDataset('hymenoptera', { progressBar: false, log: (m) => logs.push(m), url: `${base}/hymenoptera_data.zip`, dir: out });
  assert.ok(got.pinned);
  assert.equal(fs.readFileSync(path.join(out, 'hymenoptera_data.zip.sha256'), 'utf8').trim(), sha);
  assert.match(logs.join('\n'), /pinned [0-9a-f]{64}/);
  // the server's file "changes": the pinned hash no longer matches → an error that says where the pin is
  fs.writeFileSync(path.join(out, 'hymenoptera_data.zip.sha256'), 'f'.repeat(64));
  fs.rmSync(path.join(out, 'hymenoptera_data.zip'));
  await assert.rejects(
    fetchDataset('hymenoptera', { ...quiet, url: `${base}/hymenoptera_data.zip`, dir: out }),
    /checksum mismatch.*pinned by an earlier download in .*hymenoptera_data\.zip\.sha256; delete that file to re-pin/,
  );
});

test('a checksum mismatch is an error naming both hashes, and the bad download is deleted', async () => {
  const out = path.join(dir, 'bad');
  const wrong = '0'.repeat(64);
  await assert.rejects(
    fetchDataset('hymenoptera', { ...quiet, url: `${base}/hymenoptera_data.zip`, sha256: wrong, dir: out }),
    new RegExp(`checksum mismatch .*SHA-256 ${sha}, expected ${wrong}.*deleted`),
  );
  assert.deepEqual(fs.readdirSync(out), []);
});

test('a cut connection is resumed with an HTTP Range request into the .part file', async () => {
  const out = path.join(dir, 'resume');
  hits.length = 0;
  cuts.push(1000, 500);
  const logs: string[] = [];
  const got = await fetchDataset('hymenoptera', { progressBar: false, log: (m) => logs.push(m), url: `${base}/hymenoptera_data.zip`, sha256: sha, dir: out });
  assert.equal(got.sha256, sha);
  assert.deepEqual(hits.map((h) => h.range), [undefined, 'bytes=1000-', 'bytes=1500-']);
  assert.match(logs[0], /cut after 1000 .*resuming from byte 1000/);
  // a .part left by an earlier, interrupted run is resumed too
  const out2 = path.join(dir, 'resume2');
  fs.mkdirSync(out2);
  fs.writeFileSync(path.join(out2, 'hymenoptera_data.zip.part'), zip.subarray(0, 2048));
  hits.length = 0;
  await fetchDataset('hymenoptera', { ...quiet, url: `${base}/hymenoptera_data.zip`, sha256: sha, dir: out2 });
  assert.deepEqual(hits.map((h) => h.range), ['bytes=2048-']);
});

test('offline: a clear error, fast (refused connection, unresolvable host)', async () => {
  const closed = http.createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const t0 = Date.now();
  await assert.rejects(
    fetchDataset('hymenoptera', { ...quiet, url: `http://127.0.0.1:${port}/x.zip`, dir: path.join(dir, 'off') }),
    /could not download .*cannot reach 127\.0\.0\.1:\d+ \(ECONNREFUSED\): the machine looks offline\. Work offline by .*copying it to .*x\.zip/,
  );
  await assert.rejects(
    fetchDataset('hymenoptera', { ...quiet, url: 'http://no-such-host.invalid/x.zip', dir: path.join(dir, 'off2'), connectTimeoutMs: 2000 }),
    /cannot reach no-such-host\.invalid \((ENOTFOUND|EAI_AGAIN)\)|no connection to no-such-host\.invalid within 2000 ms/,
  );
  assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
  // the offline route: a folder unpacked by hand is used as found
  const byHand = path.join(dir, 'off3');
  for (const s of ['train', 'val']) fs.mkdirSync(path.join(byHand, 'hymenoptera_data', s), { recursive: true });
  const got = await fetchDataset('hymenoptera', { ...quiet, url: `http://127.0.0.1:${port}/x.zip`, dir: byHand });
  assert.equal(got.splits.val, path.join(byHand, 'hymenoptera_data', 'val'));
  await assert.rejects(fetchDataset('imagenet'), /unknown dataset 'imagenet'; known: hymenoptera/);
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
