// Public API of lib/train: the training loop, evaluation, metrics, and strategy comparisons.
export * from './metrics';
export * from './schedule';
export { type TrainData, isImageArrays, takeRows, arrayBatches } from './batches';
export * from './model';
export * from './step';
export * from './callbacks';
export * from './evaluate';
export * from './loop';
export * from './protocol';
export { runCell, sourceTaskAccuracy } from './lr-search';
export * from './experiments';
export { runLecturePractical, fineTuneTopBlocks, type PracticalOptions, type PracticalResult } from './practical';
export { FeatureCache, headOnFeatures } from './feature-cache';
