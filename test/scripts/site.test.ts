// The site: pages built from an executed notebook (math, code, tables, images, ANSI stderr, plotly), then loaded
// in headless Chromium (Debian's /usr/bin/chromium) — no console errors, KaTeX rendered, plots drawn, slides navigate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import { chromium } from 'playwright-core';
import { buildSite } from '../../scripts/site';
import { splitSlides } from '../../scripts/site/pages';
import { ansiToHtml } from '../../scripts/site/ansi';
import { renderBundle } from '../../scripts/site/render';
import { Notebook, NotebookCell } from '../../scripts/lib/nbformat';
import { plotBundle, tableBundle, imageGridBundle } from '../../lib/display';

const root = path.resolve(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';

const md = (id: string, source: string, metadata: Record<string, unknown> = {}): NotebookCell => ({ id, cell_type: 'markdown', metadata, source });
const code = (id: string, source: string, outputs: unknown[], n: number | null = 1): NotebookCell => ({ id, cell_type: 'code', metadata: {}, source, outputs, execution_count: n });

async function demoNotebook(): Promise<Notebook> {
  const disp = (data: Record<string, unknown>) => ({ output_type: 'display_data', data, metadata: {} });
  const img = new Float32Array(8 * 8).map((_, i) => (i % 9) / 8);
  return {
    nbformat: 4, nbformat_minor: 5, metadata: {},
    cells: [
      md('m1', '# Demo notebook\nThe risk bound: $\\epsilon_T(h) \\le \\epsilon_S(h) + d_{\\mathcal{H}}(S, T) + \\lambda$.\n\n$$\\sum_{i=1}^n x_i^2$$'),
      code('c1', 'const cfg = { ...DEFAULT_CONFIG, epochs: 3 };\nconsole.log(cfg);', [
        { output_type: 'stream', name: 'stdout', text: '{ epochs: 3 }\n' },
        { output_type: 'stream', name: 'stderr', text: '\u001b[31mred warning\u001b[0m plain\n' },
      ], 1),
      md('m2', '## A table and images'),
      code('c2', 'kit.showTable(rows)', [disp(tableBundle([{ strategy: 'freeze', acc: 0.54321 }, { strategy: 'fine-tune', acc: 0.51 }]))], 2),
      code('c3', 'await kit.showImageGrid(images)', [disp(await imageGridBundle([{ data: img, shape: [8, 8, 1] }, { data: img, shape: [8, 8, 1] }], { titles: ['a', 'b'], highlight: [false, true] }))], 3),
      md('m3', '## A plot'),
      code('c4', 'kit.showPlot([...])', [disp(plotBundle([{ x: [1, 2, 3], y: [0.2, 0.5, 0.7], type: 'scatter', name: 'freeze' }, { x: [1, 2, 3], y: [0.1, 0.4, 0.8], type: 'scatter', name: 'fine-tune' }], { title: { text: 'accuracy' } }, { html: false }))], 4),
    ],
  };
}

test('ANSI colours become spans; bundles pick the richest known type; slides split at headings or slide_type', () => {
  assert.equal(ansiToHtml('\u001b[1;31mError\u001b[0m: <x>'), '<span style="color:#c91b00;font-weight:bold">Error</span>: &lt;x&gt;');
  assert.match(renderBundle({ 'text/plain': 'p', 'text/html': '<b>h</b>' }), /<b>h<\/b>/);
  assert.match(renderBundle({ 'application/vnd.plotly.v1+json': { data: [] }, 'text/html': '<b>fallback</b>' }), /class="kit-plot"/);
  assert.match(renderBundle({ 'image/png': 'AAAA', 'text/plain': 'x' }), /src="data:image\/png;base64,AAAA"/);
  const cells = [md('a', '# One'), code('b', 'x', []), md('c', 'text'), md('d', '## Two'), code('e', 'y', [])];
  assert.deepEqual(splitSlides(cells).map((s) => s.map((c) => c.id)), [['a', 'b', 'c'], ['d', 'e']]);
  const meta = [md('a', '# One', { slideshow: { slide_type: 'slide' } }), md('b', 'x', { slideshow: { slide_type: 'skip' } }),
    md('c', '## not a split', { slideshow: { slide_type: '-' } }), md('d', 'next', { slideshow: { slide_type: 'subslide' } })];
  assert.deepEqual(splitSlides(meta).map((s) => s.map((c) => c.id)), [['a', 'c'], ['d']]);
});

test('the site renders offline in Chromium: math, highlighted code, plots, table, image, presenting mode', { timeout: 90_000, skip: !fs.existsSync(CHROMIUM) && `${CHROMIUM} not installed (apt-get install -y chromium)` }, async () => {
  const build = fs.mkdtempSync(path.join(os.tmpdir(), 'kit-site-'));
  fs.mkdirSync(path.join(build, 'notebooks'));
  fs.writeFileSync(path.join(build, 'notebooks', 'demo.ipynb'), JSON.stringify(await demoNotebook()));
  fs.writeFileSync(path.join(build, 'report.json'), JSON.stringify({ generated: '2026-01-01T00:00:00Z', quick: true, notebooks: [
    { name: 'demo', path: 'demo.ipynb', output: '', status: 'ok', cellsRun: 4, codeCells: 4, seconds: 1.5, warnings: [] },
    { name: 'broken', path: 'broken.ipynb', output: '', status: 'failed', cellsRun: 1, codeCells: 2, seconds: 0.5, warnings: [], failure: { cellIndex: 0, cellId: 'x', source: 'x', error: 'boom' } },
  ] }));
  const site = buildSite(build);
  assert.deepEqual(site.pages.sort(), ['demo.html', 'demo.slides.html', 'index.html']);
  assert.ok(fs.existsSync(path.join(site.outDir, 'demo.ipynb')), 'executed notebook offered for download');
  const html = fs.readFileSync(path.join(site.outDir, 'demo.html'), 'utf8');
  assert.doesNotMatch(html, /https?:\/\/(?!www\.w3\.org)/, 'no external URLs (CDN) in the page');
  assert.equal(fs.readdirSync(path.join(site.outDir, 'assets')).filter((f) => f.startsWith('plotly')).length, 1, 'plotly.js copied once');
  assert.doesNotMatch(html, /Plotly\.register|plotly\.js v/, 'plotly.js not inlined');

  const server = http.createServer((req, res) => {
    const file = path.join(site.outDir, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!file.startsWith(site.outDir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) { res.writeHead(404); res.end(); return; }
    const type = ({ '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.woff2': 'font/woff2' } as Record<string, string>)[path.extname(file)] ?? 'application/octet-stream';
    res.writeHead(200, { 'content-type': type });
    fs.createReadStream(file).pipe(res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    const problems: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });

    await page.goto(`${base}/index.html`);
    assert.equal(await page.locator('table.index tbody tr').count(), 2);
    assert.equal(await page.locator('.badge.failed').count(), 1);

    await page.goto(`${base}/demo.html`);
    await page.waitForSelector('.kit-plot g.trace', { timeout: 30_000 });
    assert.equal(await page.locator('.kit-plot').count(), 1);
    assert.equal(await page.locator('.kit-plot g.trace').count(), 2, 'both traces drawn');
    assert.ok(await page.locator('.katex').count() >= 2, 'inline and display math rendered by KaTeX');
    assert.equal(await page.locator('.katex-display').count(), 1);
    assert.ok(await page.locator('pre.source .hljs-keyword').count() >= 1, 'TypeScript highlighted');
    assert.equal(await page.locator('.out-html table.kit-table tbody tr').count(), 2);
    assert.equal(await page.locator('.out-image img').count(), 1);
    assert.ok(await page.evaluate(() => (document.querySelector('.out-image img') as HTMLImageElement).naturalWidth > 0), 'PNG decoded');
    assert.equal(await page.locator('.stderr span[style*="color"]').innerText(), 'red warning');
    const katexFont = await page.evaluate(() => document.fonts.check('16px KaTeX_Main'));
    assert.ok(katexFont, 'KaTeX fonts loaded from assets');
    fs.mkdirSync(path.join(root, 'build'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'build', 'site-test-notebook.png'), fullPage: true });

    await page.goto(`${base}/demo.slides.html`);
    assert.equal(await page.locator('#slide-counter').innerText(), '1 / 3');
    assert.ok(await page.locator('.slide.active .katex').count() >= 1);
    await page.keyboard.press('ArrowRight');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.locator('#slide-counter').innerText(), '3 / 3');
    await page.waitForSelector('.slide.active .kit-plot g.trace', { timeout: 30_000 });
    assert.ok(Number((await page.evaluate(() => getComputedStyle(document.body).fontSize)).replace('px', '')) >= 24, 'big font for projectors');
    await page.screenshot({ path: path.join(root, 'build', 'site-test-slides.png') });
    await page.keyboard.press('c');
    assert.equal(await page.locator('.slide.active .cell.code .input').isVisible(), false, 'c hides code');
    await page.keyboard.press('c');
    await page.keyboard.press('Home');
    assert.equal(await page.locator('#slide-counter').innerText(), '1 / 3');
    assert.deepEqual(problems, [], 'no console errors or failed requests');
  } finally {
    await browser.close();
    server.close();
    fs.rmSync(build, { recursive: true, force: true });
  }
});

test('showPlot\'s text/html fallback draws offline where no plotly renderer exists (Notebook-style HTML outputs)', { timeout: 60_000, skip: !fs.existsSync(CHROMIUM) && `${CHROMIUM} not installed` }, async () => {
  const first = plotBundle([{ x: [1, 2], y: [1, 3], type: 'scatter' }], {}, { inlinePlotly: true })['text/html'] as string;
  const second = plotBundle([{ x: ['a', 'b'], y: [2, 1], type: 'bar' }], {}, { inlinePlotly: false })['text/html'] as string;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
  try {
    const page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (e) => problems.push(e.message));
    page.on('request', (r) => { if (!r.url().startsWith('data:') && r.url() !== 'about:blank') problems.push(`request: ${r.url()}`); });
    // a front end that inserts outputs one by one, later ones possibly before the library has run
    await page.setContent(`<div class="output">${second}</div><div class="output">${first}</div>`);
    await page.waitForFunction(() => document.querySelectorAll('.kit-plot g.trace').length === 2, null, { timeout: 30_000 });
    assert.deepEqual(problems, []);
  } finally {
    await browser.close();
  }
});
