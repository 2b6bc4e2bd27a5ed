/**
 * A stand-in for the published Keras MobileNet V1 (tfjs-models bucket): the same layer names and structure
 * (conv1 → 13 × [conv_dw_N, conv_dw_N_bn, conv_dw_N_relu, conv_pw_N, conv_pw_N_bn, conv_pw_N_relu] → pooling →
 * conv_preds → softmax), tiny widths and a small input, seeded. The real spec's cut (`conv_pw_13_relu`) and block
 * pattern apply to it unchanged, so tests and the notebook test can stand it in for the real download.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { saveModel } from '../../lib/models/storage';
import { sha256File } from '../../lib/data/download';

const STRIDE2 = new Set([2, 4, 6, 12]);

/** Builds the stand-in (input `size` px, `width` channels per layer, `classes` outputs). */
export function buildTinyMobileNetV1(size = 32, width = 4, classes = 10, seed = 1): tf.LayersModel {
  let s = seed;
  const init = () => tf.initializers.glorotUniform({ seed: s++ });
  const input = tf.input({ shape: [size, size, 3], name: 'input_1' });
  const bnRelu = (x: tf.SymbolicTensor, name: string) =>
    tf.layers.reLU({ maxValue: 6, name: `${name}_relu` }).apply(tf.layers.batchNormalization({ name: `${name}_bn`, momentum: 0.9 }).apply(x)) as tf.SymbolicTensor;
  let x = tf.layers.conv2d({ filters: width, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(), name: 'conv1' }).apply(input) as tf.SymbolicTensor;
  x = bnRelu(x, 'conv1');
  for (let n = 1; n <= 13; n++) {
    x = tf.layers
      .depthwiseConv2d({ kernelSize: 3, strides: STRIDE2.has(n) ? 2 : 1, padding: 'same', useBias: false, depthwiseInitializer: init(), name: `conv_dw_${n}` })
      .apply(x) as tf.SymbolicTensor;
    x = bnRelu(x, `conv_dw_${n}`);
    x = tf.layers.conv2d({ filters: width, kernelSize: 1, useBias: false, kernelInitializer: init(), name: `conv_pw_${n}` }).apply(x) as tf.SymbolicTensor;
    x = bnRelu(x, `conv_pw_${n}`);
  }
  x = tf.layers.globalAveragePooling2d({ name: 'global_average_pooling2d_1' }).apply(x) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: classes, activation: 'softmax', kernelInitializer: init(), name: 'conv_preds' }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: out, name: 'mobilenet_1.00_224' });
}

/** Writes the stand-in as the cache / classroom-folder copy of `mobilenet_v1` (`<root>/backbones/mobilenet_v1/tfjs-models/`). */
export async function writeTinyMobileNetFolder(root: string, size = 32): Promise<string> {
  const dir = path.join(root, 'backbones', 'mobilenet_v1', 'tfjs-models');
  const m = buildTinyMobileNetV1(size);
  await saveModel(m, dir);
  m.dispose();
  const pins: Record<string, string> = {};
  for (const f of ['model.json', './weights.bin']) pins[f] = await sha256File(path.join(dir, f));
  fs.writeFileSync(path.join(dir, 'sha256.json'), JSON.stringify(pins, null, 1) + '\n');
  return dir;
}
