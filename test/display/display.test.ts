// lib/display: each helper sends the right MIME bundle to a fake display channel (as tslab's would receive it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { interruptible } from '../../lib/interrupt';
import { requestInterrupt } from '../../lib/testing';
import sharp from 'sharp';
import {
  DisplayChannel, MimeBundle, PLOTLY_MIME, ProgressBar, formatProgress, getDisplayChannel, setDisplayChannel,
  showImageGrid, showPlot, showTable, textChannel, imageGridPng,
} from '../../lib/display';
import { resetPlotlyInline } from '../../lib/display/plot';

interface Sent { bundle: MimeBundle; displayId?: string; update?: boolean }

function fakeChannel(): DisplayChannel & { sent: Sent[] } {
  const sent: Sent[] = [];
  return { rich: true, sent, display: (bundle, opts = {}) => { sent.push({ bundle, displayId: opts.displayId, update: opts.update }); } };
}

function withChannel<T>(ch: DisplayChannel, fn: () => T): T {
  const prev = setDisplayChannel(ch);
  try { return fn(); } finally { setDisplayChannel(prev); }
}

test('outside a kernel the text channel is used', () => {
  assert.equal(getDisplayChannel(), textChannel);
});

test('showPlot sends plotly JSON + an HTML fallback (plotly.js inlined once per session) + text', () => {
  resetPlotlyInline();
  const ch = fakeChannel();
  withChannel(ch, () => {
    showPlot([{ x: [1, 2], y: [3, 4], type: 'scatter', name: 'loss' }], { title: { text: 'training' } });
    showPlot([{ x: [1], y: [2], type: 'bar' }]);
  });
  assert.equal(ch.sent.length, 2);
  const [a, b] = ch.sent.map((s) => s.bundle);
  assert.deepEqual(Object.keys(a).sort(), [PLOTLY_MIME, 'text/html', 'text/plain'].sort());
  assert.deepEqual(a[PLOTLY_MIME], { data: [{ x: [1, 2], y: [3, 4], type: 'scatter', name: 'loss' }], layout: { title: { text: 'training' } }, config: {} });
  assert.equal(a['text/plain'], '<Plotly figure "training": scatter "loss">');
  const htmlA = a['text/html'] as string;
  const htmlB = b['text/html'] as string;
  assert.ok(htmlA.length > 1_000_000 && htmlA.includes('window.Plotly'), 'first figure carries plotly.js');
  assert.ok(htmlB.length < 20_000, "later figures do not (a static picture and the loader only)");
  assert.match(htmlB, /Plotly\.newPlot/);
  assert.equal(htmlA.split('</script>').length - 1, 2, 'no premature </script> inside the inlined library');
  assert.ok(!/https?:\/\//i.test(htmlA.slice(htmlA.lastIndexOf('<div')) + htmlB), 'no external URL outside the inlined library');
});

test('showTable renders records and DataFrame-like objects as HTML + aligned text', () => {
  const ch = fakeChannel();
  withChannel(ch, () => {
    showTable([{ strategy: 'freeze', acc: 0.543219 }, { strategy: '<b>', acc: 1, extra: 'x' }]);
    showTable({ columns: ['a', 'b'], values: [[1, 2.5], [3, 4]], index: ['r0', 'r1'] }, { caption: 'df' });
  });
  const html = ch.sent[0].bundle['text/html'] as string;
  assert.match(html, /<th>strategy<\/th><th>acc<\/th><th>extra<\/th>/);
  assert.match(html, /<td style="text-align:right">0\.5432<\/td>/);
  assert.match(html, /&lt;b&gt;/, 'HTML escaped');
  assert.equal(ch.sent[0].bundle['text/plain'], 'strategy     acc  extra\nfreeze    0.5432\n<b>            1  x');
  const df = ch.sent[1].bundle;
  assert.match(df['text/html'] as string, /<caption>df<\/caption>[\s\S]*<tr><th>r0<\/th><td style="text-align:right">1<\/td><td style="text-align:right">2\.5<\/td><\/tr>/);
  assert.equal(df['text/plain'], 'df\n    a    b\nr0  1  2.5\nr1  3    4');
});

test('showImageGrid encodes one PNG: tiles scaled, grey/RGB, red border on highlighted tiles', async () => {
  const ch = fakeChannel();
  const grey = new Float32Array(4 * 4).fill(1); // white
  const rgb = new Uint8Array(4 * 4 * 3);
  for (let i = 0; i < 16; i++) rgb.set([0, 0, 255], i * 3); // blue
  const prev = setDisplayChannel(ch);
  try {
    await showImageGrid([{ data: grey, shape: [4, 4, 1] }, { data: rgb, shape: [4, 4, 3] }], { cols: 2, scale: 5, highlight: [false, true] });
  } finally { setDisplayChannel(prev); }
  const b = ch.sent[0].bundle;
  assert.equal(b['text/plain'], '<image grid: 2 images of [4,4,1], 1 highlighted>');
  const png = Buffer.from(b['image/png'] as string, 'base64');
  const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
  const cell = 4 * 5 + 2 * (3 + 4); // tile + 2 × (border + padding)
  assert.equal(info.width, 2 * cell);
  assert.equal(info.height, cell);
  const px = (x: number, y: number) => Array.from(data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3));
  assert.deepEqual(px(7 + 10, 7 + 10), [255, 255, 255], 'grey 1.0 → white');
  assert.deepEqual(px(cell + 7 + 10, 7 + 10), [0, 0, 255], 'RGB tile');
  assert.deepEqual(px(cell + 5, 15), [220, 30, 30], 'red border on the highlighted tile');
  assert.deepEqual(px(5, 15), [255, 255, 255], 'no border on the other');
  await assert.rejects(imageGridPng([{ data: new Float32Array(5), shape: [2, 2, 1] }]), /image 0 has 5 values, expected 2×2×1 = 4/);
});

test('ProgressBar updates one display in place, throttled, with rate, ETA and fields', () => {
  const ch = fakeChannel();
  let now = 0;
  const bar = new ProgressBar({ total: 100, label: 'epoch 1', channel: ch, now: () => now, unit: 'img' });
  now = 1000; bar.update(10, { loss: 0.91234 });
  now = 1100; bar.update(20, { loss: 0.8 });   // throttled (100 ms < 250 ms)
  now = 1200; bar.update(30, { loss: 0.7 });   // throttled
  now = 2000; bar.update(50, { acc: 0.5 });
  now = 4000; bar.update(100);                  // the end is always drawn
  bar.close();
  assert.equal(ch.sent.length, 3);
  assert.deepEqual(ch.sent.map((s) => s.update), [false, true, true]);
  assert.ok(ch.sent.every((s) => s.displayId === ch.sent[0].displayId && s.displayId));
  assert.equal(ch.sent[0].bundle['text/plain'], 'epoch 1 ██░░░░░░░░░░░░░░░░░░ 10/100 10% · 1s · 10 img/s · ETA 9s · loss 0.9123');
  assert.equal(ch.sent[1].bundle['text/plain'], 'epoch 1 ██████████░░░░░░░░░░ 50/100 50% · 2s · 25 img/s · ETA 2s · loss 0.7 · acc 0.5');
  assert.match(ch.sent[2].bundle['text/plain'] as string, /100\/100 100% · 4s · 25 img\/s · done/);
  assert.match(ch.sent[2].bundle['text/html'] as string, /<progress value="100" max="100"/);
  assert.equal(formatProgress({ label: '', done: 0, total: 5, elapsedMs: 0, fields: {}, unit: 'it' }), '░░░░░░░░░░░░░░░░░░░░ 0/5 0% · 0s · 0.00 it/s · ETA ?');
});

test('ProgressBar on a terminal redraws one line with \\r', () => {
  let out = '';
  const stream = { write: (s: string) => { out += s; return true; } } as unknown as NodeJS.WritableStream;
  let now = 0;
  const bar = new ProgressBar({ total: 2, channel: textChannel, stream, now: () => now });
  now = 500; bar.update(1);
  now = 1000; bar.update(2);
  bar.close();
  const lines = out.split('\r\x1b[K').filter(Boolean);
  assert.equal(lines.length, 2);
  assert.match(lines[1], /2\/2 100% · 1s · 2.00 it\/s · done\n$/);
});

test('showTable takes a real danfo DataFrame (index column) and matches the records rendering', async () => {
  const dfd = await import('danfojs-node');
  const df = new dfd.DataFrame({ strategy: ['freeze', 'fine-tune'], acc: [0.54321, 0.51] });
  const ch = fakeChannel();
  withChannel(ch, () => {
    showTable(df);
    showTable([{ strategy: 'freeze', acc: 0.54321 }, { strategy: 'fine-tune', acc: 0.51 }], { index: true });
  });
  assert.equal(ch.sent[0].bundle['text/plain'], '   strategy      acc\n0  freeze     0.5432\n1  fine-tune    0.51');
  assert.deepEqual(ch.sent[0].bundle, ch.sent[1].bundle);
});

test('showClaims: an HTML table with the data-claims marker, verdict cells, and a text/plain version; bad rows are refused', async () => {
  const { claimsBundle, CLAIMS_TEXT_MARKER } = await import('../../lib/display/claims');
  const b = claimsBundle([
    { claim: 'freezing beats scratch <m = 10>', evidence: 'freeze 0.72 ± 0.01 vs scratch 0.27 ± 0.02', seeds: 3, verdict: 'holds', note: 'difference +0.45 vs 2·SE 0.03' },
    { claim: 'the grey source hurts', evidence: 'one run', seeds: 1, verdict: 'inconclusive' },
  ]);
  const html = b['text/html'] as string;
  assert.match(html, /^<table data-claims /);
  assert.match(html, /&lt;m = 10&gt;/);
  assert.equal((html.match(/data-verdict="/g) ?? []).length, 2);
  assert.match(html, /data-verdict="inconclusive"/);
  const text = b['text/plain'] as string;
  assert.ok(text.startsWith(CLAIMS_TEXT_MARKER));
  assert.match(text, /1\. \[holds\] freezing beats scratch/);
  assert.match(text, /2\. \[inconclusive\] the grey source hurts\n {3}one run; 1 seed\(s\)/);
  assert.throws(() => claimsBundle([]), /no claims/);
  assert.throws(() => claimsBundle([{ claim: 'x', evidence: 'y', seeds: 3, verdict: 'maybe' as 'holds' }]), /claim 0 is not/);
});

// Bug (seen in test/scripts/interrupt.test.ts under load): after Stop, the stopped loop's `finally` closed its bar and
// drew the last state — an update arriving after tslab had already ended the cell. A bar draws nothing while a Stop is
// being handled.
test('ProgressBar draws nothing once an interrupt has arrived (the cell has already ended)', async () => {
  const ch = fakeChannel();
  let now = 0;
  await interruptible('test loop', () => 'here', async () => {
    const bar = new ProgressBar({ total: 10, label: 'steps', channel: ch, now: () => now });
    now = 1000; bar.update(1);
    requestInterrupt();
    now = 2000; bar.update(2);
    bar.close();
  });
  assert.equal(ch.sent.length, 1, 'only the draw before the interrupt');
  // kit.train closes its bar after the interruptible part has ended: still no draw
  const outer = new ProgressBar({ total: 10, label: 'train', channel: ch, now: () => now });
  now = 2500; outer.update(1);
  await interruptible('test loop', () => 'here', async () => requestInterrupt());
  now = 3500; outer.update(2);
  outer.close();
  assert.equal(ch.sent.length, 2, 'the stopped loop\'s bar draws nothing after the interrupt, also when closed later');
  const after = new ProgressBar({ total: 2, label: 'next cell', channel: ch, now: () => now });
  now = 4000; after.update(2);
  assert.equal(ch.sent.length, 3, 'the next loop draws again');
});
