import * as tf from '@tensorflow/tfjs';
import { assertNHWC, pair, runProgram } from './compose';

/**
 * Conv2DBackpropFilter for wasm (the backend ships none, so training any conv net failed there).
 *
 * dW[i, j, ci, co] = Σ_{n,y,x} x[n, y·s + i·d − pt, x·s + j·d − pl, ci] · dy[n, y, x, co]
 * is ONE forward convolution with batch and channels swapped: input x as [ci, H, W, n], filter dy as
 * [oh, ow, n, co], stride d (the forward dilation), dilation s (the forward stride), pads (pt, pl) and
 * whatever bottom/right pad makes the output exactly [ci, fh, fw, co]; then transpose to [fh, fw, ci, co].
 * XNNPACK's forward conv does the heavy lifting (≈ 10× faster than im2col with strided slices).
 *
 * Tried and dropped (second pass): folding the width into the channels (fw column-shifted copies of x as
 * [ci, H, fw, ow·n], dy as [oh, 1, ow·n, co]) so XNNPACK's GEMM sees oh taps of ow·n channels instead of
 * oh·ow taps of n: 1.3× less CPU per isolated call with ci ≥ 16, but no faster inside a training step.
 */
export const conv2DBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } = attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    assertNHWC('Conv2DBackpropFilter', dataFormat);
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      1,
      pad,
      dimRoundingMode,
      false,
    );
    const [sh, sw] = pair(strides);
    const { filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
    if (dy.shape[1] !== oh || dy.shape[2] !== ow) {
      throw new Error(`Conv2DBackpropFilter (wasm): dy [${dy.shape}] does not match the output ${oh}×${ow} of x [${x.shape}]`);
    }
    const { top, left } = info.padInfo;
    return runProgram(backend, (p) => {
      const xt = p.transpose(x, [3, 1, 2, 0]); // [ci, H, W, n]
      const dyt = p.transpose(dy, [1, 2, 0, 3]); // [oh, ow, n, co]
      const out = p.conv('Conv2D', xt, dyt, [1, 1], [sh, sw], {
        top,
        left,
        bottom: (fh - 1) + (oh - 1) * sh + 1 - h - top,
        right: (fw - 1) + (ow - 1) * sw + 1 - w - left,
      }); // [ci, fh, fw, co]
      return p.transpose(out, [1, 2, 0, 3]);
    });
  },
};
