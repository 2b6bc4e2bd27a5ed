// The text transforms scripts/build-types.mjs applies to rollup-plugin-dts bundles, and the compile that checks them
// (tested in test/scripts/build-types.test.ts). Plain Node, no tsx: they run at install.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const require = createRequire(import.meta.url);

/**
 * A declaration bundle (an ES module) as one ambient module declaration, `declare module 'NAME' { … }`:
 * `/// <reference>` lines move above it, `/// <amd-module>` lines go, the bundle's augmentations of itself
 * (`declare module "./SELF" { … }`, which tfjs-core's chained ops become) are unwrapped into the module body, and
 * top-level `declare` keywords go (an ambient context does not allow them). Any other module declaration is an error.
 */
export function ambientModule(bundle, moduleName, selfName) {
  const refs = [];
  const body = [];
  const selfAugmentation = `declare module "./${selfName}" {`;
  let inAugmentation = false;
  for (const line of bundle.split('\n')) {
    if (line.startsWith('/// <amd-module')) continue;
    if (line.startsWith('/// <reference')) {
      refs.push(line);
      continue;
    }
    if (line === selfAugmentation) {
      inAugmentation = true;
      continue;
    }
    if (inAugmentation) {
      if (line === '}') inAugmentation = false;
      else body.push(line.replace(/^ {4}/, ''));
      continue;
    }
    if (/^declare module ["']/.test(line)) throw new Error(`ambientModule: an unexpected module declaration in the bundle: ${line}`);
    if (/^declare global\b/.test(line)) throw new Error('ambientModule: the bundle augments the global scope (declare global); not supported');
    body.push(line.replace(/^declare (?=(?:abstract )?(?:class|function|const|let|var|enum|namespace|type|interface)\b)/, ''));
  }
  if (inAugmentation) throw new Error(`ambientModule: an augmentation (${selfAugmentation}) does not end with a line '}'`);
  return [...refs, `declare module '${moduleName}' {`, ...body, '}', ''].join('\n');
}

/**
 * The bundle with every top-level type it declares but does not export added to one `export type { … }`, so code
 * that holds such a value (`const img = await kit.decodeImage(…)`) can still have its declaration written. A
 * declared name that is also an exported name of something else is an error (rename one of the two in lib/).
 */
export function exportAllTypes(bundle) {
  const ts = require('@tslab/typescript-for-tslab');
  const file = ts.createSourceFile('bundle.d.ts', bundle, ts.ScriptTarget.ES2020, false);
  const declared = new Set();
  const exportedLocal = new Set();
  const publicNames = new Set();
  const isExported = (st) => (st.modifiers ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
  for (const st of file.statements) {
    if (ts.isExportDeclaration(st) && !st.moduleSpecifier && st.exportClause && ts.isNamedExports(st.exportClause)) {
      for (const e of st.exportClause.elements) {
        exportedLocal.add((e.propertyName ?? e.name).text);
        publicNames.add(e.name.text);
      }
    } else if (ts.isVariableStatement(st)) {
      for (const d of st.declarationList.declarations) if (ts.isIdentifier(d.name)) (isExported(st) ? exportedLocal : declared).add(d.name.text);
    } else if ('name' in st && st.name && ts.isIdentifier(st.name)) {
      if (isExported(st)) {
        exportedLocal.add(st.name.text);
        publicNames.add(st.name.text);
      } else declared.add(st.name.text);
    }
  }
  const missing = [...declared].filter((n) => !exportedLocal.has(n)).sort();
  const clashes = missing.filter((n) => publicNames.has(n));
  if (clashes.length) throw new Error(`exportAllTypes: ${clashes.join(', ')} name(s) both an exported and an internal declaration; rename one`);
  return missing.length ? `${bundle.trimEnd()}\nexport type { ${missing.join(', ')} };\n` : bundle;
}

/**
 * Compile `source` as a file in `dir` the way tslab compiles a cell (its own TypeScript; ES module, Node resolution,
 * skipLibCheck; declarations emitted, so a value whose type cannot be named is an error), plus `extra` options.
 * Returns the diagnostics' messages and the files the program loaded; the file is removed again.
 */
export function compileAsCell(dir, source, extra = {}) {
  const ts = require('@tslab/typescript-for-tslab');
  const file = path.join(dir, '__types_probe__.ts');
  fs.writeFileSync(file, source);
  try {
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Node10,
      esModuleInterop: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2020,
      lib: ['lib.es2020.d.ts'],
      declaration: true,
      emitDeclarationOnly: true,
      ...extra,
    });
    const found = [...ts.getPreEmitDiagnostics(program), ...program.emit(undefined, () => undefined).diagnostics];
    return { problems: found.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' ')), files: program.getSourceFiles().map((f) => f.fileName) };
  } finally {
    fs.rmSync(file, { force: true });
  }
}
