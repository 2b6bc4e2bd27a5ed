import * as tf from '@tensorflow/tfjs';

/** Largest absolute difference over largest absolute reference value (0 when both are zero). */
export function relError(ref: tf.Tensor, got: tf.Tensor): number {
  if (ref.shape.join() !== got.shape.join()) throw new Error(`shape [${got.shape}] differs from reference [${ref.shape}]`);
  const a = ref.dataSync();
  const b = got.dataSync();
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(a[i]));
  }
  return den === 0 ? num : num / den;
}

/** Runs a kernel on the cpu backend (the reference), then on wasm, and returns both results (cpu, wasm). */
export function onBoth(kernel: string, inputs: Record<string, tf.Tensor>, attrs: Record<string, unknown>): [tf.Tensor, tf.Tensor] {
  tf.setBackend('cpu');
  const ref = tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  ref.dataSync();
  tf.setBackend('wasm');
  const got = tf.engine().runKernel(kernel, inputs, attrs as tf.NamedAttrMap) as tf.Tensor;
  return [ref, got];
}

/** Runs `f` on cpu then on wasm (same inputs), returning both results' tensors. */
export function bothBackends<T extends tf.Tensor | tf.Tensor[]>(f: () => T): [T, T] {
  tf.setBackend('cpu');
  const ref = f();
  tf.setBackend('wasm');
  const got = f();
  return [ref, got];
}
