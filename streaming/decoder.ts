/** A decoder turns one raw record into a change event (or a reason it cannot). */
import type { DecodeResult, JsonRow } from './change-event.ts';
import type { SourceRecord } from './transport.ts';
import type { StreamFormat } from '../src/core/config/types.ts';
import { decodeDebezium } from './debezium-decoder.ts';
import { decodePlainJson } from './json-decoder.ts';
import { isUtf8 } from 'node:buffer';
import { isSafeNumber, parse as losslessParse } from 'lossless-json';
import { ExactNumber } from './exact-number.ts';
import { convertRow, rowConverters } from './connect-logical-types.ts';

export type Decoder = (record: SourceRecord, keyColumns: readonly string[]) => DecodeResult;

export function decoderFor(format: StreamFormat): Decoder {
  return format === 'debezium' ? decodeDebezium : decodePlainJson;
}

/**
 * A JSON number as JavaScript can hold it, or, when a double would change it (an
 * integer beyond 2^53, a decimal with more than 15 significant digits, an exponent
 * beyond a double's range), an ExactNumber holding its text: Postgres then reads the
 * digits as they were sent, never a neighbour. The decoders turn the row's own
 * fields into that text (`exactFields`); inside a nested object (a json/jsonb
 * column's value) it stays an ExactNumber, so it is written as a JSON number with
 * its digits, not as a string.
 */
function exactNumber(text: string): number | ExactNumber {
  return isSafeNumber(text) ? Number(text) : new ExactNumber(text);
}

/** `unavailable`: the text may hold Debezium's placeholder for an unchanged TOAST value (see leaveOutUnavailable). */
export type ParsedJson = { ok: true; value: unknown; exact: boolean; unavailable: boolean } | { ok: false; reason: string };

/**
 * Debezium's `unavailable.value.placeholder` (its default): what it sends for a value Postgres
 * stored out of line (TOAST) that an UPDATE left unchanged (REPLICA IDENTITY DEFAULT), as text, as
 * the bytes of that text (base64 in JSON) for binary columns, or as a one-element array.
 */
export const UNAVAILABLE = '__debezium_unavailable_value';
export const UNAVAILABLE_BASE64 = Buffer.from(UNAVAILABLE).toString('base64');

/**
 * The row's fields holding the placeholder are left out (undefined): the value is unchanged, so
 * the column keeps its stored value, instead of being overwritten with the placeholder; in place.
 */
export function leaveOutUnavailable<T extends JsonRow | null>(row: T): T {
  if (row) {
    for (const k in row) {
      const v = row[k];
      if (v === UNAVAILABLE || v === UNAVAILABLE_BASE64 || (Array.isArray(v) && v.length === 1 && (v[0] === UNAVAILABLE || v[0] === UNAVAILABLE_BASE64))) row[k] = undefined;
    }
  }
  return row;
}

/**
 * JSON.parse as a result; the bytes of a Buffer must be UTF-8. Texts that may hold
 * a number a double cannot keep go through lossless-json (`exact: true`), so 64-bit
 * ids, long decimals and far exponents stay exact. Bytes that are not UTF-8, and
 * `\uD800`-style escapes of a lone surrogate, are refused: both would reach
 * Postgres as U+FFFD, a character the record never held.
 */
export function parseJson(value: Buffer | string): ParsedJson {
  // Zero bytes are not Kafka's tombstone (a null value), though some producers mean one.
  if (value.length === 0) return { ok: false, reason: 'an empty value (zero bytes): not JSON, and not a tombstone (a tombstone has a null value)' };
  if (typeof value !== 'string' && !isUtf8(value)) return { ok: false, reason: `not valid UTF-8 (the record's bytes would be stored with U+FFFD in place of ${invalidUtf8(value)})` };
  const text = typeof value === 'string' ? value : value.toString('utf8');
  const scan = scanJson(value);
  let parsed: unknown;
  try {
    parsed = scan & MAY_LOSE_DIGITS ? losslessParse(text, null, exactNumber) : JSON.parse(text);
  } catch (e) {
    return { ok: false, reason: `not valid JSON: ${(e as Error).message}${text.charCodeAt(0) === 0xfeff ? ' (the record starts with a byte order mark, U+FEFF)' : ''}` };
  }
  if (scan & SURROGATE_ESCAPE) {
    const bad = loneSurrogate(parsed);
    if (bad !== null) return { ok: false, reason: `a lone UTF-16 surrogate in ${bad} (\\uD800-\\uDFFF not in a pair): not a character, Postgres text cannot hold it` };
  }
  return { ok: true, value: parsed, exact: (scan & MAY_LOSE_DIGITS) !== 0, unavailable: (scan & MAY_BE_UNAVAILABLE) !== 0 };
}

/** The row's own fields with ExactNumbers as their text (nested ones stay, see exactNumber); in place. */
export function exactFields<T extends JsonRow | null>(row: T): T {
  if (row) for (const k in row) { const v = row[k]; if (v instanceof ExactNumber) row[k] = v.text; }
  return row;
}

function invalidUtf8(b: Buffer): string {
  const good = Buffer.from(b.toString('utf8'), 'utf8');
  let i = 0;
  while (i < b.length && i < good.length && b[i] === good[i]) i++;
  return `byte 0x${b[i]?.toString(16).padStart(2, '0') ?? '??'} at offset ${i}`;
}

// ES2024 (Node 20 has it; the project's lib setting predates it).
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Where a string (value or key) with an unpaired surrogate is, or null. */
function loneSurrogate(v: unknown, path = 'the record'): string | null {
  if (typeof v === 'string') return wellFormed(v) ? null : path;
  if (typeof v !== 'object' || v === null || v instanceof ExactNumber) return null;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) { const r = loneSurrogate(v[i], `${path}[${i}]`); if (r) return r; }
    return null;
  }
  for (const k in v) {
    if (!wellFormed(k)) return `a field name of ${path}`;
    const r = loneSurrogate((v as JsonRow)[k], path === 'the record' ? `field ${k}` : `${path}.${k}`);
    if (r) return r;
  }
  return null;
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;

const MAY_LOSE_DIGITS = 1;
const SURROGATE_ESCAPE = 2;
const MAY_BE_UNAVAILABLE = 4;
const ALL_FLAGS = MAY_LOSE_DIGITS | SURROGATE_ESCAPE | MAY_BE_UNAVAILABLE;

/**
 * One pass over the bytes. MAY_BE_UNAVAILABLE: Debezium's TOAST placeholder may be in it. MAY_LOSE_DIGITS: a run of 16 or more digits, counted across
 * decimal points (`1234567.123456789` has 16 significant digits in two runs; a double
 * keeps 15), or a digit followed by an exponent (`1e-400` is 0 as a double); strings
 * that look so only cost the slower exact parse. SURROGATE_ESCAPE: a `\uD800`-`\uDFFF`
 * escape (then the parsed strings are checked for a lone surrogate; a pair is fine).
 */
function scanJson(value: Buffer | string): number {
  // Records arrive as bytes; a string (a test, a caller's text) is scanned as its UTF-8.
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let digits = 0;
  let found = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c >= DIGIT_0 && c <= DIGIT_9) {
      if (++digits >= 16) found |= MAY_LOSE_DIGITS;
    } else if (c === 0x2e) {
      // a decimal point: the digits on both sides count together
    } else if ((c | 0x20) === 0x65 && digits > 0) {
      const d = b[i + 1];
      if ((d >= DIGIT_0 && d <= DIGIT_9) || d === 0x2b || d === 0x2d) found |= MAY_LOSE_DIGITS;
      digits = 0;
    } else {
      // `\ud8`..`\udf` (any case): the escape of a surrogate. After `\\` the scan resyncs at the next byte, which only costs a check.
      if (c === 0x5c && (b[i + 1] | 0x20) === 0x75 && (b[i + 2] | 0x20) === 0x64 && ((b[i + 3] >= 0x38 && b[i + 3] <= 0x39) || ((b[i + 3] | 0x20) >= 0x61 && (b[i + 3] | 0x20) <= 0x66))) found |= SURROGATE_ESCAPE;
      // `__deb` or `X19k` (the placeholder, or its base64): only then are the row's fields compared with it.
      else if (c === 0x5f ? b[i + 1] === 0x5f && b[i + 2] === 0x64 && b[i + 3] === 0x65 && b[i + 4] === 0x62 : c === 0x58 && b[i + 1] === 0x31 && b[i + 2] === 0x39 && b[i + 3] === 0x6b) found |= MAY_BE_UNAVAILABLE;
      digits = 0;
    }
    if (found === ALL_FLAGS) break;
  }
  return found;
}

export function isObject(v: unknown): v is JsonRow {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * The key columns of a record: from the row image when it has them, else from the
 * message key (a JSON object, a Debezium {schema, payload} key, or a bare scalar
 * for a one-column key). Returns null when a key column cannot be found.
 */
export function keyOf(row: JsonRow | null, messageKey: Buffer | null, keyColumns: readonly string[]): JsonRow | null {
  if (row && keyColumns.every((k) => row[k] !== undefined && row[k] !== null)) {
    return Object.fromEntries(keyColumns.map((k) => [k, row[k]]));
  }
  if (!messageKey) return null;
  const parsed = parseJson(messageKey);
  if (!parsed.ok) return keyColumns.length === 1 && isUtf8(messageKey) ? { [keyColumns[0]]: messageKey.toString('utf8') } : null;
  let k = parsed.value;
  // A bare number is the key's text as sent: a text key (StringConverter) `1.50` or ` 5` is no
  // double's `1.5` or `5` (a tombstone deleted that row instead); Postgres reads the text of a numeric key alike.
  if (typeof k === 'number' || k instanceof ExactNumber) return keyColumns.length === 1 ? { [keyColumns[0]]: messageKey.toString('utf8') } : null;
  let schema: unknown = null;
  if (isObject(k) && 'payload' in k && 'schema' in k) { schema = k.schema; k = k.payload; }
  if (k instanceof ExactNumber) k = k.text;
  if (!isObject(k)) return keyColumns.length === 1 && k !== null ? { [keyColumns[0]]: k } : null;
  if (parsed.exact) exactFields(k);
  const converters = schema === null ? null : rowConverters(schema);
  const converted = converters ? convertRow(k, converters) : { ok: true as const, row: k };
  if (!converted.ok) return null;
  const obj = converted.row;
  return keyColumns.every((c) => obj[c] !== undefined && obj[c] !== null) ? Object.fromEntries(keyColumns.map((c) => [c, obj[c]])) : null;
}
