/**
 * Plain JSON keyed records: the value is the row image; a null value (a Kafka
 * tombstone) deletes the row named by the message key. Fields written by
 * Debezium's ExtractNewRecordState SMT are understood and stripped: `__deleted`
 * ("true") or `__op` ("d") delete, `__lsn` is the version, `__source_ts_ms` the
 * source time. Without `__lsn` the version is the Kafka offset (the order of the
 * partition is the order of the source).
 */
import { parseEpochMs, parseVersion, type DecodeResult, type JsonRow } from './change-event.ts';
import { exactFields, isObject, keyOf, parseJson } from './decoder.ts';
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
  const raw = parsed.exact ? exactFields(parsed.value) : parsed.value;
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
