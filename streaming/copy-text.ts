/**
 * Rows in PostgreSQL's COPY text format (tab-separated, `\N` for NULL, backslash
 * escapes), for `COPY … FROM STDIN` into the sink's staging table.
 *
 * Each value becomes exactly the text the `unnest` path binds for it (the same
 * conversion as node-postgres applies to an array element: objects as JSON text,
 * Dates as node-postgres writes them, the rest as `String(v)`), so both paths hand
 * Postgres's input functions the same characters and accept or refuse the same
 * values. Only the COPY framing differs: a backslash, tab, newline or carriage
 * return inside a value is escaped, and NULL is `\N` (so the text 'NULL' or '\N'
 * stays text).
 */
import { createRequire } from 'node:module';
import { stringifyExact } from './exact-number.ts';

// node-postgres's own value conversion (not in its typings), so a Date gets the same text on both paths.
const pgUtils = createRequire(import.meta.url)('pg/lib/utils.js') as { prepareValue(v: unknown): unknown };

const NEEDS_ESCAPE = /[\\\t\n\r]/;
const ESCAPES = /[\\\t\n\r]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value as a typed-array parameter element carries it: null, or its text. */
export function elementText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v;
  // Bytes (a transform's Buffer for a bytea column) as hex bytea text, not as the JSON of a Buffer.
  if (v instanceof Uint8Array) return byteaHex(v);
  // Objects (json/jsonb columns) as JSON text, as the unnest path binds them.
  if (typeof v === 'object' && !(v instanceof Date)) return stringifyExact(v);
  return v instanceof Date ? String(pgUtils.prepareValue(v)) : String(v);
}

/** One field of a COPY text row. */
export function copyField(v: unknown): string {
  const t = elementText(v);
  if (t === null) return '\\N';
  return NEEDS_ESCAPE.test(t) ? t.replace(ESCAPES, (c) => ESCAPED[c]) : t;
}

/** Bytes as bytea's hex text (`\x6869`). */
export function byteaHex(v: Uint8Array): string {
  return `\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
}
