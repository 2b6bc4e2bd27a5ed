import * as tf from '@tensorflow/tfjs';

interface WasmLike {
  wasm?: { HEAPU8?: Uint8Array };
  numDataIds?: () => number;
}

/** Bytes of the wasm backend's heap (its WebAssembly memory; it only grows), or 0 if wasm is not initialised. */
export function wasmHeapBytes(): number {
  const backend = tf.findBackend('wasm') as unknown as WasmLike | null;
  return backend?.wasm?.HEAPU8?.buffer.byteLength ?? 0;
}

/**
 * Buffers alive on the wasm backend, including any a kernel allocated without the engine knowing — the
 * leak that `tf.memory()` cannot see. 0 if wasm is not initialised.
 */
export function wasmDataBuffers(): number {
  const backend = tf.findBackend('wasm') as unknown as WasmLike | null;
  return backend?.numDataIds?.() ?? 0;
}
