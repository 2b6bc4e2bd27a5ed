/** See declarations.mjs. */
export function ambientModule(bundle: string, moduleName: string, selfName: string): string;
export function exportAllTypes(bundle: string): string;
