/**
 * Worker-thread entry of the dataset offload (see workers.ts): per batch, reads and decodes the files (or takes
 * the pixels sent), rebuilds the transform from its spec, applies it with each sample's seeded rng, packs the
 * float32 results into one array and transfers it back.
 */
import { parentPort } from 'worker_threads';
import { Rng } from '../random';
import { decodeImage, floatPixels, RawImage } from './image';
import { fromSpec, Transform, TransformSpec } from './transforms';
import type { BatchFailure, BatchReply, BatchTask } from './workers';

const transforms = new Map<string, Transform>();

/** The transform of a spec, built once per distinct spec. */
function transformOf(spec: TransformSpec): Transform {
  const key = JSON.stringify(spec);
  let t = transforms.get(key);
  if (!t) transforms.set(key, (t = fromSpec(spec)));
  return t;
}

/** Decoded pixels kept across batches, per dataset (the batch path's decode cache), and the bytes each holds. */
const caches = new Map<number, { images: Map<string, RawImage>; bytes: number }>();

/**
 * One batch: every sample decoded (or taken from the cache, copied: a transform may write into its input) and
 * transformed with its seed, then packed in order into one float32 buffer that is transferred back.
 */
async function runBatch(task: BatchTask): Promise<[BatchReply, ArrayBuffer[]]> {
  const failures: BatchFailure[] = [];
  const shapes: [number, number, number][] = [];
  const transform = transformOf(task.spec);
  /** Sample k transformed with its seed (null after recording a failure). */
  const transformed = async (img: RawImage, k: number): Promise<Float32Array | null> => {
    try {
      img = await transform(img, new Rng(task.seeds[k]));
      shapes[k] = [img.height, img.width, img.channels];
      return floatPixels(img.data);
    } catch (err) {
      failures.push({ k, stage: 'transform', message: (err as Error).message });
      return null;
    }
  };
  let cache = caches.get(task.dataset);
  if (!cache && task.cacheBytes > 0) caches.set(task.dataset, (cache = { images: new Map(), bytes: 0 }));
  const px = task.pixels;
  const per = px ? px.height * px.width * px.channels : 0;
  const sources = px ? task.seeds.map((_, k) => k) : task.files!;
  const images = await Promise.all(
    sources.map(async (file, k): Promise<Float32Array | null> => {
      // in-memory pixels (ArrayDataset): a private copy of sample k, as ArrayDataset.get makes
      if (px) return transformed({ data: px.data.slice(k * per, (k + 1) * per), height: px.height, width: px.width, channels: px.channels }, k);
      let img: RawImage;
      try {
        const hit = cache?.images.get(file as string);
        if (hit) {
          img = { ...hit, data: hit.data.slice() };
        } else {
          img = await decodeImage(file as string, { channels: task.channels });
          if (cache && cache.bytes + img.data.byteLength <= task.cacheBytes && !cache.images.has(file as string)) {
            cache.images.set(file as string, { ...img, data: img.data.slice() });
            cache.bytes += img.data.byteLength;
          }
        }
      } catch (err) {
        failures.push({ k, stage: 'decode', message: (err as Error).message });
        return null;
      }
      return transformed(img, k);
    }),
  );
  const kept = images.flatMap((im, k) => (im ? [k] : []));
  const shape = kept.length ? shapes[kept[0]] : null;
  const size = shape ? shape[0] * shape[1] * shape[2] : 0;
  const data = new Float32Array(kept.length * size);
  let mismatch: BatchReply['mismatch'];
  kept.forEach((k, j) => {
    const s = shapes[k];
    if (s[0] !== shape![0] || s[1] !== shape![1] || s[2] !== shape![2] || images[k]!.length !== size) mismatch ??= { k, shape: s };
    else data.set(images[k]!, j * size);
  });
  failures.sort((a, b) => a.k - b.k);
  return [{ kind: 'batch', id: task.id, data, shape, kept, failures, mismatch }, [data.buffer]];
}

// one batch per message, its packed pixels transferred back, not copied; 'drop' frees a dataset's decode cache
parentPort!.on('message', async (message: BatchTask | { kind: 'drop'; dataset: number }) => {
  if (message.kind === 'drop') {
    caches.delete(message.dataset);
    return;
  }
  const [reply, transfer] = await runBatch(message);
  parentPort!.postMessage(reply, transfer);
});
