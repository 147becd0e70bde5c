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

// Any run of 16+ digits may be a number JavaScript cannot hold exactly (2^53 has 16 digits).
const LONG_DIGITS = /\d{16,}/;

/**
 * A JSON number as JavaScript can hold it, or, when a double would change it (an
 * integer beyond 2^53, a decimal with more than 15 significant digits), its exact
 * text: Postgres then reads the digits as they were sent, never a neighbour.
 */
function exactNumber(text: string): number | string {
  return isSafeNumber(text) ? Number(text) : text;
}

/**
 * JSON.parse as a result; the text of a Buffer is read as UTF-8. Texts holding
 * long digit runs go through lossless-json, so 64-bit ids and long decimals stay exact.
 */
export function parseJson(value: Buffer | string): { ok: true; value: unknown } | { ok: false; reason: string } {
  const text = typeof value === 'string' ? value : value.toString('utf8');
  try {
    return { ok: true, value: LONG_DIGITS.test(text) ? losslessParse(text, null, exactNumber) : JSON.parse(text) };
  } catch (e) {
    return { ok: false, reason: `not valid JSON: ${(e as Error).message}` };
  }
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
