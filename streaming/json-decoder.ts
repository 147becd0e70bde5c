/**
 * Plain JSON keyed records: the value is the row image; a null value (a Kafka
 * tombstone) deletes the row named by the message key. Fields written by
 * Debezium's ExtractNewRecordState SMT are understood and stripped: `__deleted`
 * ("true") or `__op` ("d") delete, `__lsn` is the version, `__source_ts_ms` the
 * source time. Without `__lsn` the version is the Kafka offset (the order of the
 * partition is the order of the source).
 */
import { parseEpochMs, parseVersion, type DecodeResult, type JsonRow } from './change-event.ts';
import { convertRow, rowConverters } from './connect-logical-types.ts';
import { exactFields, isObject, keyOf, leaveOutUnavailable, parseJson } from './decoder.ts';
import type { SourceRecord } from './transport.ts';

export function decodePlainJson(record: SourceRecord, keyColumns: readonly string[]): DecodeResult {
  if (record.value === null) {
    const key = keyOf(null, record.key, keyColumns);
    if (!key) return { ok: false, reason: `tombstone (null value) whose message key does not name ${keyColumns.join(', ')}` };
    return { ok: true, event: { op: 'delete', row: key, version: record.fallbackVersion, sourceTs: record.timestamp } };
  }
  const parsed = parseJson(record.value);
  if (!parsed.ok) return parsed;
  if (!isObject(parsed.value)) return { ok: false, reason: 'expected a JSON object (the row image)' };
  let raw = parsed.value;
  let schema: unknown = null;
  if (isConnectEnvelope(raw)) {
    if (raw.payload === null) return decodePlainJson({ ...record, value: null }, keyColumns);
    if (!isObject(raw.payload)) return { ok: false, reason: 'expected a JSON object (the row image) as the payload' };
    schema = raw.schema;
    raw = raw.payload;
  }
  if (parsed.exact) exactFields(raw);
  if (parsed.unavailable) leaveOutUnavailable(raw);
  const converters = schema === null ? null : rowConverters(schema);
  if (converters) {
    const c = convertRow(raw, converters);
    if (!c.ok) return c;
    raw = c.row;
  }
  // for…in over a parsed object (own enumerable keys only): no entry arrays per record.
  const row: JsonRow = {};
  for (const k in raw) if (k.charCodeAt(0) !== 95 || k.charCodeAt(1) !== 95) row[k] = raw[k];
  const version = parseVersion(raw.__lsn) ?? record.fallbackVersion;
  const sourceTs = parseEpochMs(raw.__source_ts_ms) ?? record.timestamp;
  const deleted = raw.__deleted === true || raw.__deleted === 'true' || raw.__op === 'd';
  if (deleted) {
    const key = keyOf(row, record.key, keyColumns);
    if (!key) return { ok: false, reason: `delete without key columns (${keyColumns.join(', ')})` };
    return { ok: true, event: { op: 'delete', row: { ...row, ...key }, version, sourceTs } };
  }
  return { ok: true, event: { op: 'upsert', sourceOp: raw.__op === 'u' || raw.__op === 'r' ? raw.__op : 'c', row, before: null, version, sourceTs } };
}

/**
 * Kafka Connect's JsonConverter with schemas.enable=true (its default) sends
 * `{"schema": {"type": "struct", …}, "payload": row}`; the payload is the row, read
 * with the schema's logical types (a null payload: a tombstone, as a null value).
 * Only an object with exactly those two keys and a struct schema is taken so (a
 * table whose only columns are "schema" and "payload", the first holding a Connect
 * struct schema, would be read as an envelope).
 */
function isConnectEnvelope(v: JsonRow): v is { schema: JsonRow; payload: unknown } {
  if (v.payload === undefined || !isObject(v.schema) || v.schema.type !== 'struct' || !Array.isArray(v.schema.fields)) return false;
  let keys = 0;
  for (const _ in v) keys++;
  return keys === 2;
}
