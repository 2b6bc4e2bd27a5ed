/**
 * The recipes of the shipped source models (data/models/<name>/): which view each is trained on, its architecture,
 * and its optimisation recipe. `pretrainSources` (lib/train/pretrain.ts) trains them; `npm run pretrain` calls it.
 */
import type * as tf from '@tensorflow/tfjs';
import type { ViewName } from '../data/embedded';
import { buildEfficientNet, buildPlainCnn, PLAIN_CNN_FILTERS } from './zoo';

/** One source model to train. */
export interface SourceRecipe {
  name: string;
  view: ViewName;
  architecture: string;
  build: (numClasses: number, seed: number) => tf.LayersModel;
  epochs: number;
  lr: number;
  batchSize: number;
  /** Trained only when asked for with --only (too slow for the default run). */
  optional?: boolean;
}

/** A plain-CNN source (GAP ending, 128 features — where findings.md shows transfer helps) trained with Adam at 1e-3. */
function plainCnnRecipe(name: string, view: ViewName, epochs: number): SourceRecipe {
  return {
    name,
    view,
    architecture: `plain-cnn gap filters [${PLAIN_CNN_FILTERS}] (128 features)`,
    build: (numClasses, seed) => buildPlainCnn({ inputShape: [32, 32, 3], numClasses, seed }),
    epochs,
    lr: 1e-3,
    batchSize: 32,
  };
}

/** The shipped sources: colour digits 0–4 (the default), grey digits 0–4 (another domain), an EfficientNet-style source. */
export const SOURCE_RECIPES: SourceRecipe[] = [
  plainCnnRecipe('digits-m-0-4', 'digits-m-0-4', 12),
  plainCnnRecipe('digits-0-4', 'digits-0-4', 6),
  {
    name: 'effnet-digits-m-0-4',
    view: 'digits-m-0-4',
    architecture: 'efficientnet-mini phi 0 (256 features)',
    build: (numClasses, seed) => buildEfficientNet({ phi: 0, numClasses, seed }),
    epochs: 6,
    lr: 2e-3,
    batchSize: 32,
    optional: true,
  },
];
