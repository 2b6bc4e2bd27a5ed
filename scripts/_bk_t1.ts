import * as tf from '@tensorflow/tfjs';
import { setWasmPaths, setThreadsCount, getThreadsCount } from '@tensorflow/tfjs-backend-wasm';
import * as path from 'path';
const dist = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm'));
setWasmPaths(dist + '/');
if (process.env.T) setThreadsCount(Number(process.env.T));
(async () => { if (process.env.MT) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  console.log(await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'), await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT'));
  await tf.setBackend('wasm'); await tf.ready();
  console.log(tf.getBackend(), getThreadsCount());
  const x = tf.randomNormal([32, 64, 64, 16]); const w = tf.randomNormal([3,3,16,32]);
  for (let i=0;i<3;i++){ const t=Date.now(); for(let j=0;j<10;j++){const y=tf.conv2d(x as any,w as any,1,'same'); y.dataSync(); y.dispose();} console.log('conv ms', (Date.now()-t)/10); }
  process.exit(0);
})();
