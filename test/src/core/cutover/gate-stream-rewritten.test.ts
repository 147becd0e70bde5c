/**
 * A judged window's stream rows written after its match (a late event the sink applied, a
 * replay's swap, an UPDATE by hand) kept the old `match` counting whenever the row count
 * stayed the same: the gate re-counted the stream rows but, unlike the batch rows
 * (rows-rewritten), never asked who wrote them. The reconciler now also records the stream
 * rows' xmin sum (`streamWriters`) and the gate re-reads it with its counts (rule 4.6,
 * `stream-rewritten`). Inserts, updates and deletes in a judged window all stop it counting;
 * writes to windows not judged change nothing. Judged by the real reconciler.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import type { Pool } from '../../../../src/core/db/connect.ts';
import type { Runtime } from '../../../../src/core/runtime.ts';
import { runStreamWorker } from '../../../../streaming/stream-supervisor.ts';
import { replayOnTheSide } from '../../../../streaming/replay.ts';
import type { TestDatabase } from '../../../support/pg.ts';
import { capturedOrdersDatabase, testRuntime, writeConfig } from '../../../streaming/support.ts';
import { createFixture, type Fixture } from './cutover-fixture.ts';

async function orders(fx: Fixture) {
  return (await cutoverStatus(fx.rt)).find((s) => s.dataset === 'orders')!.next!;
}

/** Both outputs hold the same `n` rows on `day` (keys from `k`), adopted by a batch run 10 minutes ago. */
async function sameRows(pool: Pool, day: string, k: number, n = 3): Promise<void> {
  await pool.query(`DELETE FROM analytics.orders_batch WHERE order_date = $1`, [day]);
  await pool.query(`DELETE FROM analytics.orders_stream WHERE order_date = $1`, [day]);
  await pool.query(`INSERT INTO analytics.orders_batch SELECT ${k} + g, $1, g, 'x' FROM generate_series(1, ${n}) g`, [day]);
  await pool.query(`INSERT INTO analytics.orders_stream SELECT ${k} + g, $1, g, 'x', g, now() - interval '1 hour' FROM generate_series(1, ${n}) g`, [day]);
  await pool.query(`INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, started_at, finished_at, rows, snapshot_at)
    VALUES ('orders', $1::date, $1::date + 1, $1, 'adopted', 'succeeded', now() - interval '10 minutes', now() - interval '10 minutes', ${n}, now() - interval '10 minutes')`, [day]);
}

describe('stream rows written after they were judged', () => {
  let fx: Fixture;
  beforeAll(async () => { fx = await createFixture(); });
  afterAll(async () => { await fx?.cleanup(); });

  // Newest first: each of the five newest windows gets one kind of write, the three oldest none.
  const days = ['2026-11-27', '2026-11-26', '2026-11-25', '2026-11-24', '2026-11-23', '2026-11-22', '2026-11-21', '2026-11-20'];

  it('an update, a delete plus an insert, or a replay of as many rows stops a window counting; an insert or a delete alone too; VACUUM FREEZE and writes to other windows do not', async () => {
    await promote(fx.rt, 'orders', { reason: 'test', actor: 'tester' }); // batch → shadow
    const { pool } = fx.db;
    for (const [i, day] of days.entries()) await sameRows(pool, day, 400 + i * 10);
    await pool.query(`INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('orders', now())`);
    const judged = await reconcileDataset(fx.rt, 'orders', { windows: days });
    expect(judged.map((r) => r.verdict)).toEqual(days.map(() => 'match'));
    expect(judged.every((r) => r.streamWriters?.rows === 3 && /^\d+$/.test(r.streamWriters.xminSum))).toBe(true);
    expect(await orders(fx)).toMatchObject({ ready: true, clean: 8, notCounted: [] });

    // Freezing keeps xmin; a late event for a window nobody judged (still open, say) is not evidence either way.
    await pool.query('VACUUM (FREEZE) analytics.orders_stream');
    await pool.query(`INSERT INTO analytics.orders_stream VALUES (499, '2026-11-28', 1, 'x', 9, now())`);
    expect(await orders(fx)).toMatchObject({ ready: true, clean: 8, notCounted: [] });

    // A late update of one value (row count unchanged).
    await pool.query(`UPDATE analytics.orders_stream SET amount = 5, _dr_version = 10 WHERE order_id = 401`);
    // A late delete of one key and a late insert of another, in one transaction.
    await pool.query(`BEGIN; DELETE FROM analytics.orders_stream WHERE order_id = 411;
      INSERT INTO analytics.orders_stream VALUES (419, '2026-11-26', 1, 'x', 11, now()); COMMIT`);
    // A replay: the window's rows written again with the same values.
    await pool.query(`BEGIN; DELETE FROM analytics.orders_stream WHERE order_date = '2026-11-25';
      INSERT INTO analytics.orders_stream SELECT 420 + g, '2026-11-25', g, 'x', g, now() - interval '1 hour' FROM generate_series(1, 3) g; COMMIT`);
    // An insert alone, a delete alone: the count moves.
    await pool.query(`INSERT INTO analytics.orders_stream VALUES (439, '2026-11-24', 1, 'x', 12, now())`);
    await pool.query(`DELETE FROM analytics.orders_stream WHERE order_id = 441`);

    const status = await orders(fx);
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([
      ['2026-11-27', 'stream-rewritten'], ['2026-11-26', 'stream-rewritten'], ['2026-11-25', 'stream-rewritten'],
      ['2026-11-24', 'rows-changed'], ['2026-11-23', 'rows-changed'],
    ]);
    expect(status.notCounted[0].reason).toMatch(/stream output's rows of the window were written since it was judged/);
    expect(status).toMatchObject({ ready: true, clean: 3 });
    expect(status.counted.map((c) => c.window)).toEqual(['2026-11-22', '2026-11-21', '2026-11-20']);

    // Judged again, each window is what its rows are now: the replay matches (and counts again), the update does not.
    const again = await reconcileDataset(fx.rt, 'orders', { windows: ['2026-11-25', '2026-11-27'] });
    expect(again.map((r) => [r.window, r.verdict])).toEqual([['2026-11-25', 'match'], ['2026-11-27', 'mismatch']]);
  });
});

describe('any write to a judged window\'s stream rows (fast-check)', () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await createFixture();
    await promote(fx.rt, 'orders', { reason: 'test', actor: 'tester' });
    await fx.db.pool.query(`INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('orders', now() + interval '1 day')`);
  });
  afterAll(async () => { await fx?.cleanup(); });

  const day = '2026-11-25';
  // Keys 501..503 are the judged rows; 504..506 are free to insert.
  const op = fc.oneof(
    fc.record({ kind: fc.constant('update' as const), key: fc.integer({ min: 501, max: 503 }), same: fc.boolean() }),
    fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 501, max: 503 }) }),
    fc.record({ kind: fc.constant('insert' as const), key: fc.integer({ min: 504, max: 506 }) }),
    fc.record({ kind: fc.constant('reinsert' as const), key: fc.integer({ min: 501, max: 503 }) }),
  );
  type Op = typeof op extends fc.Arbitrary<infer T> ? T : never;

  const sql = (o: Op): string => {
    switch (o.kind) {
      case 'update': return `UPDATE analytics.orders_stream SET amount = ${o.same ? 'amount' : 'amount + 1'} WHERE order_id = ${o.key}`;
      case 'delete': return `DELETE FROM analytics.orders_stream WHERE order_id = ${o.key}`;
      case 'insert': return `INSERT INTO analytics.orders_stream VALUES (${o.key}, '${day}', 1, 'x', 1, now()) ON CONFLICT DO NOTHING`;
      // The same row deleted and written back (a replayed event): values unchanged.
      case 'reinsert': return `WITH d AS (DELETE FROM analytics.orders_stream WHERE order_id = ${o.key} RETURNING *) INSERT INTO analytics.orders_stream SELECT * FROM d`;
    }
  };

  /** Which ops write a row (an UPDATE or DELETE of a key no longer there, an INSERT of a key already there, write nothing), and the rows left. */
  const model = (ops: readonly Op[]): { wrote: boolean; rows: number } => {
    const keys = new Set([501, 502, 503]);
    let wrote = false;
    for (const o of ops) {
      const present = keys.has(o.key);
      if (o.kind === 'insert' ? !present : present) wrote = true;
      if (o.kind === 'insert') keys.add(o.key);
      if (o.kind === 'delete') keys.delete(o.key);
    }
    return { wrote, rows: keys.size };
  };

  it('the window keeps counting only if nothing was written; with as many rows as judged it is stream-rewritten, else rows-changed', async () => {
    const { pool } = fx.db;
    await fc.assert(fc.asyncProperty(fc.array(op, { maxLength: 4 }), fc.boolean(), async (ops, oneTransaction) => {
      await sameRows(pool, day, 500);
      const [r] = await reconcileDataset(fx.rt, 'orders', { windows: [day] });
      expect(r.verdict).toBe('match');
      const writes = ops.map(sql);
      if (oneTransaction && writes.length) await pool.query(`BEGIN; ${writes.join('; ')}; COMMIT`);
      else for (const w of writes) await pool.query(w);
      const { wrote, rows } = model(ops);
      const status = await orders(fx);
      const entry = status.notCounted.find((n) => n.window === day);
      if (!wrote) expect([entry, status.counted.map((c) => c.window)]).toEqual([undefined, [day]]);
      else expect([entry?.rule, status.counted]).toEqual([rows === 3 ? 'stream-rewritten' : 'rows-changed', []]);
    }), { numRuns: 40 });
  });
});

describe('a late event the real stream worker applies to a judged window', () => {
  let db: TestDatabase;
  let rt: Runtime;
  beforeAll(async () => {
    // 60 orders, two a day over 2026-11-01..30 (order g on day g % 30), captured in the changelog.
    db = await capturedOrdersDatabase('gate_stream_late', 60, 'shadow');
    await db.pool.query('CREATE TABLE analytics.orders_batch (LIKE public.orders_src INCLUDING ALL); INSERT INTO analytics.orders_batch SELECT * FROM public.orders_src');
    const { config } = writeConfig({ database: { url: db.url }, datasets: { orders: {
      key: ['order_id'], window: { column: 'order_date', grain: 'day' }, batch: { output: 'analytics.orders_batch' },
      stream: { output: 'analytics.orders_stream', source: { table: 'public.orders_src', changelogRetention: 'forever' } }, cutover: { promoteAfter: 3 } } } });
    rt = testRuntime(config);
  });
  afterAll(async () => { await rt?.close(); await db?.drop(); });

  const toIdle = async () => { await runStreamWorker(rt, { datasets: ['orders'], untilIdle: true }); };
  const status = async () => (await cutoverStatus(rt)).find((s) => s.dataset === 'orders')!.next!;

  it('an update, and a delete plus an insert, streamed into judged windows stop them counting; a replay stops only the windows whose rows it wrote', { timeout: 60_000 }, async () => {
    await toIdle();
    const days = ['2026-11-22', '2026-11-21', '2026-11-20', '2026-11-19'];
    for (const day of days) {
      await db.pool.query(`INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, started_at, finished_at, rows, snapshot_at)
        VALUES ('orders', $1::date, $1::date + 1, $1, 'adopted', 'succeeded', now() - interval '10 minutes', now() - interval '10 minutes', 2, now() - interval '10 minutes')`, [day]);
    }
    const judged = await reconcileDataset(rt, 'orders', { windows: days, assumeSettled: true });
    expect(judged.map((r) => r.verdict)).toEqual(['match', 'match', 'match', 'match']);
    expect(await status()).toMatchObject({ ready: true, clean: 4, notCounted: [] });

    // Late source changes: order 21 (2026-11-22) paid; order 20 (2026-11-21) cancelled and replaced by order 61 the same day.
    await db.pool.query(`UPDATE public.orders_src SET status = 'paid' WHERE order_id = 21`);
    await db.pool.query(`DELETE FROM public.orders_src WHERE order_id = 20; INSERT INTO public.orders_src VALUES (61, 7, 3.50, 'new', '2026-11-21')`);
    await toIdle();
    const now = await status();
    expect(now.notCounted.map((n) => [n.window, n.rule])).toEqual([['2026-11-22', 'stream-rewritten'], ['2026-11-21', 'stream-rewritten']]);
    expect(now).toMatchObject({ ready: false, clean: 2 });

    // A replay from the beginning: its swap writes only rows that differ. One row of 2026-11-20 was changed by hand,
    // so the replay writes it back (that window stops counting); 2026-11-19 it leaves alone, and it keeps counting.
    await db.pool.query(`UPDATE analytics.orders_stream SET amount = 0 WHERE order_id = 19`);
    const replay = await replayOnTheSide(rt, rt.dataset('orders'), { kind: 'beginning' }, { resetOutput: true });
    expect(replay).toMatchObject({ swapped: true, rowsDeleted: 1, rowsInserted: 1 });
    const after = await status();
    expect(after.notCounted.map((n) => [n.window, n.rule])).toEqual([['2026-11-22', 'stream-rewritten'], ['2026-11-21', 'stream-rewritten'], ['2026-11-20', 'stream-rewritten']]);
    expect(after.counted.map((c) => c.window)).toEqual(['2026-11-19']);
    // Judged again, the replayed window is what it is: a match that counts.
    await reconcileDataset(rt, 'orders', { windows: ['2026-11-20'], assumeSettled: true });
    expect((await status()).counted.map((c) => c.window)).toEqual(['2026-11-20', '2026-11-19']);
  });
});
