export * from './types';
export * from './image';
export * from './embedded';
export * from './folder';
export * from './transforms';
export * from './dataset';
export * from './preview';
export * from './fetch';
export { closeWorkers } from './workers';
