import * as tf from '@tensorflow/tfjs';
import { originalWasmKernel, runProgram } from './compose';

/**
 * Tile for wasm, replacing the backend's element-by-element kernel, which dominated training steps with
 * batch norm (its gradient tiles 1/σ to the activation's full shape: ≈ 300 ms per step of a small MBConv net).
 *
 * tile(x, reps) is a broadcasting Add (XNNPACK) of x viewed as [1, d0, 1, d1, …] and zeros of shape
 * [r0, 1, r1, 1, …]; axes of size 1 are dropped and neighbours of the same kind merged, so the usual case
 * [1, 1, 1, C] × [N, H, W, 1] is a [1, C] + [N·H·W, 1] add. Other dtypes, or views needing more than the
 * 6 dimensions XNNPACK broadcasts, fall back to the backend's own kernel.
 */
export const tileConfig: tf.KernelConfig = {
  kernelName: tf.Tile,
  backendName: 'wasm',
  kernelFunc: (args) => {
    const { inputs, backend, attrs } = args;
    const { x } = inputs as { x: tf.TensorInfo };
    const { reps } = attrs as unknown as tf.TileAttrs;
    const view = broadcastView(x.shape, reps);
    if (x.dtype !== 'float32' || view == null) return originalWasmKernel(tf.Tile).kernelFunc(args);
    const outShape = x.shape.map((d, i) => d * reps[i]);
    return runProgram(backend, (p) => {
      const xv = p.reshape(x, view.x);
      const zeros = p.run('Fill', {}, { shape: view.zeros, value: 0, dtype: 'float32' });
      return p.reshape(p.run('Add', { a: xv, b: zeros }), outShape);
    });
  },
};

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
