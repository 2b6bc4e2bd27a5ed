/**
 * Hooks for the kit's own tests and benchmarks — never part of the notebook API (lib/index.ts). Import by path:
 * `import { resetBackendSelection } from '../../lib/testing'`.
 */
export { resetBackendSelection, setNativeLoader, useBackend } from './backend/select';
export { registerWasmTrainingKernels, restoreWasmKernel } from './backend/kernels';
export { wasmHeapBytes, wasmDataBuffers } from './backend/memory';
export { resetEmbeddedChecks } from './data/embedded';
export { resetMetricWarnings } from './train/metrics';
export { resetPlotlyInline } from './display/plot';
export { setDisplayChannel, getDisplayChannel, type DisplayChannel, type MimeBundle } from './display/channel';
export { requestInterrupt } from './interrupt';
