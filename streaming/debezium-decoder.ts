/**
 * Debezium change events: `{op, before, after, source: {lsn, ts_ms}, ts_ms}`, bare or
 * wrapped as `{schema, payload}` (JsonConverter with schemas enabled).
 *
 * Version (source order): `source.lsn` when present, so a duplicate of an old event
 * produced again later (Debezium and relays are at-least-once) is recognised as old;
 * otherwise the Kafka offset. A null value is the tombstone Debezium sends after a
 * delete for log compaction: the delete itself already carried the effect.
 */
import { parseEpochMs, parseVersion, type DecodeResult, type JsonRow } from './change-event.ts';
import { convertRow, fieldSchema, rowConverters } from './connect-logical-types.ts';
import { exactFields, isObject, keyOf, leaveOutUnavailable, parseJson } from './decoder.ts';
import type { SourceRecord } from './transport.ts';

export function decodeDebezium(record: SourceRecord, keyColumns: readonly string[]): DecodeResult {
  if (record.value === null) return { ok: true, event: null };
  const parsed = parseJson(record.value);
  if (!parsed.ok) return parsed;
  let env = parsed.value;
  let schema: unknown = null;
  if (isObject(env) && 'payload' in env && 'schema' in env) { schema = env.schema; env = env.payload; }
  if (env === null) return { ok: true, event: null };
  if (!isObject(env)) return { ok: false, reason: 'not a Debezium envelope: expected a JSON object' };
  const source = isObject(env.source) ? env.source : {};
  if (parsed.exact) { exactFields(env); exactFields(source); }
  const version = parseVersion(source.lsn) ?? record.fallbackVersion;
  const sourceTs = parseEpochMs(source.ts_ms) ?? parseEpochMs(env.ts_ms) ?? record.timestamp;
  const images = rowImages(env, schema, parsed.exact, parsed.unavailable);
  if (!images.ok) return images;
  const { before, after } = images;
  switch (env.op) {
    case 'c': case 'u': case 'r': {
      if (!after) return { ok: false, reason: `Debezium op "${env.op}" without an "after" row image` };
      return { ok: true, event: { op: 'upsert', sourceOp: env.op, row: after, before, version, sourceTs } };
    }
    case 'd': {
      const key = keyOf(before, record.key, keyColumns);
      if (!key) return { ok: false, reason: `Debezium delete without key columns (${keyColumns.join(', ')}) in "before" or the message key` };
      return { ok: true, event: { op: 'delete', row: { ...(before ?? {}), ...key } as JsonRow, version, sourceTs } };
    }
    default:
      return { ok: false, reason: `unsupported Debezium op ${JSON.stringify(env.op)} (expected c, u, r or d)` };
  }
}

type Images = { ok: true; before: JsonRow | null; after: JsonRow | null } | { ok: false; reason: string };

/**
 * `before` and `after`, exact numbers as text, Debezium's placeholder for an unchanged TOAST value
 * left out (before any conversion: its bytes are valid base64), logical types (from the schema,
 * when sent) as Postgres text.
 */
function rowImages(env: JsonRow, schema: unknown, exact: boolean, unavailable: boolean): Images {
  let before = isObject(env.before) ? env.before : null;
  let after = isObject(env.after) ? env.after : null;
  if (exact) { exactFields(before); exactFields(after); }
  if (unavailable) { leaveOutUnavailable(before); leaveOutUnavailable(after); }
  if (schema === null) return { ok: true, before, after };
  for (const side of ['before', 'after'] as const) {
    const row = side === 'before' ? before : after;
    const converters = row && rowConverters(fieldSchema(schema, side));
    if (!row || !converters) continue;
    const r = convertRow(row, converters);
    if (!r.ok) return { ok: false, reason: `"${side}" ${r.reason}` };
    if (side === 'before') before = r.row; else after = r.row;
  }
  return { ok: true, before, after };
}
