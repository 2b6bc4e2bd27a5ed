// Public API of lib/models: zoo, storage, source models, transfer strategies, published backbones.
export * from './zoo';
export * from './storage';
export * from './source';
export * from './transfer';
export * from './batchnorm';
export * from './published';
export { resolvePublishedSource, type PublishedSource } from './published-source';
