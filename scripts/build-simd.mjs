// Compiles the kit's WebAssembly SIMD kernels (lib/backend/simd/assembly/kernels.ts, AssemblyScript) into
// dist/simd/kernels.wasm (plain memory) and dist/simd/kernels-shared.wasm (shared memory, for the wasm backend's
// threaded build). Run by `npm run build` and at install (`prepare`). Plain Node: no tsx needed.
import asc from 'assemblyscript/asc';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'lib/backend/simd/assembly/kernels.ts');
const outDir = path.join(root, 'dist/simd');
fs.mkdirSync(outDir, { recursive: true });

// The module borrows tfjs's heap: imported memory, no runtime, no assertions (they would need strings, i.e. a
// data segment written into that heap), SIMD on.
const common = ['-O3', '--runtime', 'stub', '--noAssert', '--use', 'abort=', '--importMemory', '--initialMemory', '1', '--enable', 'simd'];
const builds = [
  { file: 'kernels.wasm', flags: [] },
  // Shared memory needs a maximum ≥ the backend's own (4 GiB at most on wasm32).
  { file: 'kernels-shared.wasm', flags: ['--sharedMemory', '--maximumMemory', '65536', '--enable', 'threads'] },
];
for (const build of builds) {
  const out = path.join(outDir, build.file);
  const { error, stderr } = await asc.main([path.relative(process.cwd(), source), ...common, ...build.flags, '-o', out]);
  if (error) {
    console.error(stderr.toString());
    throw new Error(`build-simd: compiling ${path.relative(root, source)} into ${build.file} failed: ${error.message}`);
  }
  const bytes = fs.readFileSync(out);
  // A data section (id 11) would be copied into tfjs's heap when the module is instantiated.
  if (hasSection(bytes, 11)) throw new Error(`build-simd: ${build.file} has a data section; the kernels must not define static data`);
}
console.log(`build-simd: ${builds.map((b) => path.join('dist/simd', b.file)).join(', ')}`);

/** Whether the wasm binary has a section with this id. */
function hasSection(bytes, id) {
  let at = 8;
  while (at < bytes.length) {
    const section = bytes[at++];
    let size = 0;
    for (let shift = 0; ; shift += 7) {
      const byte = bytes[at++];
      size |= (byte & 0x7f) << shift;
      if (!(byte & 0x80)) break;
    }
    if (section === id) return true;
    at += size;
  }
  return false;
}
