import * as tf from '@tensorflow/tfjs';
import { heapOffset, simdKernelsFor } from '../simd';
import { depthwiseGeometry, runProgram, wasmKernel, type Shape4 } from './compose';
import { depthwiseMode, depthwiseSizeFits } from './depthwise_conv2d';

/**
 * DepthwiseConv2dNativeBackpropInput for wasm (missing from the backend).
 *
 * dx[n, h, w, c] = Σ_{i,j,m} dy[n, y, x, c·M + m] · W[i, j, c, m] with h = y·s + i·d − pt is a depthwise
 * convolution of dy (dilated with s − 1 zeros when s > 1) over C·M channels by the spatially flipped filter
 * [fh, fw, C·M, 1], dilation d, stride 1; with M > 1 the output is summed over m. With M = 1, c % 4 = 0, float32
 * and a filter size whose tap order the kit matches (depthwiseSizeFits), the kit's SIMD kernel computes that sum
 * directly (`depthwiseInputGradRows`: no dilated copy, no flipped filter, the zero terms skipped), adding the same
 * products in the same order: bit for bit the same, on the kit's threads.
 */
type Inputs = { dy: tf.TensorInfo; filter: tf.TensorInfo };

export const depthwiseConv2dNativeBackpropInputConfig = wasmKernel<Inputs, tf.DepthwiseConv2dNativeBackpropInputAttrs>(
  tf.DepthwiseConv2dNativeBackpropInput,
  ({ inputs: { dy, filter }, attrs, backend }) => {
    const g = depthwiseGeometry('DepthwiseConv2dNativeBackpropInput', attrs.inputShape, filter.shape as Shape4, dy.shape, attrs);
    const { info, sh, sw, dh, dw, fh, fw, oh, ow, h, w, n, c, m } = g;
    const float = dy.dtype === 'float32' && filter.dtype === 'float32';
    const simd = float && m === 1 && c % 4 === 0 && depthwiseSizeFits(fh, fw) ? simdKernelsFor(backend, depthwiseMode()) : null;
    if (simd) {
      const out = backend.makeOutput([n, h, w, c], 'float32');
      simd.split('depthwiseInputGradRows', n * h, w * c * fh * fw, [
        heapOffset(backend, dy), heapOffset(backend, filter), heapOffset(backend, out), h, w, c, oh, ow, fh, fw, sh, sw, dh, dw, info.padInfo.top, info.padInfo.left,
      ]);
      return out;
    }
    return runProgram(backend, (p) => {
      const flipped = p.reshape(p.run('Reverse', { x: filter }, { dims: [0, 1] }), [fh, fw, c * m, 1]);
      const dyd = p.dilate(dy, [sh, sw]);
      const top = (fh - 1) * dh - info.padInfo.top;
      const left = (fw - 1) * dw - info.padInfo.left;
      const out = p.conv('DepthwiseConv2dNative', dyd, flipped, [1, 1], [dh, dw], {
        top,
        left,
        bottom: h + (fh - 1) * dh - top - oh * sh,
        right: w + (fw - 1) * dw - left - ow * sw,
      }); // [n, H, W, c·m]
      if (m === 1) return out;
      return p.sum(p.reshape(out, [n, h, w, c, m]), [4]);
    });
  },
);
