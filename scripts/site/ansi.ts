/**
 * ANSI escape sequences (SGR colours, bold) in stream text → HTML spans; other escapes are dropped.
 */
const COLORS = ['#000', '#c91b00', '#00a600', '#c7a000', '#0225c7', '#c930c7', '#00a6b2', '#bfbfbf'];
const BRIGHT = ['#686868', '#ff6e67', '#1fbd2c', '#c2a000', '#6871ff', '#ff77ff', '#20c5c6', '#fff'];

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
}

/** Convert text with ANSI SGR codes into escaped HTML with coloured spans. */
export function ansiToHtml(text: string): string {
  let out = '';
  let fg: string | null = null;
  let bg: string | null = null;
  let bold = false;
  let open = false;
  const re = /\x1b\[([0-9;]*)([A-Za-z])/g;
  let last = 0;
  const emit = (s: string) => {
    if (!s) return;
    const style = [fg ? `color:${fg}` : '', bg ? `background:${bg}` : '', bold ? 'font-weight:bold' : ''].filter(Boolean).join(';');
    out += style ? `<span style="${style}">${escapeHtml(s)}</span>` : escapeHtml(s);
  };
  for (let m = re.exec(text); m; m = re.exec(text)) {
    emit(text.slice(last, m.index));
    last = re.lastIndex;
    if (m[2] !== 'm') continue;
    const codes = m[1] === '' ? [0] : m[1].split(';').map(Number);
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c === 0) { fg = null; bg = null; bold = false; }
      else if (c === 1) bold = true;
      else if (c === 22) bold = false;
      else if (c >= 30 && c <= 37) fg = COLORS[c - 30];
      else if (c >= 90 && c <= 97) fg = BRIGHT[c - 90];
      else if (c === 39) fg = null;
      else if (c >= 40 && c <= 47) bg = COLORS[c - 40];
      else if (c >= 100 && c <= 107) bg = BRIGHT[c - 100];
      else if (c === 49) bg = null;
      else if ((c === 38 || c === 48) && codes[i + 1] === 2) {
        const rgb = `rgb(${codes[i + 2]},${codes[i + 3]},${codes[i + 4]})`;
        if (c === 38) fg = rgb; else bg = rgb;
        i += 4;
      } else if ((c === 38 || c === 48) && codes[i + 1] === 5) i += 2;
    }
  }
  emit(text.slice(last));
  void open;
  return out.replace(/\x1b[^[]?/g, '');
}
