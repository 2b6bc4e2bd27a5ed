/**
 * The transfer-learning kit's public API: what a notebook (`import * as kit from '..'`, the compiled `dist/lib`) or
 * a user's script needs, grouped by room, one name per job. Everything else is internal to its room (tests import
 * modules by path; their hooks are in lib/testing.ts). `test/api.test.ts` pins this list.
 */

// TensorFlow.js itself, the very module `import * as tf from '@tensorflow/tfjs'` loads: notebooks import it from here
// (`import { tf } from '..'`) because its declarations then come as one file and each cell compiles ≈ 1.6× faster
// (scripts/build-types.mjs, docs/notebooks.md).
export * as tf from '@tensorflow/tfjs';

// Configuration, seeds and where things live (lib/config.ts, lib/random.ts).
export { DEFAULT_CONFIG, quickOr, isQuick, repoRoot, cacheDir, type TrainConfig } from './config';
export { Rng } from './random';

// Numbers over seeds and the claims table every notebook ends with (lib/stats.ts, lib/display/claims.ts).
export { mean, std, formatMeanStd, claimGreater, claimWithin, claimObserved, MIN_SEEDS, type Claim, type Verdict } from './stats';
export { showClaims } from './display/claims';

// Stop (an interrupt) and what a stopped loop left behind (lib/interrupt.ts).
export { InterruptedError, lastInterrupt } from './interrupt';

// Where the arithmetic runs: native TensorFlow → wasm with the kit's kernels → cpu (lib/backend/).
export { initBackend, describeBackend, availableBackends, type BackendInfo, type BackendName } from './backend/select';

// Data: the embedded digits, image folders → DataFrame, labels and splits, transforms, Dataset / DataLoader (lib/data/).
export { ensureEmbedded, loadView, listViews, type ViewName } from './data/embedded';
export { scanImageFolder, fitLabelEncoder, trainValSplit, type LabelEncoder } from './data/folder';
export { seededSlices } from './data/subset';
export { decodeImage } from './data/image';
export { compose, resize, normalize, toTensor, horizontalFlip, verticalFlip, rotate, randomResizedCrop } from './data/transforms';
export { colorJitter, gaussNoise, blur, IMAGENET_MEAN, IMAGENET_STD, type Transform } from './data/transforms';
export { ImageDataset, ArrayDataset } from './data/dataset';
export { WeightedRandomSampler, classBalancedWeights } from './data/sampler';
export { DataLoader } from './data/loader';
export { showAugmentations } from './data/preview';
export { fetchDataset } from './data/fetch';
export type { Batch, ImageArrays, Sample, Dataset } from './data/types';

// Models: the zoo, shipped source models, transfer strategies, storage, published backbones (lib/models/).
export { buildPlainCnn, buildEfficientNet, compoundScaling, roundFilters, COMPOUND_SCALING, EFFNET_MINI_STEM, countParams, countFlops, scalingTable } from './models/zoo';
export { buildTransferModel, extractFeatures, type Strategy, type TransferModel, type TransferOptions } from './models/transfer';
export { loadSourceModel, listSourceModels, type SourceModel } from './models/source';
export { saveModel, loadModel, saveWeights, loadWeightsInto } from './models/storage';
export { buildAutoencoder, trainDenoisingAutoencoder, buildClassifier, trainFullBatch, type Autoencoder, type ClassifierOptions } from './models/autoencoder';
export { saveConfigAndWeights, loadFromConfig, describeModelFolder, loadInFreshProcess, type ModelParams, type FreshLoad } from './models/formats';
export { loadPublishedBackbone, PUBLISHED_BACKBONES } from './models/published';
export { resolvePublishedSource, type PublishedSource } from './models/published-source';

// Training, evaluation, metrics and the fair comparisons (lib/train/).
export { train, type TrainOptions, type History, type EpochLogs } from './train/loop';
export { evaluate, predict } from './train/evaluate';
export { accuracy, f1Score, precisionRecallF1Support, classificationReport, confusionMatrix } from './train/metrics';
export { compareStrategies, cutSweep, claimBetter, claimSentence, showLrSearch, type CompareResult, type CompareOptions, type SummaryRow, type LrSearchSummary } from './train/experiments';
export { PROTOCOL, type ResultRow } from './train/protocol';
export { loadTarget, drawSplit } from './data/target';
export { loadDigitsMLarge } from './data/digits-m-large';
export { measureDomainShift } from './train/domain';
export { runLecturePractical, fineTuneTopBlocks, type PracticalResult } from './train/practical';
export type { TransferModelLike } from './train/model';

// The risk bound's linear-representation simulation (lib/theory/).
export {
  DEFAULT_RISK_CONFIG,
  makeProblem,
  headSpectrum,
  simulateRisk,
  riskSweep,
  summarizeSweep,
  summaryAt,
  repetitionSlopes,
  predictedSlope,
  claimSlope,
  fitLogLogSlope,
  lectureBound,
  tjjBound,
  duBound,
  riskFigure,
  METHOD_STYLE,
  type RiskConfig,
  type RiskMethod,
  type SweepRow,
  type SweepSummary,
} from './theory';

// Showing things: tables, interactive plots, image grids, progress bars (lib/display/).
export { showTable } from './display/table';
export { showPlot } from './display/plot';
export { showImageGrid } from './display/images';
export { plotConfusionMatrix } from './display/figures/confusion';
export { progressBar } from './display/progress';

// Exercise checks: answers against stored references, implementations against the library (lib/exercises.ts).
export { assertAnswer, assertImplementation, checkAnswer } from './exercises';
