import * as tf from '@tensorflow/tfjs';
import { initBackend, describeBackend, wasmHeapBytes } from '../lib/backend';
function mbconv(x: tf.SymbolicTensor, cin: number, cout: number, stride: number, expand: number): tf.SymbolicTensor {
  const ce = cin * expand;
  let h = tf.layers.conv2d({ filters: ce, kernelSize: 1, padding: 'same', useBias: false }).apply(x) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'swish' }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.depthwiseConv2d({ kernelSize: 3, strides: stride, padding: 'same', useBias: false, depthMultiplier: 1 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'swish' }).apply(h) as tf.SymbolicTensor;
  let s = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  s = tf.layers.dense({ units: Math.max(1, Math.floor(cin / 4)), activation: 'swish' }).apply(s) as tf.SymbolicTensor;
  s = tf.layers.dense({ units: ce, activation: 'sigmoid' }).apply(s) as tf.SymbolicTensor;
  s = tf.layers.reshape({ targetShape: [1, 1, ce] }).apply(s) as tf.SymbolicTensor;
  h = tf.layers.multiply().apply([h, s]) as tf.SymbolicTensor;
  h = tf.layers.conv2d({ filters: cout, kernelSize: 1, padding: 'same', useBias: false }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.batchNormalization().apply(h) as tf.SymbolicTensor;
  if (stride === 1 && cin === cout) { h = tf.layers.dropout({ rate: 0.2 }).apply(h) as tf.SymbolicTensor; h = tf.layers.add().apply([h, x]) as tf.SymbolicTensor; }
  return h;
}
(async () => {
  await initBackend({ backend: (process.env.B as any) ?? 'wasm' });
  console.log(describeBackend());
  const inp = tf.input({ shape: [32, 32, 3] });
  let h = tf.layers.conv2d({ filters: 16, kernelSize: 3, strides: 2, padding: 'same' }).apply(inp) as tf.SymbolicTensor;
  h = tf.layers.activation({ activation: 'swish' }).apply(h) as tf.SymbolicTensor;
  h = mbconv(h, 16, 16, 1, 1); h = mbconv(h, 16, 24, 2, 6); h = mbconv(h, 24, 24, 1, 6);
  h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as tf.SymbolicTensor;
  h = tf.layers.globalAveragePooling2d({}).apply(h) as tf.SymbolicTensor;
  h = tf.layers.dropout({ rate: 0.2 }).apply(h) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 5, activation: 'softmax' }).apply(h) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: out });
  model.compile({ optimizer: tf.train.adam(1e-3), loss: 'sparseCategoricalCrossentropy', metrics: ['accuracy'] });
  const xs = tf.randomNormal([64, 32, 32, 3]); const ys = tf.randomUniform([64], 0, 5, 'int32').cast('float32');
  for (let e = 0; e < 3; e++) {
    const t = Date.now();
    const hist = await model.fit(xs, ys, { epochs: 1, batchSize: 32, verbose: 0 });
    console.log('epoch', e, hist.history.loss[0], Date.now() - t, 'ms', tf.memory().numTensors, wasmHeapBytes());
  }
  model.compile({ optimizer: tf.train.sgd(0.01), loss: 'sparseCategoricalCrossentropy' });
  await model.fit(xs, ys, { epochs: 1, batchSize: 32, verbose: 0 });
  console.log('sgd ok', tf.memory().numTensors); await profileStep(model, xs, ys);
})().catch((e) => { console.error('FAILED', e); process.exit(1); });
export async function profileStep(model: tf.LayersModel, xs: tf.Tensor, ys: tf.Tensor) {
  const info = await tf.profile(async () => { await model.fit(xs, ys, { epochs: 1, batchSize: 32, verbose: 0 }); });
  const agg = new Map<string, number>();
  for (const k of info.kernels) agg.set(k.name, (agg.get(k.name) ?? 0) + (k.kernelTimeMs as number));
  console.log([...agg.entries()].sort((a, b) => b[1] - a[1]).slice(0, 15).map(([n, t]) => `${n} ${t.toFixed(1)}`).join('\n'));
}
