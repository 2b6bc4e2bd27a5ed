import * as tf from '@tensorflow/tfjs';
import { pair, runProgram } from './compose';

/**
 * DepthwiseConv2dNativeBackpropFilter for wasm (missing from the backend).
 *
 * dW[i, j, c, m] = Σ_{n,y,x} x[n, y·s + i·d − pt, x·s + j·d − pl, c] · dy[n, y, x, c·M + m]
 * is ONE depthwise convolution over C·N channels with batch and channels swapped: input x as
 * [1, H, W, C·N], filter dy as [oh, ow, C·N, M], stride d, dilation s; the output [1, fh, fw, C·N·M] is
 * summed over n.
 */
export const depthwiseConv2dNativeBackpropFilterConfig: tf.KernelConfig = {
  kernelName: tf.DepthwiseConv2dNativeBackpropFilter,
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, dy } = inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const { strides, dilations, pad, dimRoundingMode, filterShape } =
      attrs as unknown as tf.DepthwiseConv2dNativeBackpropFilterAttrs;
    const info = tf.backend_util.computeConv2DInfo(
      x.shape as [number, number, number, number],
      filterShape,
      strides,
      dilations,
      pad,
      dimRoundingMode,
      true,
    );
    const [sh, sw] = pair(strides);
    const [dh, dw] = pair(dilations);
    const { filterHeight: fh, filterWidth: fw, outHeight: oh, outWidth: ow, inHeight: h, inWidth: w } = info;
    const [n, , , c] = x.shape;
    const m = filterShape[3];
    if (dy.shape[1] !== oh || dy.shape[2] !== ow || dy.shape[3] !== c * m) {
      throw new Error(
        `DepthwiseConv2dNativeBackpropFilter (wasm): dy [${dy.shape}] does not match [${n}, ${oh}, ${ow}, ${c * m}] for x [${x.shape}]`,
      );
    }
    const { top, left } = info.padInfo;
    return runProgram(backend, (p) => {
      const xt = p.reshape(p.transpose(x, [1, 2, 3, 0]), [1, h, w, c * n]);
      const dy5 = p.reshape(dy, [n, oh, ow, c, m]);
      const dyt = p.reshape(p.transpose(dy5, [1, 2, 3, 0, 4]), [oh, ow, c * n, m]);
      const out = p.conv('DepthwiseConv2dNative', xt, dyt, [dh, dw], [sh, sw], {
        top,
        left,
        bottom: (fh - 1) * dh + (oh - 1) * sh + 1 - h - top,
        right: (fw - 1) * dw + (ow - 1) * sw + 1 - w - left,
      }); // [1, fh, fw, c·n·m]
      if (n === 1) return p.reshape(out, [fh, fw, c, m]);
      return p.sum(p.reshape(out, [fh, fw, c, n, m]), [3]);
    });
  },
};
