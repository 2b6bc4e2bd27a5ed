// The bundled declarations (scripts/build-types.mjs): a notebook cell compiles against a few declaration files, not
// TensorFlow.js's ≈ 600; tf from the kit and tf imported directly are one set of types; and the two text transforms
// behind it do what they say (each checked by compiling with tslab's own TypeScript, as tslab compiles a cell).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import type * as TS from 'typescript';
import { ambientModule, compileAsCell, exportAllTypes } from '../../scripts/lib/declarations.mjs';
import { repoRoot } from '../../lib/config';

const ts = require('@tslab/typescript-for-tslab') as typeof TS;
// tslab passes TypeScript's default type roots of the kernel's folder (an internal function of its TypeScript)
const defaultTypeRoots = (ts as unknown as { getDefaultTypeRoots: (dir: string, host: { directoryExists: (d: string) => boolean }) => string[] }).getDefaultTypeRoots;
const ROOT = repoRoot();

/** A folder like notebooks/ (directly under the kit, so `import … from '..'` is the kit), removed after `fn`. */
function inNotebookDir<T>(fn: (dir: string) => T): T {
  const dir = fs.mkdtempSync(path.join(ROOT, '.types-probe-'));
  try {
    return fn(dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Compile `source` in `dir` as tslab compiles a cell there (with the default type roots of that folder, as tslab has). */
function compile(dir: string, source: string): { problems: string[]; files: string[] } {
  return compileAsCell(dir, source, { typeRoots: defaultTypeRoots(dir, { directoryExists: ts.sys.directoryExists }) });
}

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kit-types-'));
}

const FAKE_BUNDLE = [
  '/// <reference types="node" />',
  '/// <amd-module name="fake/dist/tensor" />',
  'declare class Tensor {',
  '    readonly size: number;',
  '}',
  'declare function zeros(n: number): Tensor;',
  'declare module "./index" {',
  '    interface Tensor {',
  '        abs(): Tensor;',
  '    }',
  '}',
  'export { Tensor, zeros };',
  '',
].join('\n');

test('ambientModule: one ambient module, references first, the self-augmentation merged into it', () => {
  const out = ambientModule(FAKE_BUNDLE, 'fake-tf', 'index');
  const lines = out.split('\n');
  assert.equal(lines[0], '/// <reference types="node" />');
  assert.equal(lines[1], "declare module 'fake-tf' {");
  assert.ok(!out.includes('amd-module') && !out.includes('declare class') && !out.includes('declare module "./index"'), out);
  const dir = tempDir();
  try {
    fs.writeFileSync(path.join(dir, 'fake.d.ts'), out);
    const probe = "/// <reference path=\"./fake.d.ts\" />\nimport * as t from 'fake-tf';\nexport const n: number = t.zeros(2).abs().size;\n";
    assert.deepEqual(compile(dir, probe).problems, []);
    // without the augmentation merged in, abs() does not exist: the probe can fail
    fs.writeFileSync(path.join(dir, 'fake.d.ts'), out.replace('abs(): Tensor;', ''));
    assert.ok(compile(dir, probe).problems.some((p) => p.includes("'abs'")));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('ambientModule: other module declarations and an unterminated augmentation are errors', () => {
  assert.throws(() => ambientModule('declare module "other" {\n}\n', 'm', 'index'), /unexpected module declaration.*other/);
  assert.throws(() => ambientModule('declare module "./index" {\n    interface A {}\n', 'm', 'index'), /does not end/);
  assert.throws(() => ambientModule('declare global {\n}\n', 'm', 'index'), /global scope/);
});

test('exportAllTypes: a type the bundle only uses can be named in a declaration; clashing names are an error', () => {
  const bundle = 'interface Hidden {\n    a: number;\n}\ndeclare function f(): Hidden;\ntype Shown = 1;\nexport { f };\nexport type { Shown };\n';
  const out = exportAllTypes(bundle);
  assert.match(out, /export type \{ Hidden \};\n$/);
  const dir = tempDir();
  try {
    const probe = "import { f } from './b';\nexport const v = f();\n";
    fs.writeFileSync(path.join(dir, 'b.d.ts'), bundle);
    assert.ok(compile(dir, probe).problems.some((p) => p.includes('cannot be named')), 'the untransformed bundle fails: the check can fail');
    fs.writeFileSync(path.join(dir, 'b.d.ts'), out);
    assert.deepEqual(compile(dir, probe).problems, []);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  assert.throws(() => exportAllTypes('interface Verdict {\n}\ntype Verdict$1 = 1;\nexport type { Verdict$1 as Verdict };\n'), /Verdict.*rename/);
});

test('the build wrote both bundles (npm run build): tfjs as one ambient module, the kit as one file', () => {
  const tfjs = fs.readFileSync(path.join(ROOT, 'dist/node_modules/@types/tensorflow__tfjs/index.d.ts'), 'utf8');
  assert.match(tfjs, /^\/\/ @tensorflow\/tfjs 4\.22\.0's declarations as one ambient module/);
  assert.ok(tfjs.includes("\ndeclare module '@tensorflow/tfjs' {\n"));
  const kit = fs.readFileSync(path.join(ROOT, 'dist/index.d.ts'), 'utf8');
  assert.match(kit, /^\/\/ The kit's declarations in one file/, 'dist/index.d.ts is the bundle, not the fallback re-export');
  assert.equal(require(path.join(ROOT, 'package.json')).types, 'dist/index.d.ts');
});

test("a notebook's import cell loads no TensorFlow.js declaration file of its own and few files in all", () => {
  const { problems, files } = inNotebookDir((dir) => compile(dir, "import * as kit from '..';\nimport { tf } from '..';\nexport const t: tf.Tensor = tf.zeros([2]);\nexport const k = kit.mean;\n"));
  assert.deepEqual(problems, []);
  assert.deepEqual(files.filter((f) => f.includes('/node_modules/@tensorflow/')), []);
  assert.ok(files.length < 250, `${files.length} files`);
  const direct = inNotebookDir((dir) => compile(dir, "import * as tf from '@tensorflow/tfjs';\nexport const t = tf.zeros([2]);\n"));
  assert.ok(direct.files.length > 600, `importing tfjs directly loads its own ${direct.files.length} files (what the bundle saves)`);
});

test('tf from the kit and tf imported directly are one set of types (a model of either goes to the kit)', () => {
  const cell = [
    "import * as kit from '..';",
    "import { tf } from '..';",
    "import * as tfjs from '@tensorflow/tfjs';",
    'export const model: tfjs.LayersModel = kit.buildPlainCnn({ inputShape: [8, 8, 3], numClasses: 2, seed: 1 });',
    'export const same: tf.LayersModel = model;',
    "export const tm = kit.buildTransferModel(tfjs.sequential({ layers: [tfjs.layers.dense({ units: 2, inputShape: [3] })] }), { strategy: 'freeze', numClasses: 2, seed: 1 });",
    'export const x: tfjs.Tensor = tf.zeros([1]);',
    "export const image = kit.decodeImage('x.png');",
    '',
  ].join('\n');
  assert.deepEqual(inNotebookDir((dir) => compile(dir, cell).problems), []);
  // at run time kit.tf is TensorFlow.js itself (the same functions and namespaces)
  const kit = require(path.join(ROOT, 'dist/lib')) as { tf: Record<string, unknown> };
  const tfjs = require('@tensorflow/tfjs') as Record<string, unknown>;
  for (const name of ['zeros', 'layers', 'train', 'tidy', 'engine']) assert.equal(kit.tf[name], tfjs[name], name);
});

test("tslab's own converter compiles cells against the bundles without a diagnostic", () => {
  // In a process of its own, started in the notebook folder as a kernel is (TypeScript keeps the first working
  // folder it sees, so this process, which compiled above from elsewhere, cannot host it).
  const cells = [
    "import * as kit from '..';\nimport { tf } from '..';",
    'const xs = tf.ones([2, 3]).abs().mean();',
    "const img = kit.decodeImage('x.png');\nconst cfg = kit.DEFAULT_CONFIG;",
    'const m = kit.buildPlainCnn({ inputShape: [8, 8, 3], numClasses: 2, seed: 1 });\nconst n: number = m.countParams();',
  ];
  const script = `
    const c = require(${JSON.stringify(require.resolve('tslab/dist/converter'))}).createConverter();
    let decl = '';
    const out = [];
    for (const cell of ${JSON.stringify(cells)}) {
      const r = c.convert(decl, cell);
      out.push(r.diagnostics.map((d) => d.messageText));
      decl = r.declOutput ?? decl;
    }
    c.close();
    console.log(JSON.stringify(out));`;
  const res = inNotebookDir((dir) => spawnSync(process.execPath, ['-e', script], { cwd: dir, encoding: 'utf8' }));
  assert.equal(res.status, 0, res.stderr);
  assert.deepEqual(JSON.parse(res.stdout), cells.map(() => []));
});

test('a build where bundling cannot work still succeeds: warnings, the re-export fallback, no ambient module', () => {
  // A copy of the script in a tree without node_modules: neither rollup nor tfjs can be found there.
  const dir = tempDir();
  try {
    fs.mkdirSync(path.join(dir, 'scripts/lib'), { recursive: true });
    for (const f of ['build-types.mjs', 'lib/declarations.mjs']) fs.copyFileSync(path.join(ROOT, 'scripts', f), path.join(dir, 'scripts', f));
    fs.mkdirSync(path.join(dir, 'dist/lib'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'dist/lib/index.d.ts'), 'export declare const x: number;\n');
    const res = spawnSync(process.execPath, [path.join(dir, 'scripts/build-types.mjs')], { cwd: dir, encoding: 'utf8' });
    assert.equal(res.status, 0, res.stderr);
    assert.equal((res.stderr.match(/WARNING/g) ?? []).length, 2, res.stderr);
    assert.match(fs.readFileSync(path.join(dir, 'dist/index.d.ts'), 'utf8'), /^\/\/ The kit's declarations as tsc wrote them[^\n]*\nexport \* from '\.\/lib\/index';\n$/);
    assert.equal(fs.existsSync(path.join(dir, 'dist/node_modules/@types/tensorflow__tfjs')), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
