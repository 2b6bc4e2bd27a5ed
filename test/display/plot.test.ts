// Plots that survive what a student does to a page: the static SVG picture is a real rendering of the data (checked by
// rasterising it with sharp and by its coordinates), and in headless Chromium the HTML fallback shows that picture and a
// readable hint where scripts do not run, and loads plotly.js from Jupyter's file server after a reload or in a new tab.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import sharp from 'sharp';
import { chromium, type Browser } from 'playwright-core';
import { NO_PLOTLY_NOTE, NO_SCRIPT_NOTE, PLOTLY_MIME, plotBundle, plotlyUrlHints } from '../../lib/display/plot';
import { figureSvg } from '../../lib/display/static/svg';
import { buildScale, niceTicks } from '../../lib/display/static/axes';

const root = path.resolve(__dirname, '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const noChromium = !fs.existsSync(CHROMIUM) && `${CHROMIUM} not installed (apt-get install chromium)`;

/** The RGB of pixel (x, y) of an SVG rasterised at its own size. */
async function pixel(svg: string, x: number, y: number): Promise<[number, number, number]> {
  const { data, info } = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  const i = (Math.round(y) * info.width + Math.round(x)) * 3;
  return [data[i], data[i + 1], data[i + 2]];
}
const near = (a: number[], b: number[], tol = 8) => a.every((v, i) => Math.abs(v - b[i]) <= tol);
const circles = (svg: string) => [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])]);

test('axes: nice ticks, log decades, categories in order of appearance, reversed ranges', () => {
  assert.deepEqual(niceTicks(0, 1).values.map((v) => Number(v.toFixed(9))), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(niceTicks(0, 1).step, 0.2);
  assert.deepEqual(niceTicks(3, 97).values, [20, 40, 60, 80]);
  const log = buildScale({ axis: { type: 'log' }, values: [1, 1000], px: [0, 300] });
  assert.deepEqual(log.ticks.map((t) => t.label), ['1', '10', '100', '1000']);
  assert.ok(log.toPx(-1) === null && log.toPx(0) === null, 'no place for values ≤ 0 on a log axis');
  assert.ok(Math.abs(log.toPx(10)! - log.toPx(1)! - (log.toPx(100)! - log.toPx(10)!)) < 1e-9, 'decades are equally spaced');
  const cat = buildScale({ axis: undefined, values: ['b', 'a', 'b', 'c'], px: [0, 300] });
  assert.equal(cat.type, 'category');
  assert.deepEqual(cat.ticks.map((t) => [t.label, t.px]), [['b', 50], ['a', 150], ['c', 250]]);
  const rev = buildScale({ axis: { type: 'category', autorange: 'reversed' }, values: ['a', 'b'], px: [200, 0] });
  assert.ok(rev.toPx('a')! < rev.toPx('b')!, "autorange 'reversed' puts the first category at the top of a y axis");
  const given = buildScale({ axis: { range: [0, 1] }, values: [0.2, 0.4], px: [400, 0] });
  assert.deepEqual([given.toPx(0), given.toPx(0.5), given.toPx(1)], [400, 200, 0], 'a given range is used exactly');
});

test('the static picture places every point where the data says (markers, lines, dashes, error bars, text)', () => {
  const svg = figureSvg(
    [{ x: [0, 1, 2, 3, 4], y: [0, 1, 2, 3, 4], mode: 'lines+markers', name: 'a', error_y: { type: 'data', array: [0.5, 0.5, 0.5, 0.5, 0.5] } },
      { x: [0, 4], y: [4, 0], mode: 'lines', name: 'b', line: { dash: 'dash' } }],
    { xaxis: { range: [0, 4] }, yaxis: { range: [0, 4] }, width: 500, height: 400, title: { text: 'a < b & "c"' } },
  )!;
  const pts = circles(svg);
  assert.equal(pts.length, 5);
  const dx = pts[1][0] - pts[0][0];
  const dy = pts[0][1] - pts[1][1];
  assert.ok(dx > 50 && dy > 50, `${dx} ${dy}`);
  pts.forEach(([x, y], i) => { assert.ok(Math.abs(x - pts[0][0] - i * dx) < 0.5, `x of point ${i}`); assert.ok(Math.abs(pts[0][1] - y - i * dy) < 0.5, `y of point ${i}`); });
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  assert.match(svg, /stroke-dasharray="9,9"/);
  assert.equal((svg.match(/<path d="M[\d.]+,[\d.]+V/g) ?? []).length, 5, 'one error bar per point');
  assert.match(svg, />a &lt; b &amp; &quot;c&quot;<\/text>/, 'text is escaped once in the SVG');
  assert.match(svg, />a<\/text>.*>b<\/text>/s, 'legend with both traces');
});

test('the static picture draws bars and heatmaps in plotly\'s colours (rasterised)', async () => {
  const bars = figureSvg([{ type: 'bar', x: ['low', 'high'], y: [0.25, 1] }], { yaxis: { range: [0, 1] }, width: 400, height: 300 })!;
  const [xl, xh] = [80 + (400 - 20 - 80) * 0.25, 80 + (400 - 20 - 80) * 0.75];
  const [top, bottom] = [25, 300 - 55];
  assert.ok(near(await pixel(bars, xh, top + 5), [0x1f, 0x77, 0xb4]), 'the full bar reaches the top');
  assert.ok(near(await pixel(bars, xl, bottom - 5), [0x1f, 0x77, 0xb4]), 'the short bar starts at 0');
  assert.ok(!near(await pixel(bars, xl, top + 5), [0x1f, 0x77, 0xb4]), 'and stops at a quarter');
  assert.ok(near(await pixel(bars, xl, bottom - (bottom - top) * 0.25 + 4), [0x1f, 0x77, 0xb4]));
  assert.ok(!near(await pixel(bars, xl, bottom - (bottom - top) * 0.25 - 4), [0x1f, 0x77, 0xb4]));
  const heat = figureSvg([{ type: 'heatmap', z: [[0, 10], [5, 10]], x: ['p', 'q'], y: ['r', 's'], colorscale: 'Blues' }], { width: 300, height: 300 })!;
  const cell = (i: number, j: number) => pixel(heat, 80 + (300 - 20 - 80) * (j + 0.5) / 2, 25 + (300 - 55 - 25) * (1.5 - i) / 2);
  assert.ok(near(await cell(0, 0), [5, 10, 172]), 'the smallest value takes the scale\'s first colour');
  assert.ok(near(await cell(0, 1), [220, 220, 220]), 'the largest its last');
  assert.ok(near(await cell(1, 0), [70, 100, 245], 12), 'the middle value its middle');
});

test('figures the renderer does not know get no picture (never a wrong one)', () => {
  assert.equal(figureSvg([{ type: 'pie', values: [1, 2] }]), null);
  assert.equal(figureSvg([{ type: 'bar', orientation: 'h', x: [1], y: ['a'] }]), null);
  assert.equal(figureSvg([{ x: Array.from({ length: 30000 }, (_, i) => i), y: Array.from({ length: 30000 }, (_, i) => i) }]), null);
  assert.equal(figureSvg([]), null);
  const bundle = plotBundle([{ type: 'pie', values: [1, 2] } as never], { title: { text: 'shares' } });
  const html = bundle['text/html'] as string;
  assert.doesNotMatch(html, /<img/);
  assert.match(html, /&lt;Plotly figure &quot;shares&quot;: pie&gt; — the interactive plot needs JavaScript/);
});

test('the bundle keeps plotly\'s MIME type and adds the picture and the hint to the HTML fallback', () => {
  const b = plotBundle([{ x: [1, 2], y: [3, 4], type: 'scatter' }], { title: { text: 'loss' } });
  assert.deepEqual(Object.keys(b).sort(), [PLOTLY_MIME, 'text/html', 'text/plain'].sort());
  const html = b['text/html'] as string;
  const img = /<img src="data:image\/svg\+xml;base64,([A-Za-z0-9+/=]+)"/.exec(html);
  assert.ok(img, 'an <img> with the SVG as a data URI (sanitizers keep it; inline <svg> they drop)');
  assert.match(Buffer.from(img![1], 'base64').toString(), /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  assert.ok(html.includes('File → Trust Notebook'));
  const hints = plotlyUrlHints(path.join(root, 'notebooks'));
  assert.equal(hints.fromNotebook, '../node_modules/plotly.js-dist-min/plotly.min.js');
  assert.equal(hints.fromRoots[0], 'node_modules/plotly.js-dist-min/plotly.min.js');
  assert.equal(hints.fromRoots[1], `${path.basename(root)}/node_modules/plotly.js-dist-min/plotly.min.js`);
  assert.ok(hints.fromRoots.length <= 4, 'at most three folder names above the kit go into a notebook');
});

/** A stand-in for Jupyter's server: a notebook page under `base` and, if `files`, the /files/ handler rooted at the kit. */
function fakeJupyter(base: string, pageHtml: string, files: boolean): Promise<{ url: string; requests: string[]; close: () => void }> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = decodeURIComponent(req.url ?? '/');
    requests.push(url);
    if (url === `${base}notebooks/notebooks/00-welcome.ipynb`) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><html><head><meta charset="utf-8"></head><body data-base-url="${base}" data-notebook-path="notebooks/00-welcome.ipynb"><div class="output">${pageHtml}</div></body></html>`);
      return;
    }
    const file = files && url.startsWith(`${base}files/`) ? path.join(root, url.slice(base.length + 'files/'.length)) : '';
    if (file && file.startsWith(root + path.sep) && fs.existsSync(file)) {
      res.writeHead(200, { 'content-type': 'application/javascript' });
      fs.createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const port = (server.address() as { port: number }).port;
    resolve({ url: `http://127.0.0.1:${port}${base}notebooks/notebooks/00-welcome.ipynb`, requests, close: () => server.close() });
  }));
}

async function withBrowser(fn: (browser: Browser) => Promise<void>): Promise<void> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'] });
  try { await fn(browser); } finally { await browser.close(); }
}

test('where scripts do not run (untrusted, static viewers) the picture and a readable hint show, no blank box', { timeout: 60_000, skip: noChromium }, async () => {
  const html = (plotBundle([{ x: [1, 2, 3], y: [2, 1, 3], type: 'scatter', name: 'loss' }], { title: { text: 'training' } })['text/html'] as string)
    .replace(/<script>[\s\S]*?<\/script>/g, ''); // what Notebook's and JupyterLab's sanitizer do to untrusted HTML
  await withBrowser(async (browser) => {
    const page = await browser.newPage();
    await page.setContent(`<div class="output">${html}</div>`);
    const size = await page.locator('.kit-plot img').evaluate((img: HTMLImageElement) => [img.naturalWidth, img.getBoundingClientRect().height]);
    assert.ok(size[0] === 700 && size[1] > 300, `the picture loads and has a height: ${size}`);
    const note = await page.locator('.kit-plot-note').innerText();
    assert.equal(note, NO_SCRIPT_NOTE);
    assert.doesNotMatch(await page.locator('.kit-plot').innerText(), /&lt;|&gt;|&quot;|&amp;/);
  });
});

test('after a reload (plotly.js not in the page) a figure loads it from Jupyter\'s file server, also under a hub\'s base URL', { timeout: 90_000, skip: noChromium }, async () => {
  const cwd = process.cwd();
  process.chdir(path.join(root, 'notebooks')); // the kernel's working directory is the notebook's folder
  let html: string;
  try {
    html = plotBundle([{ x: [1, 2, 3], y: [2, 1, 3], type: 'scatter' }], {}, { inlinePlotly: false })['text/html'] as string;
  } finally {
    process.chdir(cwd);
  }
  for (const base of ['/', '/user/alice/']) {
    const jupyter = await fakeJupyter(base, html, true);
    try {
      await withBrowser(async (browser) => {
        const page = await browser.newPage();
        const errors: string[] = [];
        page.on('pageerror', (e) => errors.push(e.message));
        await page.goto(jupyter.url);
        await page.waitForSelector('.kit-plot g.trace', { timeout: 60_000 });
        assert.equal(await page.locator('.kit-plot-static').count(), 0, 'the static picture and the hint go once plotly.js drew');
        assert.deepEqual(errors, []);
        const fetched = jupyter.requests.filter((r) => r.includes('plotly'));
        assert.deepEqual(fetched, [`${base}files/node_modules/plotly.js-dist-min/plotly.min.js`], 'first try: the path from the notebook\'s folder');
      });
    } finally {
      jupyter.close();
    }
  }
});

test('when plotly.js cannot be had, the hint says what to do, in plain text (no &lt; entities)', { timeout: 60_000, skip: noChromium }, async () => {
  const html = plotBundle([{ x: [1, 2], y: [1, 2], type: 'scatter' }], { title: { text: '"quoted" <title>' } }, { inlinePlotly: false })['text/html'] as string;
  const jupyter = await fakeJupyter('/', html, false);
  try {
    await withBrowser(async (browser) => {
      const page = await browser.newPage();
      await page.goto(jupyter.url);
      await page.waitForFunction(() => /could not be loaded/.test(document.querySelector('.kit-plot-note')?.textContent ?? ''), null, { timeout: 30_000 });
      assert.equal(await page.locator('.kit-plot-note').innerText(), NO_PLOTLY_NOTE);
      assert.equal(await page.locator('.kit-plot img').getAttribute('alt'), '<Plotly figure ""quoted" <title>": scatter>');
      assert.doesNotMatch(await page.locator('.kit-plot').innerText(), /&lt;|&quot;/);
    });
  } finally {
    jupyter.close();
  }
});
