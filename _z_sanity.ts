import * as tf from '@tensorflow/tfjs';
import { initBackend } from './lib/backend';
import { loadView } from './lib/data';
import { loadSourceModel, buildTransferModel, Strategy } from './lib/models';
import { train, evaluate } from './lib/train';
(async () => {
  await initBackend();
  const src = await loadSourceModel('digits-m-0-4', process.argv[2] ?? '/tmp/ptfull');
  const m = Number(process.argv[3] ?? 10);
  const tr = await loadView('digits-m-5-9', { split: 'train', mPerClass: m, seed: 1 });
  const va = await loadView('digits-m-5-9', { split: 'val' });
  for (const strategy of ['scratch', 'freeze', 'finetune', 'hybrid', 'additional-layers'] as Strategy[]) {
    const tm = buildTransferModel(src, { strategy, numClasses: 5, seed: 1 });
    const t0 = Date.now();
    await train(tm, tr, { epochs: 1, steps: 150, lr: 1e-3, seed: 1, progress: false });
    const ev = await evaluate(tm.model, va);
    console.log(strategy, 'm', m, 'val acc', ev.accuracy.toFixed(3), (Date.now() - t0) / 1000, 's', tf.memory().numTensors);
    tm.dispose();
  }
})();
