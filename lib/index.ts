/**
 * The transfer-learning kit's public API. Notebooks import the compiled copy (`dist/lib`), e.g.
 * `import * as kit from '..'` from `notebooks/` (package.json's `main`).
 */
export * from './config';
export * from './random';
export * from './stats';
export * from './backend';
export * from './data';
export * from './models';
export * from './train';
export * from './theory';
export * from './display';
