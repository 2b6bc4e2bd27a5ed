/**
 * How far apart two embedded domains are, measured the plain way: the reference CNN
 * (conv16-pool-conv32-pool-conv64-GAP-dense) trained on one domain and scored on the validation images of both.
 * A model of grey digits at chance on digits-m means a large shift (docs/data.md); scripts/bench/data_distance.py
 * measures the same with PyTorch as a cross-check.
 */
import type { ViewName } from '../data/embedded';
import { loadView } from '../data/embedded';
import { buildPlainCnn } from '../models/zoo';
import { evaluate } from './evaluate';
import { train } from './loop';

/** One trained model's accuracy on both domains. */
export interface DomainShiftRow {
  trainedOn: ViewName;
  seed: number;
  epochs: number;
  trainImages: number;
  /** Validation accuracy on each domain (all its val images). */
  accuracy: Partial<Record<ViewName, number>>;
}

/** Options of `measureDomainShift`. */
export interface DomainShiftOptions {
  /** The two domains (default digits and digits-m, all ten classes). */
  domains?: [ViewName, ViewName];
  /** Training images per class (default 400). */
  mPerClass?: number;
  /** Validation images per class scored (default all 200). */
  valPerClass?: number;
  epochs?: number;
  seeds?: number[];
  lr?: number;
  batchSize?: number;
}

/** Trains the reference CNN on each domain with each seed and scores it on both domains' validation images. */
export async function measureDomainShift(opts: DomainShiftOptions = {}): Promise<DomainShiftRow[]> {
  const { domains = ['digits', 'digits-m'], mPerClass = 400, epochs = 8, seeds = [1, 2], lr = 2e-3, batchSize = 64 } = opts;
  const vals = await Promise.all(domains.map((d) => loadView(d, { split: 'val', seed: 0, ...(opts.valPerClass ? { mPerClass: opts.valPerClass } : {}) })));
  const rows: DomainShiftRow[] = [];
  for (const trainedOn of domains) {
    const data = await loadView(trainedOn, { split: 'train', mPerClass, seed: 0 });
    for (const seed of seeds) {
      const net = buildPlainCnn({ inputShape: [data.height, data.width, data.channels], numClasses: data.classes.length, filters: [16, 32, 64], seed });
      try {
        await train(net, data, { epochs, lr, batchSize, seed, progress: false });
        const accuracy: DomainShiftRow['accuracy'] = {};
        for (let k = 0; k < domains.length; k++) accuracy[domains[k]] = (await evaluate(net, vals[k], { batchSize: 256 })).accuracy;
        rows.push({ trainedOn, seed, epochs, trainImages: data.labels.length, accuracy });
      } finally {
        net.dispose();
      }
    }
  }
  return rows;
}
