import * as tf from '@tensorflow/tfjs';
import { originalWasmKernel, wasmKernel } from './compose';

/**
 * Slice for wasm, reading only the part it copies. The backend's own kernel starts with `readSync(x)`, which on
 * wasm is a copy of ALL of x out of the heap (a fresh ArrayBuffer), so every slice of a large tensor costs as much
 * as copying the whole tensor: `model.predict(x, { batchSize: 32 })` of 256 images of 32 × 32 × 3 spent ≈ 1.5 ms
 * per batch on it, more than the batch's pooling and dense layers together, and a loop over the batches of N images
 * costs O(N²). Here the copy goes from a view of x on the heap: the slice's innermost contiguous run (its trailing
 * dimensions taken whole, plus the first one cut) is copied with one `TypedArray.set` per position of the outer
 * dimensions. The values are the same elements, so results are identical to the backend's. Strings use the
 * backend's own kernel.
 */
export const sliceConfig = wasmKernel<{ x: tf.TensorInfo }, tf.SliceAttrs>(tf.Slice, ({ inputs: { x }, attrs, backend, args }) => {
  if (x.dtype === 'string' || x.dtype === 'complex64') return originalWasmKernel(tf.Slice).kernelFunc(args);
  const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size);
  tf.slice_util.assertParamsValid(x, begin, size);
  const out = backend.makeOutput(size, x.dtype);
  if (tf.util.sizeFromShape(size) === 0) return out;
  // Views after makeOutput (allocating may grow the heap).
  const src = backend.typedArrayFromHeap(x) as tf.TypedArray;
  const dst = backend.typedArrayFromHeap(out) as tf.TypedArray;
  copySlice(src, x.shape, dst, begin, size);
  return out;
});

/**
 * Copies the block [begin, begin + size) of `src` (row-major, `shape`) into `dst` (row-major, `size`): one
 * `set` per contiguous run. Exported for its unit test.
 */
export function copySlice(src: tf.TypedArray, shape: readonly number[], dst: tf.TypedArray, begin: readonly number[], size: readonly number[]): void {
  const rank = shape.length;
  const strides = [...tf.util.computeStrides(shape as number[]), 1];
  // Dimensions [inner, rank) form one contiguous run of `run` elements: all but the first of them are taken whole.
  let inner = rank;
  let run = 1;
  while (inner > 0) {
    inner--;
    run *= size[inner];
    if (size[inner] !== shape[inner]) break;
  }
  let base = 0;
  for (let d = inner; d < rank; d++) base += begin[d] * strides[d];
  const idx = new Array<number>(inner).fill(0);
  for (let o = 0; ; o += run) {
    let from = base;
    for (let d = 0; d < inner; d++) from += (begin[d] + idx[d]) * strides[d];
    dst.set(src.subarray(from, from + run), o);
    // Next position of the outer dimensions (odometer, last dimension fastest).
    let d = inner - 1;
    while (d >= 0 && ++idx[d] === size[d]) idx[d--] = 0;
    if (d < 0) return;
  }
}
