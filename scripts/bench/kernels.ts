import * as tf from '@tensorflow/tfjs';
import { registerWasmTrainingKernels, restoreWasmKernel, useBackend } from '../../lib/testing';

/** One comparison of a kit kernel with the wasm backend's own kernel it replaced. */
export interface KernelComparison {
  kernel: string;
  shapes: string;
  kitMs: number;
  wasmMs: number;
}

/** Milliseconds of CPU time per call (process CPU time: less disturbed by other processes than wall time). */
export function cpuMs(f: () => tf.Tensor, repeats = 10): number {
  for (let i = 0; i < 2; i++) f().dispose();
  const start = process.cpuUsage();
  for (let i = 0; i < repeats; i++) {
    const r = f();
    r.dataSync();
    r.dispose();
  }
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000 / repeats;
}

/**
 * `npm run bench -- --kernels`: the kit's replacements of wasm kernels against the originals, on the
 * shapes of the reference CNN (batch 32, 32 px) and a batch-norm gradient's Tile.
 */
export async function compareKernels(): Promise<KernelComparison[]> {
  await useBackend('wasm');
  const made: tf.Tensor[] = [];
  const keep = <T extends tf.Tensor>(t: T): T => {
    made.push(t);
    return t;
  };
  const cases = (() => {
    const dy = keep(tf.randomNormal([32, 32, 32, 32], 0, 1, 'float32', 1));
    const w = keep(tf.randomNormal([3, 3, 16, 32], 0, 1, 'float32', 2));
    const dy2 = keep(tf.randomNormal([32, 8, 8, 64], 0, 1, 'float32', 3));
    const w2 = keep(tf.randomNormal([3, 3, 32, 64], 0, 1, 'float32', 4));
    const x = keep(tf.tidy(() => tf.relu(tf.randomNormal([32, 32, 32, 16], 0, 1, 'float32', 5))));
    const y = keep(tf.maxPool(x as tf.Tensor4D, 2, 2, 'valid'));
    const dyp = keep(tf.randomNormal(y.shape, 0, 1, 'float32', 6));
    const s = keep(tf.randomNormal([1, 1, 1, 96], 0, 1, 'float32', 7));
    const run = (name: string, inputs: tf.NamedTensorMap, attrs: object) => () =>
      tf.engine().runKernel(name, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
    return [
      { kernel: 'Conv2DBackpropInput', shapes: 'dy [32,32,32,32], W [3,3,16,32], s1', run: run('Conv2DBackpropInput', { dy, filter: w }, { strides: 1, pad: 'same', dataFormat: 'NHWC', inputShape: [32, 32, 32, 16] }) },
      { kernel: 'Conv2DBackpropInput', shapes: 'dy [32,8,8,64], W [3,3,32,64], s2', run: run('Conv2DBackpropInput', { dy: dy2, filter: w2 }, { strides: 2, pad: 'same', dataFormat: 'NHWC', inputShape: [32, 16, 16, 32] }) },
      { kernel: 'MaxPoolGrad', shapes: 'x [32,32,32,16], 2×2/2', run: run('MaxPoolGrad', { dy: dyp, input: x, output: y }, { filterSize: 2, strides: 2, pad: 'valid' }) },
      { kernel: 'Tile', shapes: '[1,1,1,96] × [32,16,16,1]', run: run('Tile', { x: s }, { reps: [32, 16, 16, 1] }) },
      { kernel: 'Sum', shapes: '[32,32,32,16] over [0,1,2]', run: run('Sum', { x }, { axis: [0, 1, 2], keepDims: false }) },
      { kernel: 'Mean', shapes: '[32,32,32,16] over [1,2]', run: run('Mean', { x }, { axis: [1, 2], keepDims: false }) },
    ];
  })();
  const kit = cases.map((c) => cpuMs(c.run));
  for (const name of new Set(cases.map((c) => c.kernel))) restoreWasmKernel(name);
  const wasm = cases.map((c) => cpuMs(c.run));
  registerWasmTrainingKernels();
  tf.dispose(made);
  return cases.map((c, i) => ({ kernel: c.kernel, shapes: c.shapes, kitMs: kit[i], wasmMs: wasm[i] }));
}
