/**
 * Worker-thread entry of the ImageDataset offload (see workers.ts): decodes a file, rebuilds the transform
 * from its spec, applies it with the sample's seeded rng and transfers the float32 pixels back.
 */
import { parentPort } from 'worker_threads';
import { Rng } from '../random';
import { decodeImage, floatPixels, RawImage } from './image';
import { fromSpec, Transform, TransformSpec } from './transforms';
import type { WorkerReply, WorkerTask } from './workers';

const transforms = new Map<string, Transform>();

/** The transform of a spec, built once per distinct spec. */
function transformOf(spec: TransformSpec): Transform {
  const key = JSON.stringify(spec);
  let t = transforms.get(key);
  if (!t) transforms.set(key, (t = fromSpec(spec)));
  return t;
}

/** One sample: the reply and the buffers to transfer with it. */
async function run(task: WorkerTask): Promise<[WorkerReply, ArrayBuffer[]]> {
  let img: RawImage;
  let decoded: RawImage | undefined;
  try {
    // the dataset's cache (on the main thread) sent the pixels, or the file is read here
    img = task.pixels ?? (await decodeImage(task.file, { channels: task.channels }));
    if (!task.pixels && task.wantDecoded) decoded = { ...img, data: img.data.slice() };
  } catch (err) {
    return [{ id: task.id, stage: 'decode', message: (err as Error).message }, []];
  }
  try {
    if (task.spec) img = await transformOf(task.spec)(img, new Rng(task.seed));
    let data = floatPixels(img.data);
    // only a whole, unshared buffer can be transferred
    if (data.byteOffset !== 0 || data.byteLength !== data.buffer.byteLength) data = data.slice();
    const transfer = [data.buffer, ...(decoded ? [decoded.data.buffer] : [])];
    return [{ id: task.id, data, height: img.height, width: img.width, channels: img.channels, decoded }, transfer];
  } catch (err) {
    return [{ id: task.id, stage: 'transform', message: (err as Error).message }, []];
  }
}

// the tasks of one message (one batch) run together and answer together, their pixels transferred, not copied
parentPort!.on('message', async (tasks: WorkerTask[]) => {
  const done = await Promise.all(tasks.map(run));
  parentPort!.postMessage(
    done.map((d) => d[0]),
    done.flatMap((d) => d[1]),
  );
});
