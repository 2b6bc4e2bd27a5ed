/**
 * Throughput of the data pipeline: JPEG files → sharp decode → transforms → Float32 NHWC batches,
 * through the prefetching DataLoader, at 32, 64 and 224 px. Shows whether loading can keep up with training.
 * Imported by scripts/bench.ts; runnable alone: `npx tsx scripts/bench/data.ts`.
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { QUICK } from '../../lib/config';
import { Rng } from '../../lib/random';
import { DataLoader, ImageDataset } from '../../lib/data/dataset';
import { ensureEmbedded, loadView } from '../../lib/data/embedded';
import { listImageFolder } from '../../lib/data/folder';
import { colorJitter, compose, horizontalFlip, normalize, randomResizedCrop, resize, rotate, toTensor, Transform } from '../../lib/data/transforms';
import type { BenchRow } from './types';

/** One data row: BenchRow plus the pipeline's own figure. */
export interface DataBenchRow extends BenchRow {
  backend: 'data';
  model: 'decode+transform';
  /** Training pipeline (decode + randomResizedCrop + flip + colour jitter + normalize), images per second. */
  imagesPerSec: number;
  /** Images decoded per measurement. */
  images: number;
}

/** Photo-like JPEGs (smooth colour fields + noise, 400×300 like the hymenoptera photos) in a temp folder. */
async function makeJpegs(dir: string, n: number): Promise<string[]> {
  const w = 400;
  const h = 300;
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const rng = new Rng(`bench/${i}`);
    const px = Buffer.alloc(w * h * 3);
    const [a, b, c] = [rng.uniform(0.01, 0.05), rng.uniform(0.01, 0.05), rng.uniform(0, 6)];
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        for (let k = 0; k < 3; k++) px[(y * w + x) * 3 + k] = Math.max(0, Math.min(255, 128 + 90 * Math.sin(a * x + b * y + c + k) + rng.normal(0, 12)));
    const file = path.join(dir, `${i}.jpg`);
    fs.writeFileSync(file, await sharp(px, { raw: { width: w, height: h, channels: 3 } }).jpeg({ quality: 85 }).toBuffer());
    paths.push(file);
  }
  return paths;
}

/** Images per second through a DataLoader over `paths` with `transform` (one pass; tensors made and disposed). */
async function rate(paths: string[], transform: Transform, batchSize: number): Promise<number> {
  const loader = new DataLoader(new ImageDataset(paths, new Array(paths.length).fill(0), transform), { batchSize, shuffle: true, prefetch: 2 });
  const t0 = performance.now();
  let n = 0;
  for await (const b of loader) {
    n += b.xs.shape[0];
    b.xs.dispose();
    b.ys?.dispose();
  }
  return (n / (performance.now() - t0)) * 1000;
}

/** Decoded + transformed images per second at 32, 64 and 224 px (JPEG files, prefetching DataLoader). */
export async function benchData(opts: { sizes?: number[]; images?: number; batchSize?: number } = {}): Promise<DataBenchRow[]> {
  const sizes = opts.sizes ?? [32, 64, 224];
  const images = opts.images ?? (QUICK ? 64 : 256);
  const batchSize = opts.batchSize ?? 32;
  if (!tf.getBackend()) await tf.setBackend('cpu');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-bench-data-'));
  try {
    const paths = await makeJpegs(dir, images);
    await rate(paths.slice(0, batchSize), resize(32, 32), batchSize); // warm up sharp/libvips
    const rows: DataBenchRow[] = [];
    for (const s of sizes) {
      const trainT = compose([randomResizedCrop(s, s), horizontalFlip(), colorJitter({ brightness: 0.2, contrast: 0.2 }), normalize()]);
      const evalT = compose([resize(s, s), normalize()]);
      const train = await rate(paths, trainT, batchSize);
      const infer = await rate(paths, evalT, batchSize);
      rows.push({
        backend: 'data',
        model: 'decode+transform',
        imageSize: s,
        batchSize,
        imagesPerSec: train,
        trainImagesPerSec: train,
        inferImagesPerSec: infer,
        images,
        note: `${images} JPEG 400×300 → ${s}px; train = crop+flip+jitter+normalize, infer = resize+normalize; prefetch 2`,
      });
    }
    // the kit's own files: digits-m, 32×32 JPEG (what notebook 05 reads), with the notebook's augmentation
    const root = await ensureEmbedded('digits-m');
    const scan = await listImageFolder(path.join(root, 'train'));
    const mPaths = scan.paths.filter((_, i) => i % Math.floor(scan.paths.length / images) === 0).slice(0, images);
    const mTrain = await rate(mPaths, compose([randomResizedCrop(32, 32, { scale: [0.8, 1] }), rotate(12, { p: 0.7 }), colorJitter(), toTensor()]), batchSize);
    const mEval = await rate(mPaths, compose([resize(32, 32), toTensor()]), batchSize);
    rows.push({
      backend: 'data',
      model: 'decode+transform',
      imageSize: 32,
      batchSize,
      imagesPerSec: mTrain,
      trainImagesPerSec: mTrain,
      inferImagesPerSec: mEval,
      images: mPaths.length,
      note: `${mPaths.length} digits-m JPEG 32×32 files; train = crop+rotate+jitter, infer = resize; prefetch 2`,
    });
    return rows;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Dump digits and digits-m (train: mPerClass images per class, val: all 200 per class; 32 px RGB) as raw
 * files and run data_distance.py with Debian's PyTorch: a CNN trained on one domain, scored on both.
 */
export async function measureDomainDistance(opts: { mPerClass?: number; epochs?: number; seeds?: number } = {}): Promise<Array<Record<string, number | string>>> {
  const { mPerClass = 400, epochs = 8, seeds = 2 } = opts;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-distance-'));
  try {
    for (const name of ['digits', 'digits-m'] as const)
      for (const split of ['train', 'val'] as const) {
        const v = await loadView(name, { split, seed: 0, ...(split === 'train' ? { mPerClass } : {}) });
        fs.writeFileSync(path.join(dir, `${name}-${split}.x`), Buffer.from(v.images.buffer, v.images.byteOffset, v.images.byteLength));
        fs.writeFileSync(path.join(dir, `${name}-${split}.y`), Buffer.from(v.labels.buffer, v.labels.byteOffset, v.labels.byteLength));
        fs.writeFileSync(path.join(dir, `${name}-${split}.json`), JSON.stringify({ n: v.labels.length, h: v.height, w: v.width, c: v.channels }));
      }
    const res = spawnSync('/usr/bin/python3', [path.join(__dirname, 'data_distance.py'), dir, String(epochs), String(seeds)], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
    if (res.status !== 0) throw new Error(`data_distance.py failed (needs Debian's python3-torch): ${res.stderr}`);
    return res.stdout.trim().split('\n').map((l) => JSON.parse(l));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module && process.argv.includes('--distance')) {
  measureDomainDistance().then(
    (rows) => rows.forEach((r) => console.log(JSON.stringify(r))),
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
} else if (require.main === module) {
  benchData().then(
    (rows) => {
      for (const r of rows) console.log(`${String(r.imageSize).padStart(4)} px  train pipeline ${r.trainImagesPerSec!.toFixed(0).padStart(6)} img/s  eval pipeline ${r.inferImagesPerSec!.toFixed(0).padStart(6)} img/s  (${r.note})`);
    },
    (err) => {
      console.error(err);
      process.exit(1);
    },
  );
}
