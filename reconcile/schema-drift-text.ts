/** Schema drift as one line per column, shared by the text, Markdown and HTML outputs. */
import type { SchemaDrift, WindowResult } from './types.ts';

export function driftLine(d: SchemaDrift): string {
  const types = d.side === 'both' ? `batch ${d.batchType}, stream ${d.streamType}` : d.side === 'batch' ? `batch ${d.batchType}` : `stream ${d.streamType}`;
  return `schema drift: column ${d.column} ${d.reason} (${types})`;
}

export function driftLines(r: WindowResult): string[] {
  return (r.schemaDrift ?? []).map(driftLine);
}
