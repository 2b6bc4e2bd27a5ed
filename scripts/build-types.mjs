// Declarations a notebook cell compiles against in ≈ 200 files instead of ≈ 870, so cells compile ≈ 1.6× faster
// (docs/notebooks.md, "Why `tf` comes from the kit"). Run by `npm run build` and at install (`prepare`), after tsc.
// Plain Node: no tsx needed.
//
// tslab type-checks every cell as a new TypeScript program, and the time that takes grows with the number of files
// in it: @tensorflow/tfjs's declarations are ≈ 600 files (tfjs-core alone 434), the kit's own ≈ 70. So:
// 1. TensorFlow.js's declarations are bundled into one (rollup-plugin-dts) and written as an ambient module,
//    `declare module '@tensorflow/tfjs' { … }`, to dist/node_modules/@types/tensorflow__tfjs/index.d.ts — where
//    TypeScript looks first when a file under dist/ imports '@tensorflow/tfjs'. Node never looks in @types folders,
//    so nothing changes at run time. In a program that contains it, the ambient declaration is what every
//    `import … from '@tensorflow/tfjs'` means (TypeScript checks ambient modules before resolved files), so a cell
//    that imports TensorFlow.js directly gets the very types the kit uses: one `tf.Tensor`, one `tf.LayersModel`.
// 2. The kit's declarations (dist/lib/**/*.d.ts from tsc) are bundled into dist/index.d.ts (package.json `types`),
//    every type in it exported so a cell's declarations can name it.
// Nothing here may break an install: a part that fails, or whose result does not type-check the probes below, is
// not used (dist/index.d.ts then re-exports dist/lib; tfjs's own declarations are used) and a warning says why.
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ambientModule, compileAsCell, exportAllTypes } from './lib/declarations.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const TFJS = '@tensorflow/tfjs';
const tfjsDir = path.join(root, 'dist/node_modules/@types/tensorflow__tfjs');
const kitTypes = path.join(root, 'dist/index.d.ts');
const FALLBACK = "// The kit's declarations as tsc wrote them (scripts/build-types.mjs could not bundle them: see its warning).\nexport * from './lib/index';\n";

/** A cell that uses TensorFlow.js, compiled from dist/ (where the bundle is found). */
const TFJS_PROBE = `import * as tf from '${TFJS}';
const x: tf.Tensor2D = tf.zeros([2, 3]);
const y: tf.Scalar = x.abs().add(1).mean();
const v: tf.Variable = tf.variable(tf.ones([3]));
const m: tf.Sequential = tf.sequential({ layers: [tf.layers.dense({ units: 2, inputShape: [3] })] });
const l: tf.LayersModel = m;
const s: tf.SymbolicTensor = tf.input({ shape: [3] });
const o: tf.Optimizer = tf.train.adam(1e-3);
const g: tf.NamedTensorMap = tf.variableGrads(() => tf.sum(v) as tf.Scalar).grads;
const k: tf.KernelConfig | undefined = tf.getKernel('Conv2D', 'wasm');
const io: Promise<tf.io.SaveResult> = m.save(tf.io.withSaveHandler(async () => ({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
const b: tf.backend_util.Conv2DInfo = tf.backend_util.computeConv2DInfo([1, 4, 4, 1], [3, 3, 1, 1], 1, 1, 'same');
const t: number[] = tf.tidy(() => tf.relu(tf.tensor1d([-1, 2])).arraySync() as number[]);
export { y, l, s, o, g, k, io, b, t };
`;

/**
 * A notebook's first cells, compiled from the repository root (where '@tensorflow/tfjs' resolves to tfjs itself):
 * the kit's types, tf from the kit and tf imported directly are one set of types, and values whose types the kit
 * does not name in its API can still be declared (tslab writes every cell's declarations).
 */
const KIT_PROBE = `import * as kit from './';
import { tf } from './';
import * as tfjs from '${TFJS}';
export const model: tf.LayersModel = kit.buildPlainCnn({ inputShape: [32, 32, 3], numClasses: 2, seed: 1 });
export const direct: tfjs.LayersModel = model;
export const built = kit.buildTransferModel(tfjs.sequential({ layers: [tfjs.layers.dense({ units: 2, inputShape: [3] })] }), { strategy: 'freeze', numClasses: 2, seed: 1 });
export const image = kit.decodeImage('x.png');
export const loader = new kit.DataLoader(new kit.ImageDataset(['x.png'], [0], kit.compose([kit.toTensor()])), { batchSize: 1 });
export const report = kit.classificationReport([0], [0]);
export const answer = kit.checkAnswer('00-ex1', 1);
`;

/** rollup-plugin-dts over one declaration entry; every import from outside the entry's folder kept as it is. */
async function bundle(input, inline) {
  const { rollup } = await import('rollup');
  const { dts } = await import('rollup-plugin-dts');
  const local = (id) => id.startsWith('.') || id.startsWith('/');
  const build = await rollup({ input, plugins: [dts({ respectExternal: true })], external: (id) => !local(id) && !inline(id) });
  const { output } = await build.generate({ format: 'es', file: 'index.d.ts' });
  await build.close();
  return output[0].code;
}

/** Part 1: TensorFlow.js as one ambient module (see the top). Returns a line for the log. */
async function tfjsPart() {
  fs.rmSync(tfjsDir, { recursive: true, force: true });
  const code = await bundle(require.resolve(`${TFJS}/dist/index.d.ts`), (id) => id.startsWith('@tensorflow/'));
  const version = require(`${TFJS}/package.json`).version;
  fs.mkdirSync(tfjsDir, { recursive: true });
  const file = path.join(tfjsDir, 'index.d.ts');
  fs.writeFileSync(file, `// ${TFJS} ${version}'s declarations as one ambient module, written by scripts/build-types.mjs (see there why).\n${ambientModule(code, TFJS, 'index')}`);
  const { problems, files } = compileAsCell(path.join(root, 'dist'), TFJS_PROBE, { types: [], strict: true });
  const stray = files.filter((f) => f.includes(`/node_modules/${TFJS}`));
  if (stray.length) problems.push(`the probe still loaded ${stray.length} of tfjs's own files (e.g. ${stray[0]})`);
  if (problems.length) throw new Error(`the bundle does not type-check: ${problems.slice(0, 3).join('; ')}`);
  return `${path.relative(root, file)} (${(fs.statSync(file).size / 1e6).toFixed(1)} MB)`;
}

/** Part 2: the kit's declarations as one file (see the top). Returns a line for the log. */
async function kitPart() {
  fs.writeFileSync(kitTypes, FALLBACK);
  const code = exportAllTypes(await bundle(path.join(root, 'dist/lib/index.d.ts'), () => false));
  fs.writeFileSync(kitTypes, `// The kit's declarations in one file, written by scripts/build-types.mjs (see there why).\n${code}`);
  const { problems } = compileAsCell(root, KIT_PROBE, { strict: true });
  if (problems.length) throw new Error(`the bundle does not type-check a notebook's first cells: ${problems.slice(0, 3).join('; ')}`);
  return `${path.relative(root, kitTypes)} (${(fs.statSync(kitTypes).size / 1e3).toFixed(0)} kB)`;
}

const started = Date.now();
for (const [name, part, undo] of [
  ['TensorFlow.js', tfjsPart, () => fs.rmSync(tfjsDir, { recursive: true, force: true })],
  ['the kit', kitPart, () => fs.writeFileSync(kitTypes, FALLBACK)],
]) {
  try {
    console.log(`build-types: ${await part()}`);
  } catch (err) {
    undo();
    console.warn(`build-types: WARNING — ${name}'s declarations stay as they are (${String(err.message).split('\n')[0]}); notebooks work the same, their cells compile slower`);
  }
}
console.log(`build-types: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
