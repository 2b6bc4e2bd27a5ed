/**
 * Where display bundles go: tslab's display channel inside a kernel (full multi-MIME display_data with a
 * display_id, and update_display_data), or a text fallback that prints `text/plain` outside a kernel.
 */

/** A Jupyter MIME bundle: MIME type → data (strings, base64 for images, JSON for `+json` types). */
export type MimeBundle = Record<string, unknown>;

/** A place to send display bundles to. */
export interface DisplayChannel {
  /** Show a bundle; with `update`, replace the earlier output that has the same displayId. */
  display(bundle: MimeBundle, opts?: { displayId?: string; update?: boolean; metadata?: Record<string, unknown> }): void;
  /** true inside a notebook kernel (rich output), false for a terminal */
  readonly rich: boolean;
}

type TslabWrite = (content: { data: MimeBundle; metadata: Record<string, unknown>; transient: { display_id?: string } }, update: boolean) => void;

/**
 * tslab's per-execution display writer (`jupyter.lastWriteDisplayData` in tslab/dist/jupyter.js), or null when
 * not running inside a tslab kernel. Only looked up if tslab is already loaded, so scripts never load TypeScript.
 */
function tslabWriter(): TslabWrite | null {
  let file: string;
  try {
    file = require.resolve('tslab/dist/jupyter');
  } catch {
    return null;
  }
  const mod = require.cache[file]?.exports as { lastWriteDisplayData?: TslabWrite | null } | undefined;
  return mod?.lastWriteDisplayData ?? null;
}

/** The channel inside a tslab kernel: sends display_data / update_display_data with every MIME type at once. */
export const tslabChannel: DisplayChannel = {
  rich: true,
  display(bundle, opts = {}) {
    const write = tslabWriter();
    if (!write) throw new Error('tslab display channel: not inside a tslab kernel cell (no lastWriteDisplayData)');
    write({ data: bundle, metadata: opts.metadata ?? {}, transient: opts.displayId ? { display_id: opts.displayId } : {} }, Boolean(opts.update));
  },
};

/** The terminal fallback: prints a bundle's text/plain (updates are printed again). */
export const textChannel: DisplayChannel = {
  rich: false,
  display(bundle) {
    const text = bundle['text/plain'];
    process.stdout.write((typeof text === 'string' ? text : `[${Object.keys(bundle).join(', ')}]`) + '\n');
  },
};

let override: DisplayChannel | null = null;

/** The current channel: an override set by `setDisplayChannel`, else tslab's inside a kernel, else text. */
export function getDisplayChannel(): DisplayChannel {
  if (override) return override;
  return tslabWriter() ? tslabChannel : textChannel;
}

/** Replace the display channel (tests, other front ends); pass null to restore detection. Returns the previous override. */
export function setDisplayChannel(channel: DisplayChannel | null): DisplayChannel | null {
  const prev = override;
  override = channel;
  return prev;
}

/** Escape text for HTML. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** A random id for display_id / DOM ids. */
export function newDisplayId(): string {
  return Math.random().toString(16).slice(2, 10) + Date.now().toString(16);
}
