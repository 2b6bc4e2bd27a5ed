import * as tf from '@tensorflow/tfjs';
import { modeSwitch } from './kernels/compose';

/**
 * tfjs's `tf.fused.conv2d` (every tfjs-layers convolution calls it) under a gradient tape with a linear activation
 * runs as a custom-gradient op, and that gradient always computes the input gradient — also for a first layer,
 * whose input is the batch of images and whose input gradient nothing reads (≈ 1.3 ms of a ≈ 56 ms training step
 * of the MBConv source model at 32 px: Conv2DBackpropInput of a 3-channel 32 × 32 batch). Without a bias or a
 * PReLU, `tf.conv2d` computes the same: the same forward kernel (the kit's Conv2D and FusedConv2D are one kernel, and
 * the wasm backend's two share their C++ convolution) and, through its registered gradient, the same two gradient
 * kernels on the same dy — but each only when the tape needs it. So on wasm, in a first-order pass (the tape at
 * depth 1), that case calls `tf.conv2d`; everything else is tfjs's own op. The same bits either way
 * (test/backend/layers.test.ts).
 */
type FusedConv2dArgs = Parameters<typeof tf.fused.conv2d>[0];

const patch = modeSwitch<boolean>(true);
let unfusedCalls = 0;

/** How many fused-conv2d calls ran as tf.conv2d so far (tests check the path ran). */
export function unfusedConvCalls(): number {
  return unfusedCalls;
}

/** Turns the patch on or off (tests compare both); returns the previous setting. */
export const setUnfusedConv = patch.set;

/** Whether this call is the case described above. */
function plainConv(args: FusedConv2dArgs): boolean {
  if (!patch.get() || args.bias != null || args.preluActivationWeights != null) return false;
  if (args.activation != null && args.activation !== 'linear') return false;
  if (args.dataFormat != null && args.dataFormat !== 'NHWC') return false;
  if (tf.getBackend() !== 'wasm') return false;
  return (tf.engine() as unknown as { state: { gradientDepth: number } }).state.gradientDepth === 1;
}

let patched = false;

/** Installs the patch on tf.fused.conv2d (the object tfjs-layers reads it from); idempotent. */
export function patchFusedConv2d(): void {
  if (patched) return;
  patched = true;
  const fused = tf.fused as { conv2d: typeof tf.fused.conv2d };
  const original = fused.conv2d;
  fused.conv2d = ((args: FusedConv2dArgs) => {
    if (!plainConv(args)) return original(args);
    unfusedCalls++;
    return tf.conv2d(args.x as tf.Tensor4D, args.filter as tf.Tensor4D, args.strides, args.pad, 'NHWC', args.dilations, args.dimRoundingMode);
  }) as typeof tf.fused.conv2d;
}
