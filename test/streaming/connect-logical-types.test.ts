/**
 * Kafka Connect's JsonConverter (schemas.enable=true, its default) sends a schema
 * beside each payload; Debezium's defaults put numerics there as base64 bytes
 * (`decimal.handling.mode=precise`), timestamps as microseconds, dates as days.
 * These were written as they came: a numeric column refused every row, a text
 * column stored the base64, and plain JSON from the ExtractNewRecordState SMT with
 * schemas ({"schema", "payload"}) was read as a row without its key. Now the schema's
 * logical types are read, exactly; what cannot be a value is a decode dead letter.
 *
 * Properties compare every conversion with Postgres's own arithmetic on the raw
 * integer (a real server, one query per property run).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { civilDate, convertRow, decimalText, rowConverters, twosComplement } from '../../streaming/connect-logical-types.ts';
import { applyBatch, type SinkDeps } from '../../streaming/exactly-once-sink.ts';
import { mergeStatements } from '../../streaming/output-merge.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';
import { decodeDebezium } from '../../streaming/debezium-decoder.ts';
import { decodePlainJson } from '../../streaming/json-decoder.ts';
import type { SourceRecord } from '../../streaming/transport.ts';
import { setupToolkit } from './support.ts';

let db: TestDatabase;
let offset = 0;

beforeAll(async () => {
  db = await createTestDatabase('connect_types');
  await setupToolkit(db.pool);
  await db.pool.query(`ALTER DATABASE "${db.name}" SET timezone = 'UTC'`);
});
afterAll(async () => { await db?.drop(); });

/** Minimal big-endian two's complement bytes of n, base64 (as Connect's Decimal sends it). */
function decimalBytes(n: bigint): string {
  let bytes = 1;
  while (n >= 1n << BigInt(bytes * 8 - 1) || n < -(1n << BigInt(bytes * 8 - 1))) bytes++;
  const u = n < 0n ? (1n << BigInt(bytes * 8)) + n : n;
  return Buffer.from(u.toString(16).padStart(bytes * 2, '0'), 'hex').toString('base64');
}

const field = (name: string | undefined, type: string, extra: Record<string, unknown> = {}) => ({ type, optional: true, ...(name ? { name } : {}), ...extra });
const converted = (schema: Record<string, unknown>, v: unknown) => {
  const r = convertRow({ v }, rowConverters({ type: 'struct', fields: [{ ...schema, field: 'v' }] })!);
  return r.ok ? r.row.v : { refused: r.reason };
};

/** Each [our text, Postgres's expected expression] pair must be equal as `type` in Postgres. */
async function samePostgresValues(type: string, pairs: readonly (readonly [unknown, string])[]): Promise<string[]> {
  const r = await db.pool.query<{ i: number; ours: string; pg: string }>(
    `SELECT i, ours, pg FROM (SELECT i, ours, e::text AS pg, ours::${type} IS DISTINCT FROM e AS differs
       FROM (SELECT i, o AS ours, ${pgExpr(type)} AS e FROM unnest($1::text[], $2::text[]) WITH ORDINALITY AS u(o, raw, i)) x) y WHERE differs`,
    [pairs.map((p) => p[0] as string), pairs.map((p) => p[1])]);
  return r.rows.map((x) => `#${x.i}: ours ${x.ours}, Postgres ${x.pg}`);
}

/** Postgres's value from the raw text `raw` of each kind. */
function pgExpr(kind: string): string {
  switch (kind) {
    // times an exact literal 1e-s: before Postgres 16, power(10::numeric, -s) was rounded for large s
    case 'numeric': return `split_part(raw, ':', 1)::numeric * ('1e-' || split_part(raw, ':', 2))::numeric`;
    case 'date': return `'1970-01-01'::date + raw::int`;
    // q days + r µs is raw µs whichever way bigint division rounds; each factor is exact in a double.
    case 'timestamp': return `'1970-01-01 00:00:00'::timestamp + (raw::bigint / 86400000000) * interval '1 day' + (raw::bigint % 86400000000) * interval '1 microsecond'`;
    case 'time': return `CASE WHEN raw::bigint = 86400000000 THEN '24:00:00'::time ELSE '00:00:00'::time + raw::bigint * interval '1 microsecond' END`;
    default: throw new Error(kind);
  }
}

describe('conversions agree with Postgres', () => {
  it('Decimal bytes of any unscaled value and scale are the numeric Postgres computes', async () => {
    const cases = fc.sample(fc.tuple(fc.bigInt({ min: -(1n << 200n), max: 1n << 200n }), fc.integer({ min: 0, max: 30 })), 400);
    cases.push([0n, 2], [-1n, 0], [-128n, 1], [127n, 3], [128n, 2], [-129n, 5], [5n, 20]);
    const pairs = cases.map(([n, s]) => [converted(field('org.apache.kafka.connect.data.Decimal', 'bytes', { parameters: { scale: String(s) } }), decimalBytes(n)), `${n}:${s}`] as const);
    expect(await samePostgresValues('numeric', pairs)).toEqual([]);
    // and the text keeps the scale's digits (1.50 stays 1.50 for a numeric column without one)
    expect(converted(field('org.apache.kafka.connect.data.Decimal', 'bytes', { parameters: { scale: '2' } }), decimalBytes(150n))).toBe('1.50');
    expect(converted(field('org.apache.kafka.connect.data.Decimal', 'bytes', { parameters: { scale: '3' } }), decimalBytes(-5n))).toBe('-0.005');
  });

  it('VariableScaleDecimal {scale, value} is the numeric Postgres computes', async () => {
    const cases = fc.sample(fc.tuple(fc.bigInt({ min: -(1n << 100n), max: 1n << 100n }), fc.integer({ min: 0, max: 40 })), 200);
    const pairs = cases.map(([n, s]) => [converted(field('io.debezium.data.VariableScaleDecimal', 'struct'), { scale: s, value: decimalBytes(n) }), `${n}:${s}`] as const);
    expect(await samePostgresValues('numeric', pairs)).toEqual([]);
  });

  it('days since 1970 are the date Postgres computes, BC and far future included', async () => {
    const days = fc.sample(fc.integer({ min: -2_440_588, max: 2_147_483_494 - 2_440_588 - 1 }), 500);
    days.push(0, -1, -719_162, -719_163, -719_528, 2_932_896, 11_016, -2_440_588);
    const pairs = days.map((d) => [converted(field('io.debezium.time.Date', 'int32'), d), String(d)] as const);
    expect(await samePostgresValues('date', pairs)).toEqual([]);
  });

  it('every day from 1900 to 2100 as days since 1970 is the ISO date (exhaustive)', () => {
    const bad: string[] = [];
    for (let d = -25_567; d <= 47_482; d++) {
      const want = new Date(d * 86_400_000).toISOString().slice(0, 10);
      if (civilDate(BigInt(d)) !== want) bad.push(`${d}: ${civilDate(BigInt(d))} ≠ ${want}`);
    }
    expect(bad).toEqual([]);
  });

  it('milli-, micro- and nanosecond timestamps are the timestamp Postgres computes', async () => {
    const us = fc.sample(fc.bigInt({ min: -210_000_000_000_000_000n, max: 9_000_000_000_000_000_000n }), 400);
    us.push(0n, -1n, 1n, -86_400_000_000n, 1_700_000_000_123_456n);
    const micro = us.map((n) => [converted(field('io.debezium.time.MicroTimestamp', 'int64'), n.toString()), n.toString()] as const);
    const milli = us.map((n) => n / 1000n).map((n) => [converted(field('io.debezium.time.Timestamp', 'int64'), Number(n)), (n * 1000n).toString()] as const);
    const nano = us.filter((n) => n > -9_000_000_000_000_000n && n < 9_000_000_000_000_000n / 1000n).map((n) => [converted(field('io.debezium.time.NanoTimestamp', 'int64'), (n * 1000n).toString()), n.toString()] as const);
    expect(await samePostgresValues('timestamp', [...micro, ...milli, ...nano])).toEqual([]);
  });

  it('times since midnight are the time Postgres computes, 24:00:00 included', async () => {
    const us = fc.sample(fc.bigInt({ min: 0n, max: 86_400_000_000n }), 300);
    us.push(0n, 86_400_000_000n, 1n, 43_200_000_000n);
    const pairs = [
      ...us.map((n) => [converted(field('io.debezium.time.MicroTime', 'int64'), Number(n)), n.toString()] as const),
      ...us.map((n) => n / 1000n).map((n) => [converted(field('io.debezium.time.Time', 'int32'), Number(n)), (n * 1000n).toString()] as const),
    ];
    expect(await samePostgresValues('time', pairs)).toEqual([]);
  });

  it('base64 two\'s complement reads back the integer it was made from', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(1n << 300n), max: 1n << 300n }), (n) => twosComplement(decimalBytes(n)) === n));
    expect(decimalText(0n, 0)).toBe('0');
    expect(decimalText(12n, -2)).toBe('1200');
  });
});

describe('what cannot be a value is refused, never written as another', () => {
  it.each([
    ['a nanosecond part (would be rounded)', field('io.debezium.time.NanoTimestamp', 'int64'), '1700000000123456789', 'stored for the column check'],
    ['Long.MAX_VALUE, Debezium\'s +infinity (would be the year 294247)', field('io.debezium.time.MicroTimestamp', 'int64'), '9223372036854775807', /±infinity/],
    ['Long.MIN_VALUE, Debezium\'s -infinity', field('io.debezium.time.MicroTimestamp', 'int64'), '-9223372036854775808', /±infinity/],
    ['MicroDuration (a month counted as 30.4375 days)', field('io.debezium.time.MicroDuration', 'int64'), 2_629_800_000_000, /interval\.handling\.mode=string/],
    ['Decimal bytes that are not base64', field('org.apache.kafka.connect.data.Decimal', 'bytes', { parameters: { scale: '2' } }), '12.34', /base64/],
    ['a time past 24:00:00', field('io.debezium.time.MicroTime', 'int64'), 86_400_000_001, /since midnight/],
  ] as const)('%s', (_what, schema, value, want) => {
    const r = converted(schema, value);
    if (typeof want === 'string') expect(r).toBe('2023-11-14T22:13:20.123456789');
    else expect((r as { refused: string }).refused).toMatch(want);
  });
});

function rec(value: string, key: string | null = null): SourceRecord {
  const at = offset++;
  return { position: { major: BigInt(at), minor: 0n }, key: key === null ? null : Buffer.from(key), value: Buffer.from(value), timestamp: new Date(), fallbackVersion: BigInt(at) };
}

const ROW_SCHEMA = {
  type: 'struct', optional: true, name: 'srv.public.t.Value', fields: [
    { type: 'int32', optional: false, field: 'k' },
    { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', version: 1, parameters: { scale: '2', 'connect.decimal.precision': '12' }, field: 'amount' },
    { type: 'struct', optional: true, name: 'io.debezium.data.VariableScaleDecimal', fields: [{ type: 'int32', field: 'scale' }, { type: 'bytes', field: 'value' }], field: 'free' },
    { type: 'int32', optional: true, name: 'io.debezium.time.Date', version: 1, field: 'd' },
    { type: 'int64', optional: true, name: 'io.debezium.time.MicroTimestamp', version: 1, field: 'ts' },
    { type: 'string', optional: true, name: 'io.debezium.time.ZonedTimestamp', version: 1, field: 'tz' },
    { type: 'int64', optional: true, name: 'io.debezium.time.MicroTime', version: 1, field: 'tm' },
    { type: 'bytes', optional: true, field: 'by' },
    { type: 'array', optional: true, items: { type: 'bytes', optional: true, name: 'org.apache.kafka.connect.data.Decimal', parameters: { scale: '1' } }, field: 'arr' },
    { type: 'string', optional: true, field: 'note' },
  ],
};
const AFTER = { k: 1, amount: decimalBytes(12345n), free: { scale: 3, value: decimalBytes(-1500n) }, d: 20_396, ts: 1_762_248_600_000_001, tz: '2025-11-04T09:30:00Z', tm: 34_200_000_000, by: Buffer.from([0, 1, 255]).toString('base64'), arr: [decimalBytes(15n), null], note: 'MDk=' };
const STORED = { k: 1, amount: '123.45', free: '-1.500', d: '2025-11-04', ts: '2025-11-04 09:30:00.000001', tz: '2025-11-04 09:30:00+00', tm: '09:30:00', by: '\\x0001ff', arr: '{1.5,NULL}', note: 'MDk=' };

describe('through the sink into a real table', () => {
  // With an array column a batch takes the jsonb path; without, the unnest or (copyMinRows) the COPY path.
  async function sink(table: string, dataset: string, debezium: boolean, copyMinRows?: number, array = true): Promise<SinkDeps> {
    await db.pool.query(`CREATE TABLE ${table} (k integer PRIMARY KEY, amount numeric(12,2), free numeric, d date, ts timestamp, tz timestamptz, tm time, by bytea, ${array ? 'arr numeric[]' : 'arr text'}, note text)`);
    const out = await prepareOutputTable(db.pool, parseTableRef(table)!, ['k']);
    return {
      db: db.pool, dataset, key: ['k'], source: `${dataset}-topic`, merge: mergeStatements(out), committed: new Map(), copyMinRows,
      decode: debezium ? decodeDebezium : decodePlainJson, validate: () => null, transform: { transform: (r) => r, stateKey: null, handlesDeletes: false },
    };
  }
  const stored = async (table: string) => (await db.pool.query(`SELECT k, amount::text, free::text, d::text, ts::text, tz::text, tm::text, by::text, arr::text, note FROM ${table} ORDER BY k`)).rows;
  const envelope = (op: string, before: unknown, after: unknown) => JSON.stringify({
    schema: { type: 'struct', name: 'srv.public.t.Envelope', fields: [{ ...ROW_SCHEMA, field: 'before' }, { ...ROW_SCHEMA, field: 'after' }, { type: 'string', field: 'op' }] },
    payload: { op, before, after, source: { lsn: 100 + offset, ts_ms: 1 } },
  });

  it.each([['jsonb', undefined, true], ['unnest', undefined, false], ['COPY', 1, false]] as const)('regression: a Debezium envelope with schemas wrote base64 numerics and epoch times as they came (%s path)', async (path, copyMinRows, array) => {
    const table = `public.dbz_${path.toLowerCase()}`;
    const deps = await sink(table, `dbz_${path}`, true, copyMinRows, array);
    // (the arrays only where the table has an array column)
    const after = (k: number) => (array ? { ...AFTER, k } : { ...AFTER, k, arr: undefined });
    const outcome = await applyBatch(deps, { partition: 0, records: [rec(envelope('c', null, after(1))), rec(envelope('c', null, after(2))), rec(envelope('d', after(2), null))], headSeenAt: null, lagRecords: null });
    expect(outcome).toMatchObject({ applied: 3, dead: 0 });
    expect(await stored(table)).toEqual([{ ...STORED, arr: array ? STORED.arr : null }]);
  });

  it('regression: ExtractNewRecordState rows with schemas ({"schema","payload"}) were rows without their key', async () => {
    const deps = await sink('public.smt', 'smt', false, 1);
    const value = (row: unknown) => JSON.stringify({ schema: { ...ROW_SCHEMA, fields: [...ROW_SCHEMA.fields, { type: 'string', optional: true, field: '__deleted' }] }, payload: row });
    const outcome = await applyBatch(deps, { partition: 0, records: [rec(value({ ...AFTER, __deleted: 'false' })), rec(value({ ...AFTER, k: 3 })), rec(value({ k: 3, __deleted: 'true' }))], headSeenAt: null, lagRecords: null });
    expect(outcome).toMatchObject({ applied: 3, dead: 0 });
    expect(await stored('public.smt')).toEqual([STORED]);
  });

  it('a value a logical type cannot give is a decode dead letter naming the field; the rest of the batch is applied', async () => {
    const deps = await sink('public.refused', 'refused', true);
    const outcome = await applyBatch(deps, { partition: 0, records: [rec(envelope('c', null, { ...AFTER, ts: '9223372036854775807' })), rec(envelope('c', null, { ...AFTER, k: 4 }))], headSeenAt: null, lagRecords: null });
    expect(outcome).toMatchObject({ applied: 1, dead: 1 });
    const dl = await db.pool.query<{ stage: string; reason: string }>(`SELECT stage, reason FROM dualrun.dead_letters WHERE dataset = 'refused'`);
    expect(dl.rows).toEqual([{ stage: 'decode', reason: expect.stringMatching(/^"after" field ts: .*±infinity/) }]);
    expect((await stored('public.refused')).map((r) => r.k)).toEqual([4]);
  });

  it('without a schema nothing is converted (the documented bare form)', async () => {
    const deps = await sink('public.bare', 'bare', true);
    await applyBatch(deps, { partition: 0, records: [rec(JSON.stringify({ op: 'c', before: null, after: { k: 5, note: 'MDk=', d: '2025-11-04' }, source: { lsn: 1, ts_ms: 1 } }))], headSeenAt: null, lagRecords: null });
    expect(await stored('public.bare')).toEqual([expect.objectContaining({ k: 5, note: 'MDk=', d: '2025-11-04' })]);
  });
});
