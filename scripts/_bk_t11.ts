import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as tf from '@tensorflow/tfjs';
import { setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import { initBackend } from '../lib/backend';

function patchForThreads(): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-wasm-threads-'));
  const RealBlob = globalThis.Blob;
  const realCreate = URL.createObjectURL;
  let mainPath: string | null = null;
  let n = 0;
  class TextBlob extends RealBlob {
    readonly kitText: string;
    constructor(parts: any[], opts?: any) {
      super(parts, opts);
      this.kitText = parts.map(String).join('');
      if (this.kitText.startsWith('var WasmBackendModuleThreadedSimd')) {
        mainPath = path.join(dir, 'main.js');
        const prelude = "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks'),require$$4=require('os'),commonjsGlobal=globalThis;\n";
        fs.writeFileSync(mainPath, prelude + this.kitText);
      }
    }
  }
  (globalThis as any).Blob = TextBlob;
  URL.createObjectURL = ((blob: any) => {
    if (blob instanceof TextBlob) {
      const p = path.join(dir, `blob${n++}.js`);
      const prelude = mainPath ? `URL.createObjectURL=()=>${JSON.stringify(mainPath)};URL.revokeObjectURL=()=>{};\n` : '';
      fs.writeFileSync(p, prelude + blob.kitText);
      return p;
    }
    return realCreate(blob);
  }) as any;
  return () => { (globalThis as any).Blob = RealBlob; URL.createObjectURL = realCreate; };
}

(async () => {
  const T = Number(process.env.T ?? 1);
  if (T > 1) { tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true); patchForThreads(); setThreadsCount(T); }
  const osm = require('os'); const realCpus = osm.cpus; if (T > 1) osm.cpus = () => { const c = realCpus(); return [...c, ...c]; };
  await initBackend({ backend: 'wasm' });
  osm.cpus = realCpus;
  const be = tf.backend() as any; console.log('after reinit', be.wasm.tfjs.getThreadsCount(), 'running', be.wasm.PThread.runningWorkers.length, 'unused', be.wasm.PThread.unusedWorkers.length);
  console.log('threads', getThreadsCount(), 'PThread', typeof (tf.backend() as any).wasm.PThread, await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  const x = tf.randomNormal([32, 32, 32, 16]); const w = tf.randomNormal([3, 3, 16, 32]);
  const time = (f: () => tf.Tensor) => { for (let i = 0; i < 2; i++) f().dispose(); const t0 = performance.now(); const c0 = process.cpuUsage(); for (let i = 0; i < 10; i++) { const r = f(); r.dataSync(); r.dispose(); } const c = process.cpuUsage(c0); return `wall ${((performance.now() - t0) / 10).toFixed(2)} cpu ${((c.user + c.system) / 1e4).toFixed(2)}`; };
  console.log('conv', time(() => tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same')));
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same'); const dy = tf.randomNormal(y.shape);
  console.log('filterGrad', time(() => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { strides: 1, pad: 'same', dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor));
  const g = tf.grad((v: tf.Tensor4D) => tf.conv2d(x as tf.Tensor4D, v, 1, 'same').sum())(w as tf.Tensor4D);
  console.log('grad ok', g.shape);
  process.exit(0);
})();
