/** Differences as display rows (key, kind, detail), shared by text, Markdown and HTML output. */
import type { DifferenceSample, WindowResult } from './types.ts';
import { scalarText } from '../src/core/exact-json.ts';

export interface SampleRow { key: string; kind: string; detail: string }

export function keyText(key: Record<string, unknown>): string {
  return Object.entries(key).map(([k, v]) => `${k}=${scalarText(v)}`).join(', ');
}

const show = (v: string | null) => (v === null ? 'NULL' : JSON.stringify(v));

export function sampleRow(s: DifferenceSample): SampleRow {
  let detail = '';
  if (s.kind === 'changed') detail = Object.entries(s.columns ?? {}).map(([c, v]) => `${c}: ${show(v.batch)} → ${show(v.stream)}`).join('; ');
  else if (s.kind === 'duplicate_key' && s.count) detail = `rows: batch ${s.count.batch}, stream ${s.count.stream}`;
  if (s.deadLetter) detail = `dead letter #${s.deadLetter.id} (${s.deadLetter.stage}, ${s.deadLetter.at}, ${s.deadLetter.status}): ${s.deadLetter.reason}`;
  return { key: keyText(s.key), kind: s.kind + (s.inFlight ? ' (in flight)' : ''), detail };
}

export function sampleRows(r: WindowResult): SampleRow[] {
  return [...(r.diff?.samples ?? []), ...(r.diff?.inFlightSamples ?? [])].map(sampleRow);
}

/** One line of counts, e.g. `missing in stream 1 · changed 2 (amount 2)`. */
export function countsLine(r: WindowResult): string {
  const d = r.diff;
  if (!d) return '';
  const cols = Object.entries(d.columns).map(([c, n]) => `${c} ${n}`).join(', ');
  return [
    `missing in stream ${d.missingInStream}`, `missing in batch ${d.missingInBatch}`,
    `changed ${d.changed}${cols ? ` (${cols})` : ''}`, `duplicate keys ${d.duplicateKeys}`, `in flight ${d.inFlight}`,
  ].join(' · ');
}
