/**
 * The embedded default end to end: `capture` triggers on a real source table,
 * ~100k changes written by concurrent SQL writers while two stream workers run on
 * the same dataset at once (each batch is offered to both: redeliveries), then a
 * run to idle. The output must equal the source table exactly, and the
 * exactly-once counters must add up to the changelog.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { runStreamWorker } from '../../streaming/stream-supervisor.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { generateChanges } from './change-generator.ts';
import { ORDERS_DDL, ORDER_COLUMNS, setStage, ordersStreamDatabase, symmetricDifference, tableChecksum, testRuntime, writeConfig } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await ordersStreamDatabase('stream_cl');
  await db.pool.query(ORDERS_DDL('public.orders_src'));
  await db.pool.query(`INSERT INTO public.orders_src SELECT g, 1, 9.99, 'new', date '2026-10-31' FROM generate_series(-999, 0) g`);
});
afterAll(async () => { await db?.drop(); });

function config() {
  return writeConfig({
    database: { url: db.url },
    datasets: {
      orders: {
        key: ['order_id'],
        batch: { output: 'analytics.orders_batch' },
        stream: { output: 'analytics.orders_stream', source: { table: 'public.orders_src', changelogRetention: 'forever' } }, // the checks below read the whole changelog
      },
    },
  }).config;
}

describe('changelog transport', () => {
  it('100k captured changes from concurrent writers end in exactly the source table', { timeout: 240_000 }, async () => {
    const cfg = config();
    const snap = await installCapture(db.pool, parseTableRef('public.orders_src')!);
    expect(snap.snapshotRows).toBe(1000); // rows present before capture arrive as op r
    await setStage(db.pool, 'orders', 'shadow');
    const stop = new AbortController();
    const rtA = testRuntime(cfg, stop.signal);
    const rtB = testRuntime(cfg, stop.signal);
    const workers = Promise.all([
      runStreamWorker(rtA, { datasets: ['orders'], untilIdle: false, stagePollMs: 500 }),
      runStreamWorker(rtB, { datasets: ['orders'], untilIdle: false, stagePollMs: 500 }),
    ]);
    let events = 0;
    try {
      events = await generateChanges(db.pool, 'public.orders_src', { keys: Number(process.env.GEN_KEYS ?? 30_000), rounds: Number(process.env.GEN_ROUNDS ?? 5) });
    } finally {
      stop.abort();
      await workers;
    }
    expect(events).toBeGreaterThanOrEqual(process.env.GEN_KEYS ? 0 : 100_000);
    await Promise.all([rtA.close(), rtB.close()]);
    const rt = testRuntime(cfg);
    await runStreamWorker(rt, { datasets: ['orders'], untilIdle: true });
    await rt.close();

    const logged = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dualrun.changelog WHERE source_table = 'public.orders_src'`);
    expect(logged.rows[0].n).toBe(events + 1000);
    expect(await symmetricDifference(db.pool, 'public.orders_src', 'analytics.orders_stream', ORDER_COLUMNS)).toBe(0);
    const [src, out] = [await tableChecksum(db.pool, 'public.orders_src', ORDER_COLUMNS), await tableChecksum(db.pool, 'analytics.orders_stream', ORDER_COLUMNS)];
    expect(out).toEqual(src);
    const counters = await db.pool.query<{ applied: string; dead: string }>(`SELECT sum(records_applied)::text AS applied, sum(records_dead)::text AS dead FROM dualrun.stream_positions WHERE dataset = 'orders'`);
    expect(Number(counters.rows[0].applied) + Number(counters.rows[0].dead)).toBe(events + 1000);
    expect(Number(counters.rows[0].dead)).toBe(0);
    const tomb = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dualrun.stream_tombstones t WHERE dataset = 'orders'
       AND NOT EXISTS (SELECT 1 FROM public.orders_src s WHERE jsonb_build_object('order_id', s.order_id) = t.record_key)`);
    const deletedKeys = await db.pool.query<{ n: number }>(`SELECT count(DISTINCT before->>'order_id')::int AS n FROM dualrun.changelog c WHERE op = 'd'
       AND NOT EXISTS (SELECT 1 FROM public.orders_src s WHERE s.order_id = (c.before->>'order_id')::int)`);
    expect(tomb.rows[0].n).toBe(deletedKeys.rows[0].n);
    const wm = await db.pool.query<{ event_time: Date | null }>(`SELECT event_time FROM dualrun.watermarks WHERE dataset = 'orders'`);
    const newest = await db.pool.query<{ ts: Date }>(`SELECT max(ts) AS ts FROM dualrun.changelog`);
    expect(wm.rows[0].event_time!.getTime()).toBeGreaterThanOrEqual(newest.rows[0].ts.getTime());
  });
});
