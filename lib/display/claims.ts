/**
 * The "What this run showed" table every notebook ends with: one row per claim — claim, evidence, seeds, verdict —
 * as HTML carrying the stable marker `<table data-claims>` (tools find it there) and as text/plain.
 */
import { MimeBundle, escapeHtml, getDisplayChannel } from './channel';

/** A claim as the table shows it (lib/stats.ts builds these by the seed/spread rule). */
export interface ClaimRow {
  claim: string;
  evidence: string;
  seeds: number;
  verdict: 'holds' | 'does not hold' | 'inconclusive';
  note?: string;
}

const VERDICT_COLOR: Record<ClaimRow['verdict'], string> = { holds: '#1a7f37', 'does not hold': '#cf222e', inconclusive: '#9a6700' };

/** Marker line that starts the text/plain rendering (tools look for it in outputs). */
export const CLAIMS_TEXT_MARKER = 'What this run showed';

/** The MIME bundle of a claims table. */
export function claimsBundle(claims: ClaimRow[], opts: { caption?: string } = {}): MimeBundle {
  if (!Array.isArray(claims) || claims.length === 0) throw new Error('showClaims: no claims given; pass an array of { claim, evidence, seeds, verdict }');
  claims.forEach((c, i) => {
    if (!(c && typeof c.claim === 'string' && typeof c.evidence === 'string' && Number.isInteger(c.seeds) && c.verdict in VERDICT_COLOR)) {
      throw new Error(`showClaims: claim ${i} is not { claim, evidence, seeds, verdict: holds | does not hold | inconclusive }: ${JSON.stringify(c)}`);
    }
  });
  const caption = opts.caption ?? CLAIMS_TEXT_MARKER;
  const rows = claims
    .map(
      (c) =>
        `<tr><td>${escapeHtml(c.claim)}</td><td>${escapeHtml(c.evidence)}${c.note ? `<br><small>${escapeHtml(c.note)}</small>` : ''}</td>` +
        `<td style="text-align:right">${c.seeds}</td><td data-verdict="${c.verdict}" style="color:${VERDICT_COLOR[c.verdict]};font-weight:bold">${c.verdict}</td></tr>`,
    )
    .join('\n');
  const html =
    `<table data-claims class="kit-table kit-claims"><caption>${escapeHtml(caption)}</caption>\n` +
    `<thead><tr><th>claim</th><th>evidence (mean ± std over seeds)</th><th>seeds</th><th>verdict</th></tr></thead>\n<tbody>\n${rows}\n</tbody></table>`;
  const text = [
    caption === CLAIMS_TEXT_MARKER ? `${CLAIMS_TEXT_MARKER}:` : `${CLAIMS_TEXT_MARKER} — ${caption}:`,
    ...claims.map((c, i) => `${i + 1}. [${c.verdict}] ${c.claim}\n   ${c.evidence}; ${c.seeds} seed(s)${c.note ? `; ${c.note}` : ''}`),
  ].join('\n');
  return { 'text/html': html, 'text/plain': text };
}

/** Show the claims table (the last cell of every notebook). */
export function showClaims(claims: ClaimRow[], opts: { caption?: string } = {}): void {
  getDisplayChannel().display(claimsBundle(claims, opts));
}
