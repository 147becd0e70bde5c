/**
 * Regression (issue 11.7): `export default async function` dead-lettered every
 * record ("transform returned a row without key column(s)"), because the promise
 * was taken for the row. Async transforms and async `stateKey` are awaited record
 * by record: rows, source order and keyed state are as for a sync transform.
 * The batch path's transform is checked the same way.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { applyBatch, type SinkDeps } from '../../streaming/exactly-once-sink.ts';
import { mergeStatements } from '../../streaming/output-merge.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';
import { decodePlainJson } from '../../streaming/json-decoder.ts';
import { loadTransform } from '../../streaming/transform-module.ts';
import { loadTransform as loadBatchTransform, transformPage } from '../../legacy-batch/transform-module.ts';
import type { SourceRecord } from '../../streaming/transport.ts';
import { FIXTURES, ORDERS_DDL, setupToolkit } from './support.ts';

let db: TestDatabase;
let offset = 0;
beforeAll(async () => {
  db = await createTestDatabase('stream_async');
  await setupToolkit(db.pool);
  await db.pool.query(ORDERS_DDL('public.out'));
  await db.pool.query('CREATE TABLE public.counts (customer_id integer PRIMARY KEY, events integer NOT NULL, total_cents bigint NOT NULL)');
});
afterAll(async () => { await db?.drop(); });

async function sink(table: string, key: string[], dataset: string, transform: string): Promise<SinkDeps> {
  const out = await prepareOutputTable(db.pool, parseTableRef(table)!, key);
  const t = await loadTransform(`${FIXTURES}/${transform}`);
  return { db: db.pool, dataset, key, source: `${dataset}-t`, merge: mergeStatements(out, { guardVersions: t.stateKey === null }), committed: new Map(), decode: decodePlainJson, validate: () => null, transform: t };
}
const rec = (row: object): SourceRecord => {
  const at = offset++;
  return { position: { major: BigInt(at), minor: 0n }, key: null, value: Buffer.from(JSON.stringify(row)), timestamp: new Date(), fallbackVersion: BigInt(at) };
};
const order = (id: number, customer: number, amount: string) => ({ order_id: id, customer_id: customer, amount, status: 'new', order_date: '2026-11-20' });

describe('async transforms', () => {
  it('regression: an async default export no longer dead-letters every record; its rows are applied', async () => {
    const deps = await sink('public.out', ['order_id'], 'async_orders', 'async-orders.ts');
    const o = await applyBatch(deps, { partition: 0, headSeenAt: null, lagRecords: null, records: [rec(order(1, 1, '1.00')), rec(order(2, 1, '2.00')), rec(order(1, 1, '3.00'))] });
    expect(o).toMatchObject({ applied: 3, dead: 0 });
    expect((await db.pool.query('SELECT order_id, amount::text, status FROM public.out ORDER BY order_id')).rows)
      .toEqual([{ order_id: 1, amount: '3.00', status: 'NEW' }, { order_id: 2, amount: '2.00', status: 'NEW' }]);
  });

  it('an async stateful transform keeps source order and keyed state across batches', async () => {
    const deps = await sink('public.counts', ['customer_id'], 'async_counts', 'async-counts.ts');
    const apply = (records: SourceRecord[]) => applyBatch(deps, { partition: 0, headSeenAt: null, lagRecords: null, records });
    await apply(Array.from({ length: 30 }, (_, i) => rec(order(i, i % 3, `${i}.00`))));
    await apply(Array.from({ length: 9 }, (_, i) => rec(order(100 + i, i % 3, `${100 + i}.00`))));
    // Per customer: 13 events, and the row of the last record in source order.
    expect((await db.pool.query('SELECT customer_id, events, total_cents::int FROM public.counts ORDER BY 1')).rows)
      .toEqual([{ customer_id: 0, events: 13, total_cents: 10600 }, { customer_id: 1, events: 13, total_cents: 10700 }, { customer_id: 2, events: 13, total_cents: 10800 }]);
    const state = await db.pool.query(`SELECT state_key, value FROM dualrun.keyed_state WHERE dataset = 'async_counts' ORDER BY 1`);
    expect(state.rows).toEqual(['0', '1', '2'].map((k) => ({ state_key: k, value: { events: 13 } })));
  });

  it('the batch path awaits an async transform too', async () => {
    const fn = await loadBatchTransform('orders', `${FIXTURES}/async-orders.ts`);
    expect(await transformPage(fn, [order(1, 1, '1.00'), order(2, 2, '2.00')])).toEqual([
      { ...order(1, 1, '1.00'), status: 'NEW' }, { ...order(2, 2, '2.00'), status: 'NEW' }]);
  });
});
