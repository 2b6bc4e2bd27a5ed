import * as tf from '@tensorflow/tfjs';
import { heapOffset } from '../simd';
import { originalWasmKernel, wasmKernel } from './compose';

/**
 * Tile for wasm, replacing the backend's element-by-element kernel, which dominated training steps with
 * batch norm (its gradient tiles 1/σ to the activation's full shape: ≈ 300 ms per step of a small MBConv net).
 *
 * tile(x, reps) viewed with axes of size 1 dropped and neighbours of the same kind merged (see `broadcastView`) is
 * an interleaving of repeats and data, e.g. [1, 1, 1, C] × [N, H, W, 1] is N·H·W repeats of C values: the output is
 * written with memory moves on the wasm heap (the first block, then doubling copies), bit for bit the input's values
 * (−0 and NaN included). float32 and int32; other dtypes, or views needing more than 6 axes, use the backend's own.
 */
export const tileConfig = wasmKernel<{ x: tf.TensorInfo }, tf.TileAttrs>(tf.Tile, ({ inputs: { x }, attrs: { reps }, backend, args }) => {
  const view = broadcastView(x.shape, reps);
  if ((x.dtype !== 'float32' && x.dtype !== 'int32') || view == null) return originalWasmKernel(tf.Tile).kernelFunc(args);
  const out = backend.makeOutput(x.shape.map((d, i) => d * reps[i]), x.dtype);
  if (tf.util.sizeFromShape(out.shape) === 0) return out;
  // One view of the heap after makeOutput (allocating may grow and move it).
  const heap = new Int32Array((backend.typedArrayFromHeap(out) as Float32Array).buffer);
  const levels = view.x.map((d, i) => (view.zeros[i] > 1 ? { repeat: view.zeros[i] } : { data: d }));
  tileInto(heap, heapOffset(backend, x) >> 2, heapOffset(backend, out) >> 2, levels);
  return out;
});

type Level = { repeat: number } | { data: number };

/** Elements of one block below `levels` in the source (data axes only) and in the output (all axes). */
function blockSizes(levels: Level[]): { src: number; dst: number } {
  let src = 1;
  let dst = 1;
  for (const l of levels) {
    if ('repeat' in l) dst *= l.repeat;
    else {
      src *= l.data;
      dst *= l.data;
    }
  }
  return { src, dst };
}

/** Writes the tiling `levels` of the source at heap[src…] into heap[dst…] (element offsets). */
function tileInto(heap: Int32Array, src: number, dst: number, levels: Level[]): void {
  if (levels.every((l) => 'data' in l)) {
    const { src: n } = blockSizes(levels);
    heap.copyWithin(dst, src, src + n);
    return;
  }
  const [first, ...rest] = levels;
  const below = blockSizes(rest);
  if ('repeat' in first) {
    tileInto(heap, src, dst, rest);
    // Doubling copies of the first block: log2(repeat) moves.
    for (let done = 1; done < first.repeat; done *= 2) {
      const n = Math.min(done, first.repeat - done);
      heap.copyWithin(dst + done * below.dst, dst, dst + n * below.dst);
    }
    return;
  }
  for (let k = 0; k < first.data; k++) tileInto(heap, src + k * below.src, dst + k * below.dst, rest);
}

/** Shapes [x view, zeros] whose broadcast sum is tile(x, reps), or null when that needs more than 6 axes. */
export function broadcastView(shape: number[], reps: number[]): { x: number[]; zeros: number[] } | null {
  const xs: number[] = [];
  const zs: number[] = [];
  let last: 'x' | 'z' | null = null;
  const push = (kind: 'x' | 'z', size: number) => {
    if (size === 1) return;
    if (kind === last) {
      if (kind === 'x') xs[xs.length - 1] *= size;
      else zs[zs.length - 1] *= size;
      return;
    }
    xs.push(kind === 'x' ? size : 1);
    zs.push(kind === 'z' ? size : 1);
    last = kind;
  };
  shape.forEach((d, i) => {
    push('z', reps[i]); // repeats are the outer index of each output axis
    push('x', d);
  });
  if (xs.length === 0) return { x: [1], zeros: [1] };
  return xs.length <= 6 ? { x: xs, zeros: zs } : null;
}
