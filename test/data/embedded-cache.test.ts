// Issue #15: a cache many processes can build at once. Real processes build the embedded digits into a fresh
// KIT_CACHE_DIR together; a builder killed mid-way leaves nothing that lasts; a read-only location is named with the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { pathToFileURL } from 'url';

const root = path.resolve(__dirname, '..', '..');
const TSX = pathToFileURL(path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
/** What each child does: build (or wait for) the digits cache, read both splits, print a digest of what it read. */
const CHILD = `
const crypto = require('crypto');
const { setDisplayChannel } = require(${JSON.stringify(path.join(root, 'lib/display/channel'))});
let updates = 0; const finished = [];
setDisplayChannel({ rich: true, display: (b) => { updates++; const t = String(b['text/plain']); if (/ done/.test(t)) finished.push(t); } });
const { loadView } = require(${JSON.stringify(path.join(root, 'lib/data/embedded'))});
(async () => {
  const h = crypto.createHash('sha256');
  for (const split of ['train', 'val']) h.update((await loadView('digits', { split, imgSize: 28, channels: 1 })).images);
  console.log(JSON.stringify({ digest: h.digest('hex'), updates, finished }));
})().catch((e) => { console.error(e.stack); process.exit(1); });`;

interface Child { status: number | null; stdout: string; stderr: string }

function child(cacheDir: string, opts: { uid?: number; onSpawn?: (pid: number) => void } = {}): Promise<Child> {
  return new Promise((resolve) => {
    const env = { ...process.env, KIT_CACHE_DIR: cacheDir, KIT_QUICK: '' };
    const c = spawn(process.execPath, ['--import', TSX, '-e', CHILD], { cwd: os.tmpdir(), env, stdio: ['ignore', 'pipe', 'pipe'], ...(opts.uid !== undefined ? { uid: opts.uid, gid: opts.uid } : {}) });
    opts.onSpawn?.(c.pid!);
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (b) => { stdout += b; });
    c.stderr.on('data', (b) => { stderr += b; });
    c.on('exit', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Entries of the cache folder other than the finished datasets and the decoded views. */
function leftovers(cacheDir: string): string[] {
  return fs.existsSync(cacheDir) ? fs.readdirSync(cacheDir).filter((f) => !['digits', 'views'].includes(f)).concat(
    fs.existsSync(path.join(cacheDir, 'views')) ? fs.readdirSync(path.join(cacheDir, 'views')).filter((f) => !f.endsWith('.bin')) : []) : [];
}

const shared = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-cache-'));
fs.chmodSync(shared, 0o755); // readable by the unprivileged user of the read-only test

test('two processes building the cache at once both succeed and read identical bytes; nothing temporary is left', { timeout: 600_000 }, async () => {
  const cache = path.join(shared, 'cache');
  const [a, b] = await Promise.all([child(cache), child(cache)]);
  assert.equal(a.status, 0, a.stderr);
  assert.equal(b.status, 0, b.stderr);
  const [ra, rb] = [JSON.parse(a.stdout), JSON.parse(b.stdout)];
  assert.equal(ra.digest, rb.digest, 'both read the same images');
  assert.deepEqual(leftovers(cache), []);
  // First-use progress went to a progress bar (display updates), not to text on stderr.
  const built = (r: { finished: string[] }) => r.finished.some((t) => /^digits: writing the images \(first use\) .* 10000\/10000 100%/.test(t));
  const waited = (r: { finished: string[] }) => r.finished.some((t) => /^digits: another process \(pid \d+\) is writing the images .* 10000\/10000/.test(t));
  assert.ok((built(ra) && waited(rb)) || (built(rb) && waited(ra)), `one built, the other waited: ${a.stdout} ${b.stdout}`);
  for (const r of [ra, rb]) assert.ok(r.updates >= 3, `${r.updates} progress updates`);
  for (const r of [a, b]) assert.doesNotMatch(r.stderr, /writing the 10,000 images/);
});

test('a builder killed mid-way: the next process removes its temporary folder and lock and builds the cache', { timeout: 600_000 }, async () => {
  const cache = path.join(shared, 'killed');
  let pid = 0;
  const first = child(cache, { onSpawn: (p) => { pid = p; } });
  const t0 = Date.now();
  const partial = () => (fs.existsSync(cache) ? fs.readdirSync(cache).filter((f) => f.includes('.tmp-')) : []);
  const count = (dir: string) => { let n = 0; for (const s of ['train', 'val']) for (let d = 0; d < 10; d++) { try { n += fs.readdirSync(path.join(dir, s, String(d))).length; } catch { /* not yet */ } } return n; };
  while (!(partial().length && count(path.join(cache, partial()[0])) > 200)) {
    assert.ok(Date.now() - t0 < 300_000, 'the builder never started writing');
    await new Promise((r) => setTimeout(r, 100));
  }
  process.kill(pid, 'SIGKILL');
  await first;
  assert.ok(partial().length > 0, 'a partial folder is there after the kill');
  const next = await child(cache);
  assert.equal(next.status, 0, next.stderr);
  assert.deepEqual(leftovers(cache), [], 'the dead builder\'s temporary folder (and lock) are gone');
});

/** Root ignores permissions: the read-only tests run their child as nobody (uid 65534) then. */
function unprivileged(): { uid?: number; skip?: string } {
  if (process.getuid?.() !== 0) return {};
  return spawnSync(process.execPath, ['-e', '0'], { uid: 65534, gid: 65534 }).status === 0 ? { uid: 65534 } : { skip: 'cannot run a process as uid 65534 here' };
}

test('a read-only cache location: a clear message naming KIT_CACHE_DIR, before any work', { timeout: 600_000 }, async (t) => {
  const { uid, skip } = unprivileged();
  if (skip) return t.skip(skip);
  const empty = path.join(shared, 'readonly');
  fs.mkdirSync(empty, { mode: 0o555 });
  fs.chmodSync(empty, 0o555);
  const t0 = Date.now();
  const r = await child(empty, { uid });
  assert.equal(r.status, 1);
  assert.match(r.stderr, new RegExp(`${empty}.*not writable.*KIT_CACHE_DIR`, 's'));
  assert.ok(Date.now() - t0 < 60_000, `failed after ${Date.now() - t0} ms`);
});

test('a finished cache made read-only still loads; the decoded copy it cannot keep is named with KIT_CACHE_DIR', { timeout: 600_000 }, async (t) => {
  const { uid, skip } = unprivileged();
  if (skip) return t.skip(skip);
  // The cache built by the first test, made read-only (views/ decoded files removed so they must be decoded again).
  const built = path.join(shared, 'cache');
  fs.rmSync(path.join(built, 'views'), { recursive: true, force: true });
  spawnSync('chmod', ['-R', 'a-w', built]);
  try {
    const ok = await child(built, { uid });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stderr, /KIT_CACHE_DIR/, 'says how to keep the decoded copy');
  } finally {
    spawnSync('chmod', ['-R', 'u+w', built]);
  }
});

test('clean up', () => {
  spawnSync('chmod', ['-R', 'u+w', shared]);
  fs.rmSync(shared, { recursive: true, force: true });
});
