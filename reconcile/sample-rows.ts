/** Differences as display rows (key, kind, detail), shared by text, Markdown and HTML output. */
import type { DifferenceSample, WindowResult } from './types.ts';
import { scalarText } from '../src/core/exact-json.ts';

export interface SampleRow { key: string; kind: string; detail: string }

export function keyText(key: Record<string, unknown>): string {
  return Object.entries(key).map(([k, v]) => `${k}=${typeof v === 'string' && hasInvisible(v) ? quoted(v) : scalarText(v)}`).join(', ');
}

const show = (v: string | null) => (v === null ? 'NULL' : quoted(v));

/**
 * Characters a reader cannot see or tell apart, escaped as `\uXXXX`: controls, format characters
 * (zero-width space, BOM), separators other than the space (no-break space...), and in text that
 * is not in NFC its combining marks: `'é'` (NFC) against `'e\u0301'` (NFD) are two keys or values,
 * which would otherwise print alike (`é` and `é`). Text in NFC keeps its marks (Devanagari, Thai...).
 */
function invisible(v: string): RegExp {
  return v.normalize('NFC') === v ? /[\p{Cc}\p{Cf}\p{Z}]/gu : /[\p{Cc}\p{Cf}\p{Z}\p{M}]/gu;
}

function hasInvisible(v: string): boolean {
  return [...v.matchAll(invisible(v))].some(([c]) => c !== ' ');
}

/** v as a JSON string, invisible characters escaped (JSON escapes backslashes, so the escapes are unambiguous). */
function quoted(v: string): string {
  const escape = (c: string) => Array.from({ length: c.length }, (_, i) => `\\u${c.charCodeAt(i).toString(16).padStart(4, '0')}`).join('');
  return JSON.stringify(v).replace(invisible(v), (c) => (c === ' ' ? c : escape(c)));
}

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
