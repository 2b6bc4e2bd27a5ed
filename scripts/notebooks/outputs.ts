/**
 * Turn iopub messages into nbformat 4.5 outputs: merged streams with `\r` handled,
 * display_data / update_display_data by display_id, execute_result, error.
 */
import { JupyterMessage } from './protocol';

export type Output =
  | { output_type: 'stream'; name: 'stdout' | 'stderr'; text: string }
  | { output_type: 'display_data'; data: Record<string, unknown>; metadata: Record<string, unknown> }
  | { output_type: 'execute_result'; data: Record<string, unknown>; metadata: Record<string, unknown>; execution_count: number | null }
  | { output_type: 'error'; ename: string; evalue: string; traceback: string[] };

type DisplayOutput = Extract<Output, { data: Record<string, unknown> }>;

/**
 * Apply carriage returns the way a terminal would, line by line: text after the last `\r` of a line
 * replaces what came before. A trailing `\r` (a progress line still being drawn) is kept so that the
 * next chunk overwrites the line.
 */
export function applyCarriageReturns(text: string): string {
  if (!text.includes('\r')) return text;
  return text
    .replace(/\r\n/g, '\n')
    .split('\n')
    .map((line) => {
      const parts = line.split('\r');
      const last = parts[parts.length - 1];
      if (last !== '') return last;
      const prev = parts.slice(0, -1).reverse().find((p) => p !== '');
      return prev === undefined ? '' : prev + '\r';
    })
    .join('\n');
}

/** Drop the trailing `\r` markers kept while a stream was live. */
export function finishStreamText(text: string): string {
  return text.replace(/\r(?=\n|$)/g, '');
}

/** Collects one notebook's outputs; display ids are tracked across cells. */
export class OutputCollector {
  private displays = new Map<string, DisplayOutput[]>();

  /** Apply one iopub message to a cell's output list; returns true if it changed anything. */
  apply(outputs: Output[], msg: JupyterMessage): boolean {
    const c = msg.content as Record<string, any>;
    switch (msg.header.msg_type) {
      case 'stream': {
        const name = c.name === 'stderr' ? 'stderr' : 'stdout';
        const last = outputs[outputs.length - 1];
        if (last && last.output_type === 'stream' && last.name === name) last.text = applyCarriageReturns(last.text + String(c.text));
        else outputs.push({ output_type: 'stream', name, text: applyCarriageReturns(String(c.text)) });
        return true;
      }
      case 'display_data':
      case 'execute_result': {
        const out: DisplayOutput = msg.header.msg_type === 'display_data'
          ? { output_type: 'display_data', data: c.data ?? {}, metadata: c.metadata ?? {} }
          : { output_type: 'execute_result', data: c.data ?? {}, metadata: c.metadata ?? {}, execution_count: c.execution_count ?? null };
        outputs.push(out);
        const id = c.transient?.display_id;
        if (typeof id === 'string' && id) {
          const list = this.displays.get(id) ?? [];
          list.push(out);
          this.displays.set(id, list);
        }
        return true;
      }
      case 'update_display_data': {
        const id = c.transient?.display_id;
        const targets = typeof id === 'string' ? this.displays.get(id) : undefined;
        if (!targets) return false;
        for (const t of targets) {
          t.data = c.data ?? {};
          t.metadata = c.metadata ?? {};
        }
        return true;
      }
      case 'error':
        outputs.push({ output_type: 'error', ename: String(c.ename ?? 'Error'), evalue: String(c.evalue ?? ''), traceback: (c.traceback ?? []).map(String) });
        return true;
      case 'clear_output':
        outputs.length = 0;
        return true;
      default:
        return false;
    }
  }
}

/** Final clean-up before saving: stream texts without live `\r` markers. */
export function finishOutputs(outputs: Output[]): Output[] {
  for (const o of outputs) if (o.output_type === 'stream') o.text = finishStreamText(o.text);
  return outputs;
}

/** The error text of a failed cell: error outputs' tracebacks, else its stderr (tslab's diagnostics). */
export function errorText(outputs: Output[]): string {
  const errors = outputs.filter((o): o is Extract<Output, { output_type: 'error' }> => o.output_type === 'error');
  if (errors.length) return errors.map((e) => (e.traceback.length ? e.traceback.join('\n') : `${e.ename}: ${e.evalue}`)).join('\n');
  return outputs.filter((o) => o.output_type === 'stream' && o.name === 'stderr').map((o) => (o as { text: string }).text).join('');
}
