/** A decoder turns one raw record into a change event (or a reason it cannot). */
import type { DecodeResult, JsonRow } from './change-event.ts';
import type { SourceRecord } from './transport.ts';
import type { StreamFormat } from '../src/core/config/types.ts';
import { decodeDebezium } from './debezium-decoder.ts';
import { decodePlainJson } from './json-decoder.ts';
import { isSafeNumber, parse as losslessParse } from 'lossless-json';

export type Decoder = (record: SourceRecord, keyColumns: readonly string[]) => DecodeResult;

export function decoderFor(format: StreamFormat): Decoder {
  return format === 'debezium' ? decodeDebezium : decodePlainJson;
}

/**
 * A JSON number as JavaScript can hold it, or, when a double would change it (an
 * integer beyond 2^53, a decimal with more than 15 significant digits, an exponent
 * beyond a double's range), its exact text: Postgres then reads the digits as they
 * were sent, never a neighbour.
 */
function exactNumber(text: string): number | string {
  return isSafeNumber(text) ? Number(text) : text;
}

/**
 * JSON.parse as a result; the text of a Buffer is read as UTF-8. Texts that may hold
 * a number a double cannot keep go through lossless-json, so 64-bit ids, long
 * decimals and far exponents stay exact.
 */
export function parseJson(value: Buffer | string): { ok: true; value: unknown } | { ok: false; reason: string } {
  const text = typeof value === 'string' ? value : value.toString('utf8');
  try {
    return { ok: true, value: mayLoseDigits(value) ? losslessParse(text, null, exactNumber) : JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: `not valid JSON: ${(e as Error).message}` };
  }
}

const DIGIT_0 = 48;
const DIGIT_9 = 57;

/**
 * Whether the text has a run of 16 or more digits, counted across decimal points
 * (`1234567.123456789` has 16 significant digits in two runs; a double keeps 15), or
 * a digit followed by an exponent (`1e-400` is 0 as a double). Strings that look so
 * only cost the slower exact parse. One pass over the bytes: about the cost of the
 * regular expression it replaces (which saw only unbroken runs).
 */
export function mayLoseDigits(value: Buffer | string): boolean {
  // Records arrive as bytes; a string (a test, a caller's text) is scanned as its UTF-8.
  const b = typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
  let digits = 0;
  for (let i = 0; i < b.length; i++) {
    const c = b[i];
    if (c >= DIGIT_0 && c <= DIGIT_9) {
      if (++digits >= 16) return true;
    } else if (c === 0x2e) {
      // a decimal point: the digits on both sides count together
    } else if ((c | 0x20) === 0x65 && digits > 0) {
      const d = b[i + 1];
      if ((d >= DIGIT_0 && d <= DIGIT_9) || d === 0x2b || d === 0x2d) return true;
      digits = 0;
    } else {
      digits = 0;
    }
  }
  return false;
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
  if (!parsed.ok) return keyColumns.length === 1 ? { [keyColumns[0]]: messageKey.toString('utf8') } : null;
  let k = parsed.value;
  if (isObject(k) && 'payload' in k && 'schema' in k) k = k.payload;
  if (!isObject(k)) return keyColumns.length === 1 && k !== null ? { [keyColumns[0]]: k } : null;
  const obj = k;
  return keyColumns.every((c) => obj[c] !== undefined && obj[c] !== null) ? Object.fromEntries(keyColumns.map((c) => [c, obj[c]])) : null;
}
