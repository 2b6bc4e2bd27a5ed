import '@tensorflow/tfjs-backend-wasm'; // registers the wasm backend and its kernels first, so ours replace them
import * as tf from '@tensorflow/tfjs';
import { REPLACED_WASM_KERNELS } from './compose';
import { tileConfig } from './tile';
import { maxPoolGradConfig } from './max_pool_grad';
import { addConfig } from './add';
import { conv2DConfig, fusedConv2DConfig } from './conv2d';
import { depthwiseConv2dNativeConfig } from './depthwise_conv2d';
import { conv2DBackpropFilterConfig } from './conv2d_backprop_filter';
import { conv2DBackpropInputConfig } from './conv2d_backprop_input';
import { depthwiseConv2dNativeBackpropFilterConfig } from './depthwise_conv2d_backprop_filter';
import { depthwiseConv2dNativeBackpropInputConfig } from './depthwise_conv2d_backprop_input';
import { sumConfig } from './sum';
import { meanConfig } from './mean';
import { identityConfig } from './identity';
import { castConfig } from './cast';
import { sliceConfig } from './slice';
import { multiplyConfig } from './multiply';
import { fusedBatchNormConfig } from './batch_norm';
import { registerWasmGradients } from './gradients';
import { kitBatchNormBackwardConfig, kitBatchNormTrainConfig } from './batch_norm_train';
import { kitAdamUpdateConfig, kitSgdUpdateConfig } from './optimizer_updates';
import {
  kitBatchNormGradConfig, kitReluGradConfig, kitSigmoidGradConfig, kitSquareGradConfig, kitSwishGradConfig,
} from './fused_grads';

/** The kit's training kernels for the wasm backend (see docs/backend.md for their formulations). */
export const WASM_TRAINING_KERNELS: readonly tf.KernelConfig[] = [
  conv2DConfig,
  fusedConv2DConfig,
  depthwiseConv2dNativeConfig,
  addConfig,
  conv2DBackpropFilterConfig,
  conv2DBackpropInputConfig,
  depthwiseConv2dNativeBackpropFilterConfig,
  depthwiseConv2dNativeBackpropInputConfig,
  tileConfig,
  maxPoolGradConfig,
  sumConfig,
  meanConfig,
  identityConfig,
  castConfig,
  sliceConfig,
  multiplyConfig,
  fusedBatchNormConfig,
  kitSigmoidGradConfig,
  kitSquareGradConfig,
  kitReluGradConfig,
  kitBatchNormGradConfig,
  kitBatchNormTrainConfig,
  kitBatchNormBackwardConfig,
  kitAdamUpdateConfig,
  kitSgdUpdateConfig,
  kitSwishGradConfig,
];


export { REPLACED_WASM_KERNELS };

/** Registers (or re-registers) the kit's wasm training kernels; safe to call more than once. */
export function registerWasmTrainingKernels(): void {
  registerWasmGradients();
  for (const config of WASM_TRAINING_KERNELS) {
    const existing = tf.getKernel(config.kernelName, 'wasm');
    if (existing != null && existing.kernelFunc === config.kernelFunc) continue;
    let setupFunc = config.setupFunc;
    if (existing != null) {
      if (!REPLACED_WASM_KERNELS.has(config.kernelName)) REPLACED_WASM_KERNELS.set(config.kernelName, existing);
      tf.unregisterKernel(config.kernelName, 'wasm');
      // The backend runs setupFunc of registered kernels when it initialises: keep the replaced kernel's
      // (it binds its wasm function), so it still works as our fallback and after restoreWasmKernel.
      setupFunc = REPLACED_WASM_KERNELS.get(config.kernelName)?.setupFunc ?? setupFunc;
    }
    tf.registerKernel(setupFunc === config.setupFunc ? config : { ...config, setupFunc });
  }
}

/** Puts back the wasm backend's own kernel for `kernelName` (benchmarks and tests only). */
export function restoreWasmKernel(kernelName: string): boolean {
  const original = REPLACED_WASM_KERNELS.get(kernelName);
  if (original == null) return false;
  tf.unregisterKernel(kernelName, 'wasm');
  tf.registerKernel(original);
  REPLACED_WASM_KERNELS.delete(kernelName);
  return true;
}
