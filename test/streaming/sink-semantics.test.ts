/**
 * The sink's rules on a real Postgres, record by record: source order by version,
 * stale versions and late inserts after deletes ignored, newest-per-key within a
 * batch, positions skip redeliveries, rows Postgres rejects become `apply` dead
 * letters while the rest of the batch commits; and the two decoders' edge cases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { applyBatch, type SinkDeps } from '../../streaming/exactly-once-sink.ts';
import { mergeStatements } from '../../streaming/output-merge.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';
import { decodeDebezium } from '../../streaming/debezium-decoder.ts';
import { decodePlainJson } from '../../streaming/json-decoder.ts';
import type { SourceRecord } from '../../streaming/transport.ts';
import { ORDERS_DDL, setupToolkit } from './support.ts';

let db: TestDatabase;
let deps: SinkDeps;
let offset = 0;

beforeAll(async () => {
  db = await createTestDatabase('stream_sink');
  await setupToolkit(db.pool);
  await db.pool.query(ORDERS_DDL('public.out'));
  const out = await prepareOutputTable(db.pool, parseTableRef('public.out')!, ['order_id']);
  deps = {
    db: db.pool, dataset: 'sem', key: ['order_id'], source: 'sem-topic', merge: mergeStatements(out), committed: new Map(),
    decode: decodeDebezium, validate: () => null, transform: { transform: (r) => r, stateKey: null, handlesDeletes: false },
  };
});
afterAll(async () => { await db?.drop(); });

const row = (id: number, amount: string, status = 'new') => ({ order_id: id, customer_id: 7, amount, status, order_date: '2026-11-20' });
function rec(value: object | string | null, key: object | null = null, at = offset++): SourceRecord {
  return { position: { major: BigInt(at), minor: 0n }, key: key ? Buffer.from(JSON.stringify(key)) : null, value: value === null ? null : Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)), timestamp: new Date(), fallbackVersion: BigInt(at) };
}
const ev = (op: string, lsn: number, before: object | null, after: object | null) => ({ op, before, after, source: { lsn, ts_ms: 1_790_000_000_000 + lsn } });
const apply = (records: SourceRecord[], partition = 0) => applyBatch(deps, { partition, records, headSeenAt: null, lagRecords: null });
const get = async (id: number) => (await db.pool.query('SELECT amount::text, status, _dr_version::int AS v FROM public.out WHERE order_id = $1', [id])).rows[0];

describe('exactly-once sink rules', () => {
  it('a stale version never overwrites a newer one', async () => {
    await apply([rec(ev('c', 10, null, row(1, '10.00')))]);
    await apply([rec(ev('u', 5, null, row(1, '5.00')))]);
    expect(await get(1)).toEqual({ amount: '10.00', status: 'new', v: 10 });
  });

  it('a delete leaves a tombstone; a late older insert does not resurrect the key, a newer one does', async () => {
    await apply([rec(ev('c', 20, null, row(2, '1.00')))]);
    await apply([rec(ev('d', 25, row(2, '1.00'), null)), rec(null, { order_id: 2 })]);
    expect(await get(2)).toBeUndefined();
    await apply([rec(ev('c', 22, null, row(2, '2.00')))]);
    expect(await get(2)).toBeUndefined();
    const tomb = await db.pool.query(`SELECT record_key, version::int FROM dualrun.stream_tombstones WHERE dataset = 'sem'`);
    expect(tomb.rows).toEqual([{ record_key: { order_id: 2 }, version: 25 }]);
    await apply([rec(ev('c', 30, null, row(2, '3.00')))]);
    expect(await get(2)).toEqual({ amount: '3.00', status: 'new', v: 30 });
    expect((await db.pool.query(`SELECT 1 FROM dualrun.stream_tombstones WHERE dataset = 'sem'`)).rowCount).toBe(0);
  });

  it('regression: a column the transform leaves out keeps its default and stored value instead of becoming NULL', async () => {
    await db.pool.query(`${ORDERS_DDL('public.out_defaults')}; ALTER TABLE public.out_defaults ADD COLUMN loaded_at timestamptz NOT NULL DEFAULT now()`);
    const out = await prepareOutputTable(db.pool, parseTableRef('public.out_defaults')!, ['order_id']);
    const own = { ...deps, dataset: 'sem_defaults', source: 'sem-defaults', merge: mergeStatements(out), committed: new Map() };
    const applyOwn = (records: SourceRecord[]) => applyBatch(own, { partition: 0, records, headSeenAt: null, lagRecords: null });
    const read = async () => (await db.pool.query('SELECT amount::text, loaded_at FROM public.out_defaults WHERE order_id = 50')).rows[0];
    await applyOwn([rec(ev('c', 150, null, row(50, '1.00')))]);
    const first = await read();
    expect(first.loaded_at).toBeInstanceOf(Date);
    await applyOwn([rec(ev('u', 151, null, row(50, '2.00')))]);
    expect(await read()).toEqual({ amount: '2.00', loaded_at: first.loaded_at });
  });

  it('within one batch the newest version per key wins, whatever the arrival order', async () => {
    await apply([rec(ev('c', 103, null, row(3, '3.00'))), rec(ev('u', 109, null, row(3, '9.00', 'paid'))), rec(ev('u', 105, null, row(3, '5.00')))]);
    expect(await get(3)).toEqual({ amount: '9.00', status: 'paid', v: 109 });
  });

  it('regression: two changes with one version ended differently in one batch (the later won) and in two (the first stayed)', async () => {
    await apply([rec(ev('c', 201, null, row(20, '1.00', 'first'))), rec(ev('u', 201, null, row(20, '2.00', 'second')))]);
    await apply([rec(ev('c', 201, null, row(21, '1.00', 'first')))]);
    await apply([rec(ev('u', 201, null, row(21, '2.00', 'second')))]);
    // A version is applied once: the first change carrying it stays, wherever the batches were cut.
    expect(await get(20)).toEqual({ amount: '1.00', status: 'first', v: 201 });
    expect(await get(21)).toEqual({ amount: '1.00', status: 'first', v: 201 });
  });

  it('records at or below the stored position are skipped (a redelivered batch has no effect)', async () => {
    const batch = [rec(ev('c', 200, null, row(4, '4.00'))), rec(ev('u', 201, null, row(4, '4.50')))];
    const first = await apply(batch, 1);
    const again = await apply(batch, 1);
    expect([first.fresh, again.fresh]).toEqual([2, 0]);
    const pos = await db.pool.query(`SELECT position::int, records_applied::int FROM dualrun.stream_positions WHERE dataset = 'sem' AND partition = 1`);
    expect(pos.rows[0]).toEqual({ position: Number(batch[1].position.major), records_applied: 2 });
  });

  it('a row Postgres rejects becomes an apply dead letter; the rest of the batch commits', async () => {
    const o = await apply([rec(ev('c', 300, null, row(5, '1.00'))), rec(ev('c', 301, null, row(6, 'not-a-number'))), rec(ev('c', 302, null, row(7, '7.00')))]);
    expect(o).toMatchObject({ fresh: 3, applied: 2, dead: 1 });
    expect((await get(5))?.amount).toBe('1.00');
    expect((await get(7))?.amount).toBe('7.00');
    const dl = await db.pool.query(`SELECT stage, reason, error->>'code' AS code, convert_from(payload, 'UTF8') AS payload FROM dualrun.dead_letters WHERE dataset = 'sem'`);
    expect(dl.rows).toHaveLength(1);
    expect(dl.rows[0]).toMatchObject({ stage: 'apply', code: '22P02' });
    expect(dl.rows[0].reason).toMatch(/numeric/);
    expect(dl.rows[0].payload).toContain('not-a-number');
  });
});

describe('decoders', () => {
  it('Debezium: {schema, payload} wrapping, tombstones, deletes keyed by the message key', () => {
    const wrapped = decodeDebezium(rec({ schema: {}, payload: ev('u', 42, null, row(1, '1.00')) }), ['order_id']);
    expect(wrapped).toMatchObject({ ok: true, event: { op: 'upsert', version: 42n } });
    expect(decodeDebezium(rec(null, { order_id: 1 }), ['order_id'])).toEqual({ ok: true, event: null });
    const del = decodeDebezium(rec({ op: 'd', before: null, after: null, source: {} }, { schema: {}, payload: { order_id: 9 } }), ['order_id']);
    expect(del).toMatchObject({ ok: true, event: { op: 'delete', row: { order_id: 9 } } });
    expect(decodeDebezium(rec({ op: 'x', after: {} }), ['order_id'])).toMatchObject({ ok: false, reason: expect.stringMatching(/unsupported Debezium op/) });
  });

  it('plain JSON: the row, a null value deletes by key, unwrap-SMT fields are understood', () => {
    const up = decodePlainJson(rec({ order_id: 1, amount: 2, __lsn: '77', __source_ts_ms: 1000 }), ['order_id']);
    expect(up).toMatchObject({ ok: true, event: { op: 'upsert', row: { order_id: 1, amount: 2 }, version: 77n, sourceTs: new Date(1000) } });
    expect(Object.keys((up as { event: { row: object } }).event.row)).toEqual(['order_id', 'amount']);
    expect(decodePlainJson(rec(null, { order_id: 5 }), ['order_id'])).toMatchObject({ ok: true, event: { op: 'delete', row: { order_id: 5 } } });
    expect(decodePlainJson(rec({ order_id: 6, __deleted: 'true' }), ['order_id'])).toMatchObject({ ok: true, event: { op: 'delete' } });
    expect(decodePlainJson(rec('[1,2]'), ['order_id'])).toMatchObject({ ok: false });
  });
});
