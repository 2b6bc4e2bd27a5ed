import * as tf from '@tensorflow/tfjs';
import { modeSwitch } from './kernels/compose';

/**
 * A cheaper `Engine.clone` on wasm. tfjs's engine clones every tensor it saves for a gradient: one Identity kernel
 * through the whole kernel machinery plus a tape node of its own (≈ 650 per training step of the MBConv source
 * model). The kit's Identity shares the buffer anyway; and in a first-order pass (the tape at depth 1) the clone's
 * tape node is never on the path from the variables to the loss — saved tensors only feed gradient functions, which
 * run with the tape off — so it is dropped. At greater depths (a gradient of a gradient) and on other backends the
 * engine's own clone runs.
 */
interface EngineLike {
  state: { gradientDepth: number };
  backendName: string;
  backend: { incRef(dataId: object): void };
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: unknown): tf.Tensor;
  kitClone?: boolean;
}

const fastClone = modeSwitch<boolean>(true);

/** Turns the cheaper clone on or off (tests compare both); returns the previous setting. */
export const setFastClone = fastClone.set;

/** Installs the cheaper clone on tfjs's engine; idempotent. */
export function patchEngineClone(): void {
  const engine = tf.engine() as unknown as EngineLike;
  if (engine.kitClone) return;
  engine.kitClone = true;
  const original = engine.clone.bind(engine);
  engine.clone = function (this: EngineLike, x: tf.Tensor): tf.Tensor {
    if (!fastClone.get() || this.state.gradientDepth !== 1 || this.backendName !== 'wasm' || x.dtype === 'string' || x.dtype === 'complex64') return original(x);
    const backend = this.backend;
    backend.incRef(x.dataId);
    return this.makeTensorFromTensorInfo({ dataId: x.dataId, shape: [...x.shape], dtype: x.dtype }, backend);
  };
}
