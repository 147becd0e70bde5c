/**
 * Replay from a point in time on the changelog transport, its refusal for keyed
 * state, and a running worker following stage changes without a restart.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { replayOnTheSide } from '../../streaming/replay.ts';
import { runStreamWorker } from '../../streaming/stream-supervisor.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { FIXTURES, ORDERS_DDL, ORDER_COLUMNS, setStage, setupToolkit, symmetricDifference, tableChecksum, testRuntime, writeConfig } from './support.ts';

let db: TestDatabase;
let config: ReturnType<typeof writeConfig>['config'];

beforeAll(async () => {
  db = await createTestDatabase('stream_replay');
  await setupToolkit(db.pool);
  await db.pool.query(ORDERS_DDL('public.src'));
  await db.pool.query(ORDERS_DDL('public.out'));
  await db.pool.query('CREATE TABLE public.counts (customer_id integer PRIMARY KEY, events integer NOT NULL, total_cents bigint NOT NULL)');
  await installCapture(db.pool, parseTableRef('public.src')!);
  config = writeConfig({
    database: { url: db.url },
    datasets: {
      orders: { key: ['order_id'], batch: { output: 'public.b1' }, stream: { output: 'public.out', source: { table: 'public.src', changelogRetention: 'forever' } } }, // replays need the history
      counts: { key: ['customer_id'], batch: { output: 'public.b2' }, stream: { output: 'public.counts', source: { table: 'public.src', changelogRetention: 'forever' }, transform: `${FIXTURES}/customer-counts.ts` } },
    },
  }).config;
});
afterAll(async () => { await db?.drop(); });

async function toIdle(datasets: string[]) {
  const rt = testRuntime(config);
  try { return await runStreamWorker(rt, { datasets, untilIdle: true }); } finally { await rt.close(); }
}

describe('replay and stages', () => {
  it('a running worker starts a dataset promoted to shadow and stops it on rollback, without a restart', { timeout: 60_000 }, async () => {
    const stop = new AbortController();
    const rt = testRuntime(config, stop.signal);
    const worker = runStreamWorker(rt, { datasets: ['orders'], untilIdle: false, stagePollMs: 200 });
    try {
      await db.pool.query(`INSERT INTO public.src SELECT g, g % 10, 1.00, 'new', '2026-11-01' FROM generate_series(1, 100) g`);
      await new Promise((r) => setTimeout(r, 1000));
      expect((await db.pool.query('SELECT 1 FROM public.out')).rowCount).toBe(0); // stage batch: not streamed
      await setStage(db.pool, 'orders', 'shadow');
      await waitFor(async () => (await db.pool.query('SELECT 1 FROM public.out')).rowCount === 100);
      await setStage(db.pool, 'orders', 'batch');
      await new Promise((r) => setTimeout(r, 1000));
      await db.pool.query(`UPDATE public.src SET status = 'paid' WHERE order_id <= 10`);
      await new Promise((r) => setTimeout(r, 1000));
      expect((await db.pool.query(`SELECT 1 FROM public.out WHERE status = 'paid'`)).rowCount).toBe(0);
    } finally {
      stop.abort();
      await worker;
      await rt.close();
    }
  });

  it('--from-time rebuilds rows changed since T and ends equal to the source', { timeout: 60_000 }, async () => {
    await setStage(db.pool, 'orders', 'shadow');
    await toIdle(['orders']);
    await new Promise((r) => setTimeout(r, 50));
    const t = new Date();
    await db.pool.query(`UPDATE public.src SET amount = amount + 2, status = 'shipped' WHERE order_id % 3 = 0`);
    await db.pool.query('DELETE FROM public.src WHERE order_id % 7 = 0');
    await toIdle(['orders']);
    const before = await tableChecksum(db.pool, 'public.out', ORDER_COLUMNS);
    expect(before).toEqual(await tableChecksum(db.pool, 'public.src', ORDER_COLUMNS));
    // A wrong row in the output (not from the source) is replaced by the rebuild from T.
    await db.pool.query(`UPDATE public.out SET status = 'tampered' WHERE order_id IN (SELECT min(order_id) FROM public.out WHERE order_id % 3 = 0)`);
    const rt = testRuntime(config);
    await expect(replayOnTheSide(rt, rt.dataset('orders'), { kind: 'time', at: t }, { resetOutput: false })).rejects.toMatchObject({ code: 'DUALRUN_USAGE' });
    const r = await replayOnTheSide(rt, rt.dataset('orders'), { kind: 'time', at: t }, { resetOutput: true });
    await rt.close();
    expect(r).toMatchObject({ swapped: true, rebuiltRows: before.rows, rowsDeleted: 1, rowsInserted: 1 });
    expect((await db.pool.query(`SELECT to_regclass('dualrun.rebuild_orders') AS t`)).rows[0].t).toBeNull();
    expect(await tableChecksum(db.pool, 'public.out', ORDER_COLUMNS)).toEqual(before);
    expect(await symmetricDifference(db.pool, 'public.out', 'public.src', ORDER_COLUMNS)).toBe(0);
  });

  it('--from-time is refused for a dataset with keyed state; --from-beginning rebuilds it identically', { timeout: 60_000 }, async () => {
    await setStage(db.pool, 'counts', 'shadow');
    await toIdle(['counts']);
    const cols = ['customer_id', 'events', 'total_cents'];
    const first = await tableChecksum(db.pool, 'public.counts', cols);
    expect(first.rows).toBe(10);
    const state = (await db.pool.query(`SELECT state_key, value FROM dualrun.keyed_state WHERE dataset = 'counts' ORDER BY 1`)).rows;
    const rt = testRuntime(config);
    await expect(replayOnTheSide(rt, rt.dataset('counts'), { kind: 'time', at: new Date(0) }, { resetOutput: true })).rejects.toThrow(/keyed state/);
    const r = await replayOnTheSide(rt, rt.dataset('counts'), { kind: 'beginning' }, { resetOutput: true });
    await rt.close();
    expect(r).toMatchObject({ swapped: true, rebuiltRows: 10 });
    expect((await db.pool.query(`SELECT state_key, value FROM dualrun.keyed_state WHERE dataset = 'counts' ORDER BY 1`)).rows).toEqual(state);
    expect((await db.pool.query(`SELECT 1 FROM dualrun.keyed_state WHERE dataset LIKE '%.rebuild'`)).rowCount).toBe(0);
    expect(await tableChecksum(db.pool, 'public.counts', cols)).toEqual(first);
  });
});

async function waitFor(cond: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) { if (await cond()) return; await new Promise((r) => setTimeout(r, 100)); }
  throw new Error('condition not met in time');
}
