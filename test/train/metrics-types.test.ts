// f1Score's per-class overload is typed number[] as a notebook sees it: tslab compiles without strictNullChecks,
// where `average: null` also fitted the averaged overload (05-practice needed `as unknown as number[]`).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import ts from 'typescript';

function diagnostics(code: string, strict: boolean): string[] {
  const file = path.resolve(__dirname, '__f1_types_check.ts');
  const host = ts.createCompilerHost({});
  const read = host.readFile.bind(host);
  host.readFile = (f) => (path.resolve(f) === file ? code : read(f));
  const exists = host.fileExists.bind(host);
  host.fileExists = (f) => path.resolve(f) === file || exists(f);
  const program = ts.createProgram([file], { strict, strictNullChecks: strict, noEmit: true, target: ts.ScriptTarget.ES2020, module: ts.ModuleKind.CommonJS, esModuleInterop: true, skipLibCheck: true, types: [] }, host);
  return ts.getPreEmitDiagnostics(program, program.getSourceFile(file)).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

test('f1Score(..., { average: null }) is number[] and the default is number, with and without strictNullChecks', () => {
  const ok = `import { f1Score } from '../../lib/train/metrics';
const perClass: number[] = f1Score([0, 1], [0, 1], { average: null, numClasses: 2, zeroDivision: 0 });
const macro: number = f1Score([0, 1], [0, 1], { average: 'macro' });
const plain: number = f1Score([0, 1], [0, 1]);
export { perClass, macro, plain };`;
  for (const strict of [false, true]) assert.deepEqual(diagnostics(ok, strict), [], `strict=${strict}`);
  const wrong = `import { f1Score } from '../../lib/train/metrics';\nexport const x: number = f1Score([0], [0], { average: null });`;
  assert.ok(diagnostics(wrong, false).some((m) => /not assignable to type 'number'/.test(m)));
});
