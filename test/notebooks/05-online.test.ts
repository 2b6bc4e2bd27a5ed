/**
 * Notebook 05's online path — `dataset = 'hymenoptera'`, the lecture's practical with a published ImageNet backbone —
 * executed by the runner with a loopback server standing in for the internet: the photos are a tiny folder in the
 * kit's cache (unpacked by hand: the real archive's SHA-256 is pinned, a stand-in zip could not pass it), the
 * backbone is a MobileNet-V1-shaped stand-in served by a classroom mirror (`KIT_MIRROR`), and `KIT_ONLY_HOSTS`
 * keeps every public host out of reach. `npm test -- 05-online` runs only this file.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { saveModel } from '../../lib/models/storage';
import { buildTinyMobileNetV1 } from '../models/tiny-mobilenet';
import { FakeHosts } from '../data/fetch-hosts';
import { rmTmp, tmpDir, writeImage } from '../data/helpers';

const root = path.resolve(__dirname, '..', '..');
const notebook = process.env.NB05_FILE ?? path.join(root, 'notebooks', '05-practice.ipynb');
const hosts = new FakeHosts();
const dir = tmpDir('kit-05-online-');

before(async () => {
  await hosts.start();
  const photos = path.join(dir, 'cache', 'datasets', 'hymenoptera_data');
  for (const [split, n] of [['train', 10], ['val', 4]] as const)
    for (const [k, cls] of ['ants', 'bees'].entries())
      for (let i = 0; i < n; i++) await writeImage(path.join(photos, split, cls, `${cls}-${i}.jpg`), 64, 48, k * 50 + i);
  const m = buildTinyMobileNetV1(224, 4, 10, 7);
  const md = path.join(dir, 'model');
  await saveModel(m, md);
  m.dispose();
  for (const f of fs.readdirSync(md)) hosts.files.set(`/classroom/backbones/mobilenet_v1/tfjs-models/${f}`, fs.readFileSync(path.join(md, f)));
});
after(async () => {
  await hosts.stop();
  rmTmp(dir);
});

/** Runs the runner without blocking this process (the loopback server must answer meanwhile). */
function runNotebook(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'notebooks.ts'), ...args], { cwd: root, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

interface Output { output_type: string; text?: string | string[]; data?: Record<string, string | string[]> }
const outputText = (o: Output) => [o.text ?? '', ...Object.values(o.data ?? {})].flat().join('');

test("05 with dataset = 'hymenoptera': ImageNet backbone (stand-in), freeze → head → top blocks fine-tuned, F1 and the report", { timeout: 10 * 60 * 1000 }, async () => {
  const out = path.join(dir, 'out');
  const res = await runNotebook(['--quick', '--param', 'dataset=hymenoptera', '--out', out, notebook], {
    ...process.env,
    KIT_QUICK: '1',
    KIT_CACHE_DIR: path.join(dir, 'cache'),
    KIT_MIRROR: `${hosts.base}/bucket/classroom`,
    KIT_ONLY_HOSTS: '127.0.0.1',
    KIT_FETCH_FROM: '',
  });
  const executed = path.join(out, 'notebooks', path.basename(notebook));
  assert.ok(fs.existsSync(executed), `no executed notebook (exit ${res.status}):\n${res.stdout.slice(-2000)}\n${res.stderr.slice(-3000)}`);
  const nb = JSON.parse(fs.readFileSync(executed, 'utf8')) as { cells: Array<{ cell_type: string; source: string | string[]; outputs?: Output[] }> };
  const errors = nb.cells.flatMap((c) => (c.outputs ?? []).filter((o) => o.output_type === 'error'));
  assert.equal(res.status, 0, `runner exit ${res.status}; errors: ${JSON.stringify(errors).slice(0, 3000)}\n${res.stdout.slice(-2000)}`);
  const all = nb.cells.flatMap((c) => c.outputs ?? []).map(outputText).join('\n');
  const has = (re: RegExp, what: string) => assert.ok(re.test(all), `${what}: no output matches ${re}`);
  has(/MobileNet V1 1\.0-224, ImageNet.*loaded from classroom mirror \(KIT_MIRROR\) \(layers model\)/, 'the backbone and where it came from');
  has(/phase 2 trains the top 2 blocks of mobilenet_v1 \(batch norm in inference mode\) and the head/, 'the top blocks were unfrozen');
  has(/ants[\s\S]*bees[\s\S]*macro avg/, 'the classification report');
  has(/macro F1 \d\.\d{3}/, 'the macro F1 sentence');
  const prose = nb.cells.filter((c) => c.cell_type === 'markdown').map((c) => [c.source].flat().join('')).join('\n');
  assert.ok(/could not be measured where this kit was built/.test(prose), 'the text says the ants/bees accuracy was not measured here');
  const asked = [...new Set(hosts.requests.map((r) => r.url))];
  assert.deepEqual(asked, ['/bucket/classroom/backbones/mobilenet_v1/tfjs-models/model.json', '/bucket/classroom/backbones/mobilenet_v1/tfjs-models/weights.bin']);
});
