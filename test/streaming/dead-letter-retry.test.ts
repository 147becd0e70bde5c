/**
 * Retrying Kafka-shaped dead letters (plain JSON, message keys) on a real
 * Postgres, through the same functions the CLI calls: a tombstone is rebuilt
 * from its stored message key and deletes its row, versions decide against rows
 * the stream applied since, chunks never mix partitions, and 64-bit ids and
 * positions stay exact.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction } from '../../src/core/db/connect.ts';
import { writeDeadLetters } from '../../streaming/dead-letters.ts';
import { retryDeadLetters } from '../../streaming/dead-letter-retry.ts';
import { listDeadLetters, showDeadLetter } from '../../streaming/dead-letter-store.ts';
import type { DeadLetter } from '../../streaming/record-pipeline.ts';
import type { Runtime } from '../../src/core/runtime.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { ORDERS_DDL, setupToolkit, testRuntime, writeConfig } from './support.ts';

let db: TestDatabase;
let rt: Runtime;

const row = (id: number, amount: number) => ({ order_id: id, customer_id: 7, amount, status: 'new', order_date: '2026-11-20' });
function letter(offset: bigint, key: object, value: object | null): DeadLetter {
  return {
    record: { position: { major: offset, minor: 0n }, key: Buffer.from(JSON.stringify(key)), value: value === null ? null : Buffer.from(JSON.stringify(value)), timestamp: new Date('2026-11-20T10:00:00Z'), fallbackVersion: offset },
    recordKey: null, stage: 'transform', reason: 'the old transform threw', error: null,
  };
}
async function dead(partition: number, letters: DeadLetter[]): Promise<void> {
  await inTransaction(db.pool, (c) => writeDeadLetters(c, { dataset: 'orders', source: 'shop.orders', partition }, letters));
}

beforeAll(async () => {
  db = await createTestDatabase('dl_retry');
  await setupToolkit(db.pool);
  await db.pool.query(ORDERS_DDL('public.out'));
  await db.pool.query(`ALTER TABLE public.out ADD COLUMN _dr_version bigint, ADD COLUMN _dr_source_ts timestamptz`);
  // What the stream applied meanwhile: order 7 at offset 50, order 8 at offset 60.
  await db.pool.query(`INSERT INTO public.out VALUES (7, 7, 70, 'new', '2026-11-20', 50, now()), (8, 7, 80, 'paid', '2026-11-20', 60, now())`);
  rt = testRuntime(writeConfig({
    database: { url: db.url },
    datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { topic: 'shop.orders', format: 'json' } } } },
  }).config);
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('dead-letters retry (Kafka-shaped records)', () => {
  it('a tombstone is rebuilt from its message key; an older record loses to the newer row; partitions never share a chunk', async () => {
    await dead(3, [letter(100n, { order_id: 7 }, null), letter(40n, { order_id: 8 }, row(8, 1))]);
    await dead(1, [letter(5n, { order_id: 9 }, row(9, 90))]);
    const r = await retryDeadLetters(rt, rt.dataset('orders'), { stage: 'transform' }, { actor: 'ana' });
    expect(r.failed).toEqual([]);
    expect(r.retried).toHaveLength(3);
    const rows = await db.pool.query('SELECT order_id, amount::text, _dr_version::int AS v FROM public.out ORDER BY order_id');
    expect(rows.rows).toEqual([{ order_id: 8, amount: '80.00', v: 60 }, { order_id: 9, amount: '90.00', v: 5 }]);
    // The delete left a tombstone at its version, so a late older insert cannot resurrect order 7.
    expect((await db.pool.query(`SELECT version::int AS v FROM dualrun.stream_tombstones WHERE dataset = 'orders'`)).rows).toEqual([{ v: 100 }]);
    // One chunk per partition, in source order: partition 1 first (its chunk holds only order 9).
    const acts = await db.pool.query<{ k: string }>(`SELECT convert_from(l.message_key, 'UTF8') AS k FROM dualrun.dead_letter_actions a JOIN dualrun.dead_letters l ON l.id = a.dead_letter_id ORDER BY a.id`);
    const order = acts.rows.map((x) => JSON.parse(x.k).order_id);
    expect([order[0], order.slice(1).sort()]).toEqual([9, [7, 8]]);
  });

  it('64-bit ids and positions come back exact', async () => {
    await db.pool.query(`SELECT setval('dualrun.dead_letters_id_seq', 9007199254740993)`);
    await dead(0, [letter(9223372036854775806n, { order_id: 10 }, row(10, 1))]);
    const [d] = (await listDeadLetters(db.pool, 'orders', { ids: ['9007199254740994'] })).letters;
    expect(d).toMatchObject({ id: '9007199254740994', position: '9223372036854775806', recordKey: '{"order_id":10}' });
    const shown = await showDeadLetter(db.pool, 'orders', d.id);
    expect(shown).toMatchObject({ messageKey: '{"order_id":10}', recordTs: '2026-11-20T10:00:00.000Z', payloadEncoding: 'utf8' });
    const r = await retryDeadLetters(rt, rt.dataset('orders'), { ids: [d.id] }, { actor: 'ana' });
    expect(r.retried).toEqual(['9007199254740994']);
    expect((await db.pool.query('SELECT _dr_version::text AS v FROM public.out WHERE order_id = 10')).rows).toEqual([{ v: '9223372036854775806' }]);
  });
});
