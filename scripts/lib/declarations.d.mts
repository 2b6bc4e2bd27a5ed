/** See declarations.mjs. */
export function ambientModule(bundle: string, moduleName: string, selfName: string): string;
export function exportAllTypes(bundle: string): string;
export function compileAsCell(dir: string, source: string, extra?: Record<string, unknown>): { problems: string[]; files: string[] };
