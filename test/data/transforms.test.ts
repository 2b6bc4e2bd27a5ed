import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'path';
import * as fs from 'fs';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../lib/random';
import { decodeImage, RawImage, resizePixels } from '../../lib/data/image';
import {
  blur,
  colorJitter,
  compose,
  gaussNoise,
  horizontalFlip,
  IMAGENET_MEAN,
  IMAGENET_STD,
  normalize,
  randomCropBox,
  randomResizedCrop,
  resize,
  rotate,
  rotateBy,
  toTensor,
  verticalFlip,
} from '../../lib/data/transforms';
import { previewAugmentations } from '../../lib/data/preview';
import { patternPixels, rmTmp, tmpDir, writeImage } from './helpers';

const dir = tmpDir();
after(() => rmTmp(dir));

function randomImage(h: number, w: number, c: number, seed: number): RawImage {
  const r = new Rng(seed);
  return { data: Uint8Array.from({ length: h * w * c }, () => r.int(256)), height: h, width: w, channels: c };
}

function asTensor(img: RawImage): tf.Tensor3D {
  return tf.tensor3d(Float32Array.from(img.data), [img.height, img.width, img.channels]);
}

test('flips equal tf.reverse along width / height', async () => {
  await tf.setBackend('cpu');
  const img = randomImage(5, 7, 3, 1);
  const h = (await horizontalFlip({ p: 1 })(img, new Rng(0))) as RawImage;
  const v = (await verticalFlip({ p: 1 })(img, new Rng(0))) as RawImage;
  assert.deepEqual(Array.from(h.data), Array.from(tf.reverse(asTensor(img), 1).dataSync()));
  assert.deepEqual(Array.from(v.data), Array.from(tf.reverse(asTensor(img), 0).dataSync()));
  assert.equal(horizontalFlip({ p: 0 })(img, new Rng(0)), img, 'p = 0 leaves the image alone');
});

test('rotateBy(90) is a counter-clockwise quarter turn (transpose + vertical flip); rotateBy(0) the identity', () => {
  const img = randomImage(6, 6, 3, 2);
  const r = rotateBy(img, 90);
  const ref = tf.reverse(tf.transpose(asTensor(img), [1, 0, 2]), 0);
  assert.deepEqual(Array.from(r.data), Array.from(ref.dataSync()));
  assert.deepEqual(Array.from(rotateBy(img, 0).data), Array.from(img.data));
  const f = { ...img, data: Float32Array.from(img.data, (x) => x / 255) };
  const rf = rotateBy(f, 37);
  assert.ok(rf.data instanceof Float32Array && rf.data.length === f.data.length);
  // rotate(limit) draws the angle inside ±limit and keeps the size
  const out = rotate(30, { p: 1 })(img, new Rng(3)) as RawImage;
  assert.deepEqual([out.height, out.width, out.channels], [6, 6, 3]);
});

test('normalize is (x / maxPixelValue − mean) / std per channel (albumentations), ImageNet defaults', async () => {
  const img = randomImage(2, 3, 3, 3);
  const out = (await normalize()(img, new Rng(0))) as RawImage;
  assert.ok(out.data instanceof Float32Array);
  for (let i = 0; i < img.data.length; i++) {
    const c = i % 3;
    assert.ok(Math.abs(out.data[i] - (img.data[i] / 255 - IMAGENET_MEAN[c]) / IMAGENET_STD[c]) < 1e-6);
  }
  const grey = randomImage(2, 2, 1, 4);
  const g = (await normalize({ mean: [0.5], std: [0.25], maxPixelValue: 100 })(grey, new Rng(0))) as RawImage;
  assert.ok(Math.abs(g.data[0] - (grey.data[0] / 100 - 0.5) / 0.25) < 1e-6);
  assert.throws(() => normalize({ mean: [0, 0], std: [1, 1] })(img, new Rng(0)), /mean\/std have 2\/2 values for a 3-channel image/);
  const t = (await toTensor()(img, new Rng(0))) as RawImage;
  assert.ok(Math.abs(t.data[5] - img.data[5] / 255) < 1e-7);
});

test('resize: bilinear with half-pixel centres (tf reference when enlarging), antialiased like PIL when shrinking (hand-computed)', async () => {
  // one row, 12 → 6 pixels (scale 2): output i averages inputs with weights max(0, 1 − |j + ½ − 2(i + ½)| / 2)
  const w = 12;
  const r = new Rng(5);
  const x = Array.from({ length: w }, () => r.int(256));
  const img: RawImage = { data: Uint8Array.from(x.flatMap((v) => [v, v, v])), height: 1, width: w, channels: 3 };
  const out = (await resize(1, 6)(img, new Rng(0))) as RawImage;
  assert.deepEqual([out.height, out.width, out.channels], [1, 6, 3]);
  for (let i = 1; i < 5; i++) {
    const c = 2 * (i + 0.5);
    let sum = 0;
    let ws = 0;
    for (let j = 0; j < w; j++) {
      const wt = Math.max(0, 1 - Math.abs(j + 0.5 - c) / 2);
      sum += wt * x[j];
      ws += wt;
    }
    assert.ok(Math.abs(out.data[i * 3] - sum / ws) <= 1, `pixel ${i}: ${out.data[i * 3]} vs ${(sum / ws).toFixed(1)}`);
  }
  // enlarging: exactly tf.image.resizeBilinear with half-pixel centres (cv2 / PIL convention), up to rounding
  const small = randomImage(7, 5, 3, 5);
  const up = (await resize(20, 13)(small, new Rng(0))) as RawImage;
  assert.deepEqual([up.height, up.width, up.channels], [20, 13, 3]);
  const ref = tf.image.resizeBilinear(asTensor(small), [20, 13], false, true).dataSync();
  for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(up.data[i] - ref[i]) <= 0.5 + 1e-4, `pixel ${i}: ${up.data[i]} vs ${ref[i]}`);
  // shrinking on both axes runs on libvips: within a few levels of the same triangle filter on smooth content
  const smooth: RawImage = { data: new Uint8Array(40 * 60 * 3), height: 40, width: 60, channels: 3 };
  for (let i = 0; i < smooth.data.length; i++) smooth.data[i] = Math.round(127 + 100 * Math.sin(i / 3 / 60 / 3) * Math.cos((i / 3) % 60 / 7));
  for (const [oh, ow] of [[20, 30], [30, 45], [13, 17]]) {
    const viaVips = (await resize(oh, ow)(smooth, new Rng(0))) as RawImage;
    const viaJs = resizePixels(smooth.data as Uint8Array, 40, 60, 3, oh, ow);
    let worst = 0;
    let total = 0;
    for (let i = 0; i < viaJs.length; i++) {
      worst = Math.max(worst, Math.abs(viaVips.data[i] - viaJs[i]));
      total += Math.abs(viaVips.data[i] - viaJs[i]);
    }
    assert.ok(worst <= 6 && total / viaJs.length < 1, `40×60 → ${oh}×${ow}: libvips vs resizePixels max ${worst}, mean ${total / viaJs.length}`);
  }
  const flat: RawImage = { data: new Uint8Array(10 * 10).fill(33), height: 10, width: 10, channels: 1 };
  const f = (await resize(7, 3)(flat, new Rng(0))) as RawImage;
  assert.ok(f.channels === 1 && f.data.every((v) => v === 33));
});

test('colorJitter: brightness scales by the drawn factor; a half-turn of hue maps red to cyan', async () => {
  const img: RawImage = { data: Uint8Array.from([200, 100, 50, 10, 20, 30]), height: 1, width: 2, channels: 3 };
  const out = (await colorJitter({ brightness: 0.3, contrast: 0, p: 1 })(img, new Rng(9))) as RawImage;
  const r = new Rng(9);
  r.next(); // the probability draw
  const b = r.uniform(0.7, 1.3);
  assert.deepEqual(Array.from(out.data), Array.from(img.data, (v) => Math.round(Math.min(255, v * b))));
  const red: RawImage = { data: Uint8Array.from([255, 0, 0]), height: 1, width: 1, channels: 3 };
  // hue 0.5 with a draw at the top of the range: shift ≈ ±0.5 turns → cyan
  let cyan: RawImage | undefined;
  for (let s = 0; s < 200 && !cyan; s++) {
    const rr = new Rng(s);
    rr.next();
    rr.uniform();
    rr.uniform();
    rr.uniform();
    if (Math.abs(rr.uniform(-0.5, 0.5)) > 0.499) cyan = (await colorJitter({ brightness: 0, contrast: 0, hue: 0.5, p: 1 })(red, new Rng(s))) as RawImage;
  }
  assert.ok(cyan, 'found a seed drawing a near half-turn');
  assert.ok(cyan!.data[0] < 5 && cyan!.data[1] > 250 && cyan!.data[2] > 250, `got ${Array.from(cyan!.data)}`);
});

test('gaussNoise: the added noise has the drawn std; blur keeps a flat image flat', async () => {
  const flat: RawImage = { data: new Float32Array(64 * 64 * 3).fill(0.5), height: 64, width: 64, channels: 3 };
  const out = (await gaussNoise({ stdRange: [0.1, 0.1], p: 1 })(flat, new Rng(1))) as RawImage;
  const xs = Array.from(out.data);
  const n = xs.length;
  const mean = xs.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(xs.reduce((s, v) => s + (v - mean) ** 2, 0) / n);
  assert.ok(Math.abs(mean - 0.5) < 0.005 && Math.abs(sd - 0.1) < 0.005, `mean ${mean} sd ${sd}`);
  const u8: RawImage = { data: new Uint8Array(16 * 16 * 3).fill(77), height: 16, width: 16, channels: 3 };
  const bl = (await blur({ p: 1 })(u8, new Rng(2))) as RawImage;
  assert.ok(bl.data.every((v) => v === 77));
});

test('randomResizedCrop: boxes stay inside the image with area and ratio in range; output has the asked size', async () => {
  for (let s = 0; s < 200; s++) {
    const box = randomCropBox(40, 60, new Rng(s), [0.08, 1], [3 / 4, 4 / 3]);
    assert.ok(box.top >= 0 && box.left >= 0 && box.top + box.height <= 40 && box.left + box.width <= 60);
    const area = (box.height * box.width) / 2400;
    assert.ok(area >= 0.06 && area <= 1.0001, `area ${area}`);
  }
  const img = randomImage(40, 60, 3, 6);
  const out = (await randomResizedCrop(24, 24)(img, new Rng(1))) as RawImage;
  assert.deepEqual([out.height, out.width, out.channels], [24, 24, 3]);
  // scale 1 and ratio of the image: the whole image, i.e. a plain resize
  const whole = (await randomResizedCrop(20, 30, { scale: [1, 1], ratio: [1.5, 1.5] })(img, new Rng(1))) as RawImage;
  const plain = (await resize(20, 30)(img, new Rng(1))) as RawImage;
  assert.deepEqual(Array.from(whole.data), Array.from(plain.data));
});

test('a composed pipeline: same seed → identical output, another seed → different; bad items named', async () => {
  const t = compose([randomResizedCrop(16, 16, { scale: [0.5, 1] }), horizontalFlip(), verticalFlip(), rotate(20), colorJitter({ brightness: 0.2, contrast: 0.2, saturation: 0.2, hue: 0.05 }), gaussNoise(), blur(), normalize()]);
  const img = randomImage(30, 30, 3, 7);
  const a = (await t(img, new Rng(11))) as RawImage;
  const b = (await t(img, new Rng(11))) as RawImage;
  const c = (await t(img, new Rng(12))) as RawImage;
  assert.deepEqual(a.data, b.data);
  assert.notDeepEqual(a.data, c.data);
  assert.throws(() => compose([resize(2, 2), undefined as never]), /item 1 is not a transform/);
});

test('decodeImage: JPEG, PNG, WebP, grey, grey+alpha, RGBA (flattened on white), 16-bit', async () => {
  const rgb = patternPixels(8, 6, 3);
  const files: Record<string, Buffer> = {
    'rgb.png': await sharp(rgb, { raw: { width: 8, height: 6, channels: 3 } }).png().toBuffer(),
    'rgb.webp': await sharp(rgb, { raw: { width: 8, height: 6, channels: 3 } }).webp({ lossless: true }).toBuffer(),
    'rgb16.png': await sharp(rgb, { raw: { width: 8, height: 6, channels: 3 } }).toColourspace('rgb16').png().toBuffer(),
    'grey.png': await sharp(Buffer.alloc(48, 90), { raw: { width: 8, height: 6, channels: 1 } }).toColourspace('b-w').png().toBuffer(),
  };
  const rgba = Buffer.alloc(48 * 4);
  for (let p = 0; p < 48; p++) rgba.set([200, 0, 0, p < 24 ? 0 : 255], p * 4);
  files['rgba.png'] = await sharp(rgba, { raw: { width: 8, height: 6, channels: 4 } }).png().toBuffer();
  for (const [name, buf] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), buf);
  for (const name of ['rgb.png', 'rgb.webp', 'rgb16.png']) {
    const img = await decodeImage(path.join(dir, name));
    assert.deepEqual([img.height, img.width, img.channels], [6, 8, 3], name);
    assert.ok(img.data.every((v, i) => Math.abs(v - rgb[i]) <= 1), `${name} pixels`);
  }
  const grey = await decodeImage(path.join(dir, 'grey.png'));
  assert.equal(grey.channels, 3);
  assert.ok(grey.data.every((v) => v === 90), 'grey replicated to RGB');
  assert.equal((await decodeImage(path.join(dir, 'grey.png'), { channels: 1 })).data.length, 48);
  // one channel: PIL's convert('L') luma, by hand
  const lum = await decodeImage(path.join(dir, 'rgb.png'), { channels: 1 });
  assert.equal(lum.channels, 1);
  for (let p = 0; p < 48; p++) assert.equal(lum.data[p], Math.round(0.299 * rgb[p * 3] + 0.587 * rgb[p * 3 + 1] + 0.114 * rgb[p * 3 + 2]));
  const a = await decodeImage(path.join(dir, 'rgba.png'));
  assert.deepEqual(Array.from(a.data.subarray(0, 3)), [255, 255, 255], 'transparent → white');
  assert.deepEqual(Array.from(a.data.subarray(30 * 3, 30 * 3 + 3)), [200, 0, 0], 'opaque kept');
});

test('previewAugmentations: n images of the transform, reproducible by seed', async () => {
  const file = path.join(dir, 'p.jpg');
  await writeImage(file, 40, 30, 2);
  const t = compose([randomResizedCrop(24, 24), horizontalFlip()]);
  const a = await previewAugmentations([file], t, { n: 4, seed: 1 });
  const b = await previewAugmentations([file], t, { n: 4, seed: 1 });
  assert.equal(a.length, 4);
  assert.deepEqual(a[0].shape, [24, 24, 3]);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a[0].data, a[1].data);
});
