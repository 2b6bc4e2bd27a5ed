// lib/data/target.ts: an image-folder target reads with the folder options the experiment was given
// (allowSingleClass, onBadImage) — through loadTarget and through the fair protocol's context (ExperimentOptions.read).
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { initBackend } from '../../lib/backend';
import { buildPlainCnn } from '../../lib/models';
import { loadTarget } from '../../lib/data/target';
import { makeContext, closeContext } from '../../lib/train/protocol';

const SIZE = 16;
let root = '';

/** train/{a,b}/ with 12 images each plus one corrupt a/broken.png; val/a/ only (a single class). */
before(async () => {
  await initBackend();
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-target-'));
  const write = async (dir: string, n: number, shade: number): Promise<void> => {
    fs.mkdirSync(dir, { recursive: true });
    for (let i = 0; i < n; i++) {
      const px = Buffer.alloc(SIZE * SIZE * 3, Math.round(shade * 255) + i);
      await sharp(px, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(path.join(dir, `${i}.png`));
    }
  };
  await write(path.join(root, 'train', 'a'), 12, 0.2);
  await write(path.join(root, 'train', 'b'), 12, 0.7);
  fs.writeFileSync(path.join(root, 'train', 'a', 'broken.png'), 'not a png');
  await write(path.join(root, 'val', 'a'), 4, 0.2);
});

test('loadTarget: without the options a corrupt file and a one-class val/ are errors that name them', async () => {
  await assert.rejects(loadTarget(root, [SIZE, SIZE, 3]), /broken\.png/);
  await assert.rejects(loadTarget(root, [SIZE, SIZE, 3], undefined, { onBadImage: 'skip' }), /allowSingleClass/);
});

test('loadTarget: onBadImage skip leaves the corrupt file out; allowSingleClass reads the one-class val/', async () => {
  const t = await loadTarget(root, [SIZE, SIZE, 3], undefined, { onBadImage: 'skip', allowSingleClass: true });
  assert.equal(t.train.labels.length, 24, '25 files listed, the corrupt one left out');
  assert.deepEqual(t.train.classes, ['a', 'b']);
  assert.equal(t.test.labels.length, 4);
  assert.deepEqual([...new Set(t.test.labels)], [0], "val/a is class 'a' of the train classes");
});

test("the fair protocol's context threads ExperimentOptions.read to the folder reader", async () => {
  const model = buildPlainCnn({ inputShape: [SIZE, SIZE, 3], numClasses: 2, filters: [4], seed: 1 });
  await assert.rejects(makeContext({ source: model, target: root, seeds: 1, progress: false }, 5), /broken\.png/);
  const ctx = await makeContext({ source: model, target: root, seeds: 1, progress: false, read: { onBadImage: 'skip', allowSingleClass: true } }, 5);
  assert.equal(ctx.target.train.labels.length, 24);
  assert.equal(ctx.target.test.labels.length, 4);
  closeContext(ctx);
  model.dispose();
});
