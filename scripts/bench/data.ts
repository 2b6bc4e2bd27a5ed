/**
 * Throughput of the data pipeline: JPEG files → sharp decode → transforms → Float32 NHWC batches,
 * through the prefetching DataLoader, at 32, 64 and 224 px. Shows whether loading can keep up with training.
 * Imported by scripts/bench.ts; runnable alone: `npx tsx scripts/bench/data.ts`. With `--train` (or
 * `benchData({ train: true })`): training the shipped source model fed from memory vs from the JPEG files.
 * `--distance`: the domain-distance experiment (needs Debian's python3-torch).
 */
import { spawnSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { isQuick } from '../../lib/config';
import { Rng } from '../../lib/random';
import { initBackend } from '../../lib/backend';
import { ArrayDataset, ImageDataset } from '../../lib/data/dataset';
import { DataLoader } from '../../lib/data/loader';
import { decodeImage, floatPixels } from '../../lib/data/image';
import { buildTransferModel, loadSourceModel } from '../../lib/models';
import { train } from '../../lib/train';
import { ensureEmbedded, loadView } from '../../lib/data/embedded';
import { listImageFolder } from '../../lib/data/folder';
import { colorJitter, compose, horizontalFlip, normalize, randomResizedCrop, resize, rotate, toTensor, Transform } from '../../lib/data/transforms';
import type { Batch } from '../../lib/data/types';
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

/** One "loader → training" row: images/s of training epochs fed by one kind of loader. */
export interface DataTrainBenchRow extends BenchRow {
  model: 'loader+train';
  /**
   * 'array': in-memory ArrayDataset; 'files+aug': ImageDataset over the JPEG files with notebook 05's augmentation
   * (decoded pixels cached from the 2nd epoch on, the default); 'files+aug nocache': the same, decoding every epoch
   * (`cacheBytes: 0`); 'files': cached ImageDataset, resize + toTensor only; 'array+aug': the in-memory images with
   * the same augmentation (in the worker by default; '0 workers' on the main thread).
   */
  feed: 'array' | 'array+aug' | 'array+aug 0 workers' | 'files+aug' | 'files+aug nocache' | 'files+aug 0 workers' | 'files+aug 2 workers' | 'files';
  strategy: 'finetune' | 'freeze';
  /** Median over the epochs after the first, images per second (the training loop's own figure). */
  trainImagesPerSec: number;
  /** The first epoch (for cached file datasets: the one that decodes), images per second. */
  firstEpochImagesPerSec: number;
  /** Every epoch's figure, in run order (the feeds alternate epoch by epoch). */
  rounds: number[];
  /** The loader alone (no training; first pass, then a second pass on the same dataset), images per second. */
  loaderImagesPerSec: number;
  loaderWarmImagesPerSec: number;
  /** Share of the training epochs' wall time spent waiting for the next batch (median over epochs 2..), 0..1. */
  waitFraction: number;
  images: number;
}

/** A DataLoader that adds up how long its consumer waits for each next batch. */
class TimedLoader extends DataLoader {
  waitMs = 0;

  override [Symbol.asyncIterator](): AsyncIterator<Batch> {
    const it = super[Symbol.asyncIterator]();
    return {
      next: async () => {
        const t = performance.now();
        const r = await it.next();
        this.waitMs += performance.now() - t;
        return r;
      },
      return: async () => (it.return ? it.return() : { done: true, value: undefined }),
    };
  }
}

/** Median of a few numbers. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/**
 * Does the loader slow training? Trains the shipped source model (digits-m-0-4, finetune and freeze, batch 32)
 * on `images` digits-m 5–9 train files, one epoch per round, fed by an in-memory ArrayDataset of the same images,
 * by ImageDatasets over the JPEG files with notebook 05's augmentation (cached and uncached; with the default
 * worker threads, none (main thread) and two), and without augmentation. The feeds alternate epoch by epoch in one process, so machine load hits them alike.
 */
export async function benchLoaderTraining(opts: { images?: number; rounds?: number; batchSize?: number; log?: (s: string) => void } = {}): Promise<DataTrainBenchRow[]> {
  const images = opts.images ?? (isQuick() ? 256 : 1024);
  const rounds = Math.max(2, opts.rounds ?? (isQuick() ? 2 : 4));
  const batchSize = opts.batchSize ?? 32;
  const log = opts.log ?? (() => undefined);
  await initBackend();
  const backend = tf.getBackend();
  const root = await ensureEmbedded('digits-m');
  const scan = await listImageFolder(path.join(root, 'train'));
  const classes = ['5', '6', '7', '8', '9'];
  const all = scan.paths.map((p, i) => ({ p, y: classes.indexOf(scan.labels[i]) })).filter((e) => e.y >= 0);
  const step = Math.max(1, Math.floor(all.length / images));
  const paths = all.filter((_, i) => i % step === 0).slice(0, images).map((e) => e.p);
  const labels = Int32Array.from(all.filter((_, i) => i % step === 0).slice(0, images), (e) => e.y);
  // the very same images, decoded once into memory
  const per = 32 * 32 * 3;
  const arr = new Float32Array(paths.length * per);
  for (let i = 0; i < paths.length; i++) arr.set(floatPixels((await decodeImage(paths[i], { size: [32, 32] })).data), i * per);
  const arrays = { images: arr, labels, height: 32, width: 32, channels: 3, classes };
  // notebook 05's pipelines (digits-m: no flip)
  const augT = compose([randomResizedCrop(32, 32, { scale: [0.8, 1], p: 1 }), rotate(12, { p: 0.7 }), colorJitter({ p: 0.5 }), toTensor()]);
  const plainT = compose([resize(32, 32), toTensor()]);
  const datasets = {
    array: () => new ArrayDataset(arrays),
    'array+aug': () => new ArrayDataset(arrays, augT, 1),
    'array+aug 0 workers': () => new ArrayDataset(arrays, augT, 1, { workers: 0 }),
    'files+aug': () => new ImageDataset(paths, labels, augT, { classes, seed: 1 }),
    'files+aug nocache': () => new ImageDataset(paths, labels, augT, { classes, seed: 1, cacheBytes: 0 }),
    'files+aug 0 workers': () => new ImageDataset(paths, labels, augT, { classes, seed: 1, workers: 0 }),
    'files+aug 2 workers': () => new ImageDataset(paths, labels, augT, { classes, seed: 1, workers: 2 }),
    files: () => new ImageDataset(paths, labels, plainT, { classes, seed: 1 }),
  } as const;
  const names = Object.keys(datasets) as Array<keyof typeof datasets>;
  const loader = (ds: ArrayDataset | ImageDataset): TimedLoader => new TimedLoader(ds, { batchSize, shuffle: true, seed: 1 });
  const loaderRate = async (l: DataLoader): Promise<number> => {
    const t0 = performance.now();
    let n = 0;
    for await (const b of l) {
      n += b.xs.shape[0];
      tf.dispose([b.xs, b.ys!]);
    }
    return (n / (performance.now() - t0)) * 1000;
  };
  const alone: Record<string, [number, number]> = {};
  for (const f of names) {
    const l = loader(datasets[f]());
    alone[f] = [await loaderRate(l), await loaderRate(l)];
  }
  const source = await loadSourceModel('digits-m-0-4');
  const rows: DataTrainBenchRow[] = [];
  for (const strategy of ['finetune', 'freeze'] as const) {
    const tm = buildTransferModel(source, { strategy, numClasses: classes.length, seed: 1 });
    const waits: Record<string, number[]> = Object.fromEntries(names.map((f) => [f, []]));
    const epoch = async (l: TimedLoader, f?: string): Promise<number> => {
      l.waitMs = 0;
      const t = performance.now();
      const h = (await train(tm, l, { epochs: 1, lr: 1e-3, seed: 1, progress: false })).history;
      if (f) waits[f].push(l.waitMs / (performance.now() - t));
      return h.imagesPerSec[0];
    };
    await epoch(loader(datasets.array())); // warm up kernels and the optimizer's code paths
    const loaders = Object.fromEntries(names.map((f) => [f, loader(datasets[f]())])) as Record<(typeof names)[number], TimedLoader>;
    const got: Record<string, number[]> = Object.fromEntries(names.map((f) => [f, []]));
    for (let r = 0; r < rounds; r++)
      for (const f of names) {
        got[f].push(await epoch(loaders[f], f));
        log(`${strategy} ${f} epoch ${r + 1}: ${got[f][r].toFixed(0)} img/s, waited for batches ${(waits[f][r] * 100).toFixed(1)} %`);
      }
    for (const f of names)
      rows.push({
        backend,
        model: 'loader+train',
        feed: f,
        strategy,
        imageSize: 32,
        batchSize,
        trainImagesPerSec: median(got[f].slice(1)),
        firstEpochImagesPerSec: got[f][0],
        inferImagesPerSec: null,
        rounds: got[f],
        loaderImagesPerSec: alone[f][0],
        loaderWarmImagesPerSec: alone[f][1],
        waitFraction: median(waits[f].slice(1)),
        images: paths.length,
        note: `digits-m-0-4 ${strategy}, ${paths.length} digits-m 5-9 images, ${rounds} epochs per feed interleaved (median of epochs 2..${rounds}; epoch 1 ${got[f][0].toFixed(0)}); feed ${f}; loader alone ${alone[f][0].toFixed(0)} then ${alone[f][1].toFixed(0)} img/s`,
      });
    tm.model.dispose();
  }
  source.model.dispose();
  return rows;
}

/** Decoded + transformed images per second at 32, 64 and 224 px (JPEG files, prefetching DataLoader); `train` adds the loader→training rows. */
export async function benchData(opts: { sizes?: number[]; images?: number; batchSize?: number; train?: boolean } = {}): Promise<Array<DataBenchRow | DataTrainBenchRow>> {
  const sizes = opts.sizes ?? [32, 64, 224];
  const images = opts.images ?? (isQuick() ? 64 : 256);
  const batchSize = opts.batchSize ?? 32;
  if (!tf.getBackend()) await tf.setBackend('cpu');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-bench-data-'));
  try {
    const paths = await makeJpegs(dir, images);
    await rate(paths.slice(0, batchSize), resize(32, 32), batchSize); // warm up sharp/libvips
    const rows: Array<DataBenchRow | DataTrainBenchRow> = [];
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
    if (opts.train) rows.push(...(await benchLoaderTraining({ batchSize })));
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
} else if (require.main === module && process.argv.includes('--train')) {
  const uptime = (): string => spawnSync('uptime', { encoding: 'utf8' }).stdout.trim();
  console.log(`before: ${uptime()}`);
  console.log(`backend: ${process.env.KIT_BACKEND ?? '(auto)'}`);
  const roundsArg = process.argv.indexOf('--rounds');
  benchLoaderTraining({ log: console.log, rounds: roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : undefined }).then(
    (rows) => {
      console.log(`after: ${uptime()}; backend ${rows[0]?.backend}`);
      for (const s of ['finetune', 'freeze']) {
        const base = rows.find((r) => r.strategy === s && r.feed === 'array')!.trainImagesPerSec;
        for (const r of rows.filter((x) => x.strategy === s))
          console.log(
            `${s.padEnd(8)} ${r.feed.padEnd(19)} train ${r.trainImagesPerSec.toFixed(0).padStart(5)} img/s (${((r.trainImagesPerSec / base - 1) * 100).toFixed(0).padStart(4)} % vs array; waits ${(r.waitFraction * 100).toFixed(1)} %; epochs ${r.rounds.map((x) => x.toFixed(0)).join(', ')})  loader alone ${r.loaderImagesPerSec.toFixed(0)} → ${r.loaderWarmImagesPerSec.toFixed(0)} img/s`,
          );
      }
      console.log(JSON.stringify(rows));
    },
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
