// Public API of lib/backend: backend selection and the kit's wasm training kernels.
import { registerWasmTrainingKernels } from './kernels';
import { patchLayersForWasm } from './layers';
import { patchEngineClone } from './engine';
import { patchFusedConv2d } from './ops';
import { patchOptimizersForWasm } from './optimizers';

// The training kernels are registered as soon as the library loads, so plain `tf.setBackend('wasm')` trains too.
registerWasmTrainingKernels();
// …and tfjs-layers' batch norm and swish train fused on wasm (lib/backend/layers.ts; the same bits).
patchLayersForWasm();
// …and the engine's clones of saved tensors are cheap there (lib/backend/engine.ts).
patchEngineClone();
// …and a convolution without bias skips the input gradient nothing reads (lib/backend/ops.ts; the same bits).
patchFusedConv2d();
// …and tfjs's Adam and SGD update each variable with one kernel there (lib/backend/optimizers.ts; the same bits).
patchOptimizersForWasm();

export * from './select';
export { defaultWasmThreads } from './cores';
export { WASM_TRAINING_KERNELS, registerWasmTrainingKernels, restoreWasmKernel } from './kernels';
export { wasmDataBuffers, wasmHeapBytes } from './memory';
