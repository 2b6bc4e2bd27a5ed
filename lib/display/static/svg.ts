/**
 * A static SVG picture of a plotly figure, drawn from its data without a browser — shown where plotly.js cannot run
 * (an untrusted notebook, GitHub, nbviewer without scripts). It draws what the kit's figures use: scatter traces
 * (lines, markers, text, dashes, error bars), bars (grouped), heatmaps, log and category axes, a grid of subplots,
 * line/rect shapes, text annotations, a legend and titles, in plotly's default colours. For anything else it returns
 * null and the figure is shown without a picture.
 */
import { Scale, buildScale } from './axes';

type Obj = Record<string, any>;

const COLORWAY = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const FONT = 'font-family="Open Sans, verdana, arial, sans-serif"';
const DASH: Record<string, string> = { dot: '3,3', dash: '9,9', longdash: '15,15', dashdot: '9,3,3,3', longdashdot: '15,6,3,6' };
const SCALES: Record<string, Array<[number, string]>> = {
  Blues: [[0, 'rgb(5,10,172)'], [0.35, 'rgb(40,60,190)'], [0.5, 'rgb(70,100,245)'], [0.6, 'rgb(90,120,245)'], [0.7, 'rgb(106,137,247)'], [1, 'rgb(220,220,220)']],
  Reds: [[0, 'rgb(220,220,220)'], [0.2, 'rgb(245,195,157)'], [0.4, 'rgb(245,160,105)'], [1, 'rgb(178,10,28)']],
  Greys: [[0, 'rgb(0,0,0)'], [1, 'rgb(255,255,255)']],
  Viridis: [[0, '#440154'], [0.25, '#3b528b'], [0.5, '#21918c'], [0.75, '#5ec962'], [1, '#fde725']],
};
/** Figures with more points than this get no picture (the SVG would outweigh its use). */
const MAX_POINTS = 20000;

const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
const r1 = (n: number) => Math.round(n * 10) / 10;
/** Plotly's text may hold a little HTML (<br>, <b>): drawn as plain text. */
const plain = (s: unknown) => String(s ?? '').replace(/<br\s*\/?>/gi, ' ').replace(/<[^>]+>/g, '');
const titleOf = (t: unknown) => plain(typeof t === 'string' ? t : (t as Obj | undefined)?.text ?? '');
const text = (x: number, y: number, s: string, attrs = '') => `<text x="${r1(x)}" y="${r1(y)}" ${attrs}>${esc(s)}</text>`;
const textWidth = (s: string, size: number) => s.length * size * 0.58;

const traceType = (t: Obj) => (t.type ?? 'scatter') as string;
const axisKey = (ref: unknown, letter: 'x' | 'y') => `${letter}axis${typeof ref === 'string' && ref.length > 1 ? ref.slice(1) : ''}`;
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : v && typeof v === 'object' && ArrayBuffer.isView(v) ? Array.from(v as unknown as ArrayLike<unknown>) : []);
const colorOf = (t: Obj, i: number) => (typeof t.line?.color === 'string' ? t.line.color : typeof t.marker?.color === 'string' ? t.marker.color : COLORWAY[i % COLORWAY.length]);

interface Panel { xKey: string; yKey: string; x: Scale; y: Scale; box: { x0: number; x1: number; y0: number; y1: number } }

/** Where subplot `key` (xaxis2, yaxis …) sits in the plot area, as a fraction [from, to] (plotly's domain or layout.grid). */
function domainOf(layout: Obj, key: string): [number, number] {
  const given = layout[key]?.domain;
  if (Array.isArray(given) && given.length === 2) return [Number(given[0]), Number(given[1])];
  const n = Number(key.slice(5) || 1);
  const grid = layout.grid as Obj | undefined;
  const cols = Number(grid?.columns ?? 1);
  const rows = Number(grid?.rows ?? 1);
  if (!grid || cols * rows <= 1) return [0, 1];
  const isX = key.startsWith('x');
  const count = isX ? cols : rows;
  if (count <= 1) return [0, 1];
  const index = isX ? (n - 1) % cols : rows - 1 - Math.floor((n - 1) / cols);
  const gap = (isX ? Number(grid.xgap ?? 0.2) : Number(grid.ygap ?? 0.3)) / count;
  const size = 1 / count;
  return [index * size + gap / 2, (index + 1) * size - gap / 2];
}

function valuesOn(data: Obj[], layout: Obj, key: string, letter: 'x' | 'y'): unknown[] {
  const out: unknown[] = [];
  for (const t of data) {
    if (axisKey(t[`${letter}axis`], letter) !== key) continue;
    const vs = traceType(t) === 'heatmap' && !t[letter] ? arr(letter === 'y' ? t.z : arr(t.z)[0]).map((_, i) => String(i)) : arr(t[letter]);
    out.push(...vs);
    const err = letter === 'y' ? t.error_y : undefined;
    if (err && err.visible !== false) arr(err.array).forEach((e, i) => { const v = Number(vs[i]); out.push(v + Number(e), v - Number(arr(err.arrayminus)[i] ?? e)); });
  }
  for (const s of [...arr(layout.shapes), ...arr(layout.annotations)] as Obj[]) {
    if (axisKey(s[`${letter}ref`] ?? letter, letter) !== key) continue;
    out.push(...(s[`${letter}0`] !== undefined ? [s[`${letter}0`], s[`${letter}1`]] : [s[letter]]));
  }
  return out;
}

function buildPanels(data: Obj[], layout: Obj, area: Panel['box']): Panel[] {
  const pairs = [...new Set(data.map((t) => `${axisKey(t.xaxis, 'x')} ${axisKey(t.yaxis, 'y')}`))].map((p) => p.split(' '));
  return pairs.map(([xKey, yKey]) => {
    const [dx0, dx1] = domainOf(layout, xKey);
    const [dy0, dy1] = domainOf(layout, yKey);
    const box = { x0: area.x0 + dx0 * (area.x1 - area.x0), x1: area.x0 + dx1 * (area.x1 - area.x0), y0: area.y1 - dy1 * (area.y1 - area.y0), y1: area.y1 - dy0 * (area.y1 - area.y0) };
    const onPanel = data.filter((t) => axisKey(t.xaxis, 'x') === xKey && axisKey(t.yaxis, 'y') === yKey);
    const bars = onPanel.some((t) => traceType(t) === 'bar');
    const heat = onPanel.some((t) => traceType(t) === 'heatmap');
    const cat = (v: unknown[]) => (heat ? v.map(String) : v);
    return {
      xKey, yKey, box,
      x: buildScale({ axis: { ...(heat ? { type: 'category' } : {}), ...layout[xKey] }, values: cat(valuesOn(data, layout, xKey, 'x')), px: [box.x0, box.x1] }),
      y: buildScale({ axis: { ...(heat ? { type: 'category' } : {}), ...layout[yKey] }, values: cat(valuesOn(data, layout, yKey, 'y')), px: [box.y1, box.y0], includeZero: bars }),
    };
  });
}

function drawAxes(p: Panel, layout: Obj): string[] {
  const { x0, x1, y0, y1 } = p.box;
  const out = [`<rect x="${r1(x0)}" y="${r1(y0)}" width="${r1(x1 - x0)}" height="${r1(y1 - y0)}" fill="#e5ecf6"/>`];
  for (const t of p.x.ticks) {
    if (p.x.type !== 'category') out.push(`<line x1="${r1(t.px)}" x2="${r1(t.px)}" y1="${r1(y0)}" y2="${r1(y1)}" stroke="#fff"/>`);
    out.push(text(t.px, y1 + 16, t.label, `${FONT} font-size="11" fill="#444" text-anchor="middle"`));
  }
  for (const t of p.y.ticks) {
    if (p.y.type !== 'category') out.push(`<line x1="${r1(x0)}" x2="${r1(x1)}" y1="${r1(t.px)}" y2="${r1(t.px)}" stroke="#fff"/>`);
    out.push(text(x0 - 6, t.px + 4, t.label, `${FONT} font-size="11" fill="#444" text-anchor="end"`));
  }
  const xTitle = titleOf(layout[p.xKey]?.title);
  const yTitle = titleOf(layout[p.yKey]?.title);
  if (xTitle) out.push(text((x0 + x1) / 2, y1 + 36, xTitle, `${FONT} font-size="13" fill="#444" text-anchor="middle"`));
  if (yTitle) {
    const labelWidth = Math.max(0, ...p.y.ticks.map((t) => textWidth(t.label, 11)));
    const cx = x0 - labelWidth - 18;
    out.push(`<text x="${r1(cx)}" y="${r1((y0 + y1) / 2)}" transform="rotate(-90 ${r1(cx)} ${r1((y0 + y1) / 2)})" ${FONT} font-size="13" fill="#444" text-anchor="middle">${esc(yTitle)}</text>`);
  }
  return out;
}

function scaleColor(scale: unknown, t: number): string {
  const stops = Array.isArray(scale) ? (scale as Array<[number, string]>) : SCALES[String(scale)] ?? SCALES.Reds;
  const rgb = (c: string) => (c.startsWith('#') ? [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16)) : (c.match(/[\d.]+/g) ?? ['0', '0', '0']).slice(0, 3).map(Number));
  const k = Math.max(0, stops.findIndex(([s]) => s >= t) - 1);
  const [s0, c0] = stops[k];
  const [s1, c1] = stops[Math.min(k + 1, stops.length - 1)];
  const f = s1 > s0 ? (t - s0) / (s1 - s0) : 0;
  const [a, b] = [rgb(c0), rgb(c1)];
  return `rgb(${a.map((v, i) => Math.round(v + (b[i] - v) * Math.min(1, Math.max(0, f)))).join(',')})`;
}

function drawHeatmap(t: Obj, p: Panel): string[] {
  const z = arr(t.z).map((row) => arr(row).map(Number));
  const finite = z.flat().filter(Number.isFinite);
  const [lo, hi] = [Number(t.zmin ?? Math.min(...finite)), Number(t.zmax ?? Math.max(...finite))];
  const xs = t.x ? arr(t.x) : arr(z[0]).map((_, i) => String(i));
  const ys = t.y ? arr(t.y) : z.map((_, i) => String(i));
  const out: string[] = [];
  z.forEach((row, i) => row.forEach((v, j) => {
    const cx = p.x.toPx(xs[j]);
    const cy = p.y.toPx(ys[i]);
    if (cx == null || cy == null || !Number.isFinite(v)) return;
    const f = hi > lo ? (v - lo) / (hi - lo) : 0.5;
    const color = scaleColor(t.colorscale, t.reversescale ? 1 - f : f);
    out.push(`<rect x="${r1(cx - p.x.band / 2)}" y="${r1(cy - p.y.band / 2)}" width="${r1(p.x.band)}" height="${r1(p.y.band)}" fill="${color}"/>`);
  }));
  return out;
}

function drawBars(t: Obj, p: Panel, color: string, slot: number, slots: number): string[] {
  const xs = arr(t.x);
  const ys = arr(t.y);
  const labels = arr(t.text);
  const px = xs.map((v) => p.x.toPx(v)).filter((v): v is number => v != null).sort((a, b) => a - b);
  const gaps = px.slice(1).map((v, i) => v - px[i]).filter((d) => d > 0);
  const band = p.x.band || (gaps.length ? Math.min(...gaps) : (p.box.x1 - p.box.x0) / 4);
  const width = (band * 0.8) / slots;
  const base = p.y.toPx(0) ?? p.box.y1;
  const out: string[] = [];
  xs.forEach((xv, i) => {
    const cx = p.x.toPx(xv);
    const cy = p.y.toPx(ys[i]);
    if (cx == null || cy == null) return;
    const left = cx - (band * 0.8) / 2 + slot * width;
    const [top, h] = [Math.min(cy, base), Math.abs(base - cy)];
    out.push(`<rect x="${r1(left)}" y="${r1(top)}" width="${r1(width)}" height="${r1(h)}" fill="${color}"/>`);
    if (labels[i] != null) {
      const inside = t.textposition !== 'outside' && h > 20;
      out.push(text(left + width / 2, inside ? top + 15 : top - 4, plain(labels[i]), `${FONT} font-size="12" fill="${inside ? '#fff' : '#444'}" text-anchor="middle"`));
    }
  });
  return out;
}

function drawScatter(t: Obj, p: Panel, color: string): string[] {
  const xs = arr(t.x).length ? arr(t.x) : arr(t.y).map((_, i) => i);
  const pts = xs.map((xv, i) => [p.x.toPx(xv), p.y.toPx(arr(t.y)[i])] as const);
  const mode = String(t.mode ?? (pts.length < 20 ? 'lines+markers' : 'lines'));
  const out: string[] = [];
  const err = t.error_y;
  if (err && err.visible !== false) {
    arr(err.array).forEach((e, i) => {
      const y = Number(arr(t.y)[i]);
      const [cx, top, bottom] = [pts[i]?.[0], p.y.toPx(y + Number(e)), p.y.toPx(y - Number(arr(err.arrayminus)[i] ?? e))];
      if (cx == null || top == null || bottom == null) return;
      out.push(`<path d="M${r1(cx)},${r1(top)}V${r1(bottom)}M${r1(cx - 4)},${r1(top)}h8M${r1(cx - 4)},${r1(bottom)}h8" stroke="${color}" stroke-width="1.5" fill="none"/>`);
    });
  }
  if (mode.includes('lines')) {
    const segments: string[][] = [[]];
    for (const [x, y] of pts) {
      if (x == null || y == null) segments.push([]);
      else segments[segments.length - 1].push(`${r1(x)},${r1(y)}`);
    }
    const width = Number(t.line?.width ?? 2);
    const dash = DASH[String(t.line?.dash)] ? ` stroke-dasharray="${DASH[String(t.line.dash)]}"` : '';
    for (const s of segments.filter((s) => s.length > 1)) out.push(`<polyline points="${s.join(' ')}" fill="none" stroke="${color}" stroke-width="${width}"${dash}/>`);
  }
  if (mode.includes('markers')) {
    const size = Number(t.marker?.size ?? 6);
    const colors = arr(t.marker?.color);
    const opacity = t.marker?.opacity != null ? ` fill-opacity="${Number(t.marker.opacity)}"` : '';
    pts.forEach(([x, y], i) => {
      if (x != null && y != null) out.push(`<circle cx="${r1(x)}" cy="${r1(y)}" r="${size / 2}" fill="${typeof colors[i] === 'string' ? colors[i] : color}"${opacity}/>`);
    });
  }
  if (mode.includes('text')) {
    const labels = arr(t.text);
    const below = String(t.textposition ?? '').startsWith('bottom');
    pts.forEach(([x, y], i) => {
      if (x != null && y != null && labels[i] != null) out.push(text(x, below ? y + 16 : y - 8, plain(labels[i]), `${FONT} font-size="11" fill="#444" text-anchor="middle"`));
    });
  }
  return out;
}

/** Position on a shape/annotation reference: a data axis of some panel, or 'paper' (the whole plot area). */
function refPx(ref: unknown, letter: 'x' | 'y', v: unknown, panels: Panel[], area: Panel['box']): number | null {
  if (ref === 'paper') return letter === 'x' ? area.x0 + Number(v) * (area.x1 - area.x0) : area.y1 - Number(v) * (area.y1 - area.y0);
  const key = axisKey(ref ?? letter, letter);
  const p = panels.find((q) => (letter === 'x' ? q.xKey : q.yKey) === key);
  return p ? p[letter].toPx(v) : null;
}

function drawDecorations(layout: Obj, panels: Panel[], area: Panel['box']): string[] {
  const out: string[] = [];
  for (const s of arr(layout.shapes) as Obj[]) {
    const [x0, x1] = [refPx(s.xref, 'x', s.x0, panels, area), refPx(s.xref, 'x', s.x1, panels, area)];
    const [y0, y1] = [refPx(s.yref, 'y', s.y0, panels, area), refPx(s.yref, 'y', s.y1, panels, area)];
    if (x0 == null || x1 == null || y0 == null || y1 == null) continue;
    const stroke = `stroke="${s.line?.color ?? '#444'}" stroke-width="${Number(s.line?.width ?? 2)}"${DASH[String(s.line?.dash)] ? ` stroke-dasharray="${DASH[String(s.line.dash)]}"` : ''}`;
    if (s.type === 'rect') out.push(`<rect x="${r1(Math.min(x0, x1))}" y="${r1(Math.min(y0, y1))}" width="${r1(Math.abs(x1 - x0))}" height="${r1(Math.abs(y1 - y0))}" fill="${s.fillcolor ?? 'none'}" fill-opacity="${Number(s.opacity ?? 1)}" ${stroke}/>`);
    else out.push(`<line x1="${r1(x0)}" y1="${r1(y0)}" x2="${r1(x1)}" y2="${r1(y1)}" ${stroke}/>`);
  }
  for (const a of arr(layout.annotations) as Obj[]) {
    const [x, y] = [refPx(a.xref, 'x', a.x, panels, area), refPx(a.yref, 'y', a.y, panels, area)];
    if (x == null || y == null) continue;
    out.push(text(x, y + 4, plain(a.text), `${FONT} font-size="${Number(a.font?.size ?? 12)}" fill="${a.font?.color ?? '#444'}" text-anchor="middle"`));
  }
  return out;
}

function legendEntries(data: Obj[], layout: Obj): Array<{ name: string; color: string; kind: string }> {
  const named = data.map((t, i) => ({ t, i })).filter(({ t }) => t.showlegend !== false && t.name != null && traceType(t) !== 'heatmap');
  const show = layout.showlegend ?? named.length > 1;
  return show ? named.map(({ t, i }) => ({ name: plain(t.name), color: colorOf(t, i), kind: traceType(t) === 'bar' ? 'bar' : String(t.mode ?? 'lines') })) : [];
}

function drawLegend(entries: ReturnType<typeof legendEntries>, x: number, y: number, horizontal: boolean): string[] {
  const out: string[] = [];
  let [cx, cy] = [x, y];
  for (const e of entries) {
    const swatch = e.kind === 'bar' || !e.kind.includes('lines')
      ? (e.kind === 'bar' ? `<rect x="${r1(cx)}" y="${r1(cy - 6)}" width="20" height="10" fill="${e.color}"/>` : `<circle cx="${r1(cx + 10)}" cy="${r1(cy - 1)}" r="3" fill="${e.color}"/>`)
      : `<line x1="${r1(cx)}" x2="${r1(cx + 20)}" y1="${r1(cy - 1)}" y2="${r1(cy - 1)}" stroke="${e.color}" stroke-width="2"/>`;
    out.push(swatch, text(cx + 26, cy + 3, e.name, `${FONT} font-size="12" fill="#444"`));
    if (horizontal) cx += 40 + textWidth(e.name, 12);
    else cy += 20;
  }
  return out;
}

/** The SVG picture of a plotly figure, or null when it uses something this renderer does not draw. */
export function figureSvg(data: Obj[], layout: Obj = {}): string | null {
  if (!data.length || data.some((t) => !['scatter', 'scattergl', 'bar', 'heatmap'].includes(traceType(t)) || (t.orientation ?? 'v') !== 'v')) return null;
  if (data.reduce((n, t) => n + arr(t.y).length + arr(t.z).flatMap((r) => arr(r)).length, 0) > MAX_POINTS) return null;
  const width = Number(layout.width ?? 700);
  const height = Number(layout.height ?? 450);
  const title = titleOf(layout.title);
  const entries = legendEntries(data, layout);
  const horizontal = layout.legend?.orientation === 'h';
  const legendWidth = entries.length && !horizontal ? 40 + Math.max(...entries.map((e) => textWidth(e.name, 12))) : 0;
  const area = { x0: 80, x1: width - 20 - legendWidth, y0: title ? 60 : 25, y1: height - (horizontal && entries.length ? 85 : 55) };
  const panels = buildPanels(data, layout, area);
  const body: string[] = [];
  for (const p of panels) body.push(...drawAxes(p, layout));
  // Traces are clipped to their subplot, as plotly clips them (points outside a given range are not drawn).
  body.push(`<defs>${panels.map((p, k) => `<clipPath id="clip${k}"><rect x="${r1(p.box.x0)}" y="${r1(p.box.y0)}" width="${r1(p.box.x1 - p.box.x0)}" height="${r1(p.box.y1 - p.box.y0)}"/></clipPath>`).join('')}</defs>`);
  const barTraces = data.filter((t) => traceType(t) === 'bar');
  data.forEach((t, i) => {
    const k = panels.findIndex((q) => q.xKey === axisKey(t.xaxis, 'x') && q.yKey === axisKey(t.yaxis, 'y'));
    const p = panels[k];
    const kind = traceType(t);
    const marks = kind === 'heatmap' ? drawHeatmap(t, p)
      : kind === 'bar' ? drawBars(t, p, colorOf(t, i), barTraces.indexOf(t), barTraces.length)
        : drawScatter(t, p, colorOf(t, i));
    body.push(`<g clip-path="url(#clip${k})">${marks.join('')}</g>`);
  });
  body.push(...drawDecorations(layout, panels, area));
  if (title) body.push(text(width / 2, 30, title, `${FONT} font-size="17" fill="#444" text-anchor="middle"`));
  body.push(...drawLegend(entries, horizontal ? area.x0 : area.x1 + 15, horizontal ? height - 20 : area.y0 + 10, horizontal));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"><rect width="100%" height="100%" fill="#fff"/>${body.join('')}</svg>`;
}
