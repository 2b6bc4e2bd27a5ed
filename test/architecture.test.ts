// The library's shape (issue #11): small modules with one job — no lib/ file over 400 lines and no function over 80
// (the AssemblyScript kernels excepted, where inlining is the point); no module reaches back up to lib/index.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import ts from 'typescript';
import { repoRoot } from '../lib/config';

const LIB = path.join(repoRoot(), 'lib');
const EXEMPT = [path.join('backend', 'simd', 'assembly')];

function libFiles(dir = LIB): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return EXEMPT.some((x) => p.endsWith(x)) ? [] : libFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

/** Functions (declarations, methods, arrows and function expressions over 10 lines) longer than `max` lines. */
export function longFunctions(file: string, max: number): string[] {
  const text = fs.readFileSync(file, 'utf8');
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node) || ts.isConstructorDeclaration(node)) {
      const body = (node as ts.FunctionLikeDeclaration).body;
      if (body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(body.getEnd()).line;
        const name = (node as ts.FunctionDeclaration).name?.getText(sf) ?? `<anonymous at line ${start + 1}>`;
        if (end - start + 1 > max) out.push(`${path.relative(repoRoot(), file)}: ${name} is ${end - start + 1} lines`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return out;
}

test('no lib/ file is longer than 400 lines', () => {
  const long = libFiles()
    .map((f) => [path.relative(repoRoot(), f), fs.readFileSync(f, 'utf8').split('\n').length] as const)
    .filter(([, n]) => n > 400)
    .map(([f, n]) => `${f}: ${n} lines`);
  assert.deepEqual(long, []);
});

test('no lib/ function is longer than 80 lines', () => {
  assert.deepEqual(libFiles().flatMap((f) => longFunctions(f, 80)), []);
});

test('no lib/ module imports the public index (rooms import each other by path)', () => {
  const back = libFiles().filter((f) => /from '\.\.?\/(index)?'|require\('\.\.?\/?'\)/.test(fs.readFileSync(f, 'utf8')) && !f.endsWith(path.join('lib', 'index.ts')));
  assert.deepEqual(back.map((f) => path.relative(repoRoot(), f)), []);
});
