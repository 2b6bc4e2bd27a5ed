import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as path from 'path';
import { fitLabelEncoder, listImageFolder, scanImageFolder, splitIndices, trainValSplit } from '../../lib/data/folder';
import { ImageDataset } from '../../lib/data/dataset';
import { makeImageFolder, rmTmp, tmpDir, writeImage } from './helpers';

const dir = tmpDir();
after(() => rmTmp(dir));

test('scanImageFolder: img_path and label columns from root/<class>/<file>, the lecture layout', async () => {
  const root = path.join(dir, 'ants-bees', 'train');
  await makeImageFolder(root, { ants: 3, bees: 4 });
  const df = await scanImageFolder(root);
  assert.deepEqual(df.columns, ['img_path', 'label']);
  assert.deepEqual(df.shape, [7, 2]);
  assert.deepEqual(df.column('label').values, ['ants', 'ants', 'ants', 'bees', 'bees', 'bees', 'bees']);
  assert.equal((df.column('img_path').values as string[])[3], path.join(root, 'bees', 'bees-000.jpg'));
});

test('scanImageFolder: a root holding train/ and val/ gives a split column, or one split on request', async () => {
  const root = path.join(dir, 'splits');
  await makeImageFolder(path.join(root, 'train'), { ants: 2, bees: 2 });
  await makeImageFolder(path.join(root, 'val'), { ants: 1, bees: 1 }, 'png');
  const all = await scanImageFolder(root);
  assert.deepEqual(all.columns, ['img_path', 'label', 'split']);
  assert.deepEqual(all.column('split').values, ['train', 'train', 'train', 'train', 'val', 'val']);
  const val = await scanImageFolder(root, { split: 'val' });
  assert.deepEqual(val.column('label').values, ['ants', 'bees']);
  fs.writeFileSync(path.join(root, 'README.txt'), 'about the data');
  assert.deepEqual((await listImageFolder(root)).skipped.map((x) => [path.basename(x.path), x.reason]), [['README.txt', 'a file beside the split folders']]);
  await assert.rejects(scanImageFolder(root, { split: 'test' }), /Split folder 'test' missing in .*splits \(found: (train, val|val, train)\)/);
});

test('fitLabelEncoder: fitted on train (sorted classes like sklearn), applied to val; an unseen label is an error naming it', () => {
  const enc = fitLabelEncoder(['bees', 'ants', 'bees']);
  assert.deepEqual(enc.classes, ['ants', 'bees']);
  assert.deepEqual(enc.transform(['bees', 'ants']), [1, 0]);
  assert.deepEqual(enc.inverseTransform([0, 1, 1]), ['ants', 'bees', 'bees']);
  assert.throws(() => enc.transform(['wasps']), /unseen label 'wasps'; known classes: ants, bees/);
  assert.throws(() => enc.inverseTransform([2]), /id 2 out of range 0\.\.1/);
});

test('trainValSplit: stratified and seeded; same seed same rows, another seed other rows', async () => {
  const labels = [...Array(30).fill('a'), ...Array(10).fill('b')];
  const s1 = splitIndices(labels, { valFraction: 0.2, seed: 1 });
  const s2 = splitIndices(labels, { valFraction: 0.2, seed: 1 });
  const s3 = splitIndices(labels, { valFraction: 0.2, seed: 2 });
  assert.deepEqual(s1, s2);
  assert.notDeepEqual(s1.val, s3.val);
  assert.equal(s1.val.filter((i) => labels[i] === 'a').length, 6);
  assert.equal(s1.val.filter((i) => labels[i] === 'b').length, 2);
  assert.equal(new Set([...s1.train, ...s1.val]).size, 40);
  const root = path.join(dir, 'ants-bees', 'train');
  const df = await scanImageFolder(root);
  const { train, val } = trainValSplit(df, { valFraction: 0.3, seed: 0 });
  assert.equal(train.shape[0] + val.shape[0], 7);
  assert.deepEqual([...new Set(val.column('label').values as string[])].sort(), ['ants', 'bees']);
  assert.throws(() => trainValSplit(df, { valFraction: 1.5, seed: 0 }), /valFraction must be in \(0, 1\)/);
});

test('bad input: non-image file, empty class folder, single class, missing or file root — errors naming the path and the fix', async () => {
  const root = path.join(dir, 'bad');
  await makeImageFolder(root, { cats: 2, dogs: 2 });
  fs.writeFileSync(path.join(root, 'cats', 'notes.txt'), 'hello');
  await assert.rejects(listImageFolder(root), (e: Error) => /cats\/notes\.txt: not an image file.*Remove it.*onBadImage: 'skip'/.test(e.message));
  const skipped = await listImageFolder(root, { onBadImage: 'skip' });
  assert.equal(skipped.paths.length, 4);
  assert.deepEqual(skipped.skipped.map((s) => path.basename(s.path)), ['notes.txt']);

  fs.mkdirSync(path.join(root, 'empty'));
  fs.rmSync(path.join(root, 'cats', 'notes.txt'));
  await assert.rejects(listImageFolder(root), /bad\/empty: class folder 'empty' holds no images\. Add images to it or remove the folder/);
  const s2 = await listImageFolder(root, { onBadImage: 'skip' });
  assert.deepEqual(s2.classes, ['cats', 'dogs']);
  assert.match(s2.skipped[0].reason, /holds no images/);

  const single = path.join(dir, 'single');
  await makeImageFolder(single, { cats: 2 });
  await assert.rejects(listImageFolder(single), /single class \('cats'\); a classifier needs at least two/);
  assert.equal((await listImageFolder(single, { allowSingleClass: true })).paths.length, 2);

  await assert.rejects(listImageFolder(path.join(dir, 'nope')), /nope does not exist; expected a folder laid out as <root>\/<class>\/<image>/);
  await assert.rejects(listImageFolder(path.join(root, 'cats', 'cats-000.jpg')), /is a file, not a folder/);
  const hidden = path.join(dir, 'hidden');
  await makeImageFolder(hidden, { a: 1, b: 1 });
  fs.writeFileSync(path.join(hidden, 'a', '.DS_Store'), 'x');
  const h = await listImageFolder(hidden);
  assert.equal(h.paths.length, 2);
  assert.deepEqual(h.skipped.map((s) => s.reason), ['hidden entry']);
});

test('bad input: corrupt and truncated images — an error naming the file, or skipped and listed', async () => {
  const root = path.join(dir, 'corrupt');
  await makeImageFolder(root, { a: 3, b: 3 });
  const good = fs.readFileSync(path.join(root, 'a', 'a-000.jpg'));
  fs.writeFileSync(path.join(root, 'a', 'a-001.jpg'), good.subarray(0, Math.floor(good.length / 2))); // truncated
  fs.writeFileSync(path.join(root, 'b', 'b-002.jpg'), Buffer.from('this is not a jpeg at all')); // not an image
  await writeImage(path.join(root, 'b', 'b-003.png'), 10, 10, 3);
  fs.writeFileSync(path.join(root, 'b', 'b-004.png'), Buffer.alloc(0)); // empty

  await assert.rejects(listImageFolder(root, { verify: true }), /Cannot decode 3 image\(s\) in .*corrupt:\n.*a-001\.jpg: .*premature end.*\n.*b-002\.jpg: .*\n.*b-004\.png: the file is empty/);
  const scan = await listImageFolder(root, { verify: true, onBadImage: 'skip' });
  assert.deepEqual(scan.skipped.map((s) => path.basename(s.path)).sort(), ['a-001.jpg', 'b-002.jpg', 'b-004.png']);
  assert.equal(scan.paths.length, 5);

  // without verify, the dataset finds them when reading
  const all = await listImageFolder(root);
  const ds = new ImageDataset(all.paths, undefined, undefined);
  const idx = all.paths.findIndex((p) => p.endsWith('b-002.jpg'));
  await assert.rejects(ds.get(idx), /Cannot decode image .*b-002\.jpg.*replace it, delete it, or pass \{ onBadImage: 'skip' \}/);
  const empty = all.paths.findIndex((p) => p.endsWith('b-004.png'));
  await assert.rejects(ds.get(empty), /b-004\.png: the file is empty/);
  fs.rmSync(path.join(root, 'a', 'a-002.jpg'));
  await assert.rejects(ds.get(all.paths.findIndex((p) => p.endsWith('a-002.jpg'))), /Cannot read image .*a-002\.jpg: the file does not exist/);
});

test('split layout: train/ + val/ + an extra folder — the splits are read, the extra folder named as left out, with or without onBadImage', async () => {
  const root = path.join(dir, 'split-extra');
  await makeImageFolder(path.join(root, 'train'), { cat: 2, dog: 2 });
  await makeImageFolder(path.join(root, 'val'), { cat: 1, dog: 1 });
  await makeImageFolder(path.join(root, 'old-runs'), { cat: 1 });
  for (const onBadImage of ['error', 'skip'] as const) {
    const scan = await listImageFolder(root, { onBadImage });
    assert.deepEqual(scan.classes, ['cat', 'dog'], onBadImage);
    assert.deepEqual(scan.splits, ['train', 'train', 'train', 'train', 'val', 'val'], onBadImage);
    assert.deepEqual(scan.labels, ['cat', 'cat', 'dog', 'dog', 'cat', 'dog']);
    assert.deepEqual(scan.skipped.map((s) => [path.basename(s.path), s.reason]), [['old-runs', 'a folder beside the split folders (train, val), not read']]);
  }
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (m: string) => warnings.push(m);
  try {
    await scanImageFolder(root);
  } finally {
    console.warn = original;
  }
  assert.match(warnings.join('\n'), /old-runs: a folder beside the split folders/);
  assert.equal((await listImageFolder(root, { split: 'val' })).paths.length, 2);
});

test('split layout through symbolic links: a linked train/ (and linked images) read like real ones', async () => {
  const real = path.join(dir, 'real-train');
  await makeImageFolder(real, { ants: 2, bees: 2 });
  const root = path.join(dir, 'linked');
  await makeImageFolder(path.join(root, 'val'), { ants: 1, bees: 1 });
  fs.symlinkSync(real, path.join(root, 'train'));
  fs.symlinkSync(path.join(real, 'ants', 'ants-000.jpg'), path.join(root, 'val', 'ants', 'linked.jpg'));
  const scan = await listImageFolder(root);
  assert.deepEqual(scan.splits, ['train', 'train', 'train', 'train', 'val', 'val', 'val']);
  assert.deepEqual(scan.skipped, []);
  const train = await listImageFolder(root, { split: 'train' });
  assert.deepEqual(train.labels, ['ants', 'ants', 'bees', 'bees']);
  fs.symlinkSync(path.join(dir, 'nowhere'), path.join(root, 'val', 'bees', 'broken.jpg'));
  await assert.rejects(listImageFolder(root), /broken\.jpg: a broken symbolic link/);
});

test("onBadImage 'skip' skips bad images, never whole folders: a nested folder is an error naming the layout", async () => {
  const root = path.join(dir, 'nested');
  await makeImageFolder(root, { cat: 2, dog: 2 });
  await makeImageFolder(path.join(root, 'cat'), { more: 3 });
  for (const onBadImage of ['error', 'skip'] as const) {
    await assert.rejects(listImageFolder(root, { onBadImage }), /cat\/more: a nested folder inside a class folder .*expected <root>\/<class>\/<image>.*onBadImage skips only files/);
  }
});
