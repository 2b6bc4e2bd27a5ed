import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../../lib/backend';
import { loadView } from '../../lib/data';
import { DEFAULT_SOURCE, listSourceModels, loadSourceModel, FEATURE_LAYER } from '../../lib/models';

test('the shipped source models load, agree with their meta.json and classify their own val images', async () => {
  await initBackend();
  const names = listSourceModels();
  assert.ok(names.includes(DEFAULT_SOURCE) && names.includes('digits-0-4'), `shipped: ${names.join(', ')}`);
  for (const name of names) {
    const src = await loadSourceModel(name);
    assert.equal(src.meta.name, name);
    assert.ok(src.model.getLayer(FEATURE_LAYER));
    assert.deepEqual(src.model.outputs[0].shape, [null, src.meta.classes.length]);
    const val = await loadView(src.meta.dataset as 'digits-m-0-4', { split: 'val', mPerClass: 20, seed: 3 });
    const acc = tf.tidy(() => {
      const x = tf.tensor4d(val.images, [val.labels.length, val.height, val.width, val.channels]);
      const pred = (src.model.predict(x) as tf.Tensor).argMax(-1).dataSync();
      return Array.from(pred).filter((p, i) => p === val.labels[i]).length / val.labels.length;
    });
    // meta.json's val accuracy was measured on all 1,000 val images; 100 of them land near it.
    assert.ok(acc > src.meta.valAccuracy - 0.1, `${name}: ${acc} on 100 val images, meta says ${src.meta.valAccuracy}`);
    src.model.dispose();
  }
});
