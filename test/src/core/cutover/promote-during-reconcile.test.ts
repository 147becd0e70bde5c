/**
 * A promotion granted while a reconciliation of the same dataset was still running:
 * the gate read the stored verdicts (clean), and seconds later the running
 * reconciliation stored a mismatch. Two real sessions: a reconciliation held in the
 * middle of its run (a third session locks dualrun.watermarks, which the reconciler
 * reads and the gate does not), and the promotion.
 */
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { readStageRow } from '../../../../src/core/stages.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createFixture, daysAgo, seedVerdict, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
let reconciler: Runtime;
beforeEach(async () => {
  fx = await createFixture();
  reconciler = createRuntime({ config: fx.rt.config, log: pino({ level: 'silent' }) });
});
afterEach(async () => { await reconciler?.close(); await fx?.cleanup(); });

const why = { reason: 'test', actor: 'tester' };

async function waitUntilBlocked(pool: pg.Pool): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const r = await pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%dualrun.watermarks%'`);
    if (r.rowCount) return;
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error('the reconciliation never reached the watermark read');
}

/** A window of `day` on both sides alike (or on the batch side only), with a succeeded batch run and a stream watermark: the reconciler reads the watermark. */
async function judgeableWindow(pool: pg.Pool, day: string, opts: { streamToo: boolean } = { streamToo: true }): Promise<void> {
  await pool.query(`INSERT INTO analytics.orders_batch VALUES (900, $1, 9, 'x')`, [day]);
  if (opts.streamToo) await pool.query(`INSERT INTO analytics.orders_stream VALUES (900, $1, 9, 'x', 1, now())`, [day]);
  await pool.query(`INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, started_at, finished_at, rows, snapshot_at)
    VALUES ('orders', $1::date, $1::date + 1, $1, 'managed', 'succeeded', now() - interval '3 hours', now() - interval '3 hours', 1, now() - interval '3 hours')`, [day]);
  await pool.query(`INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('orders', now()) ON CONFLICT DO NOTHING`);
}

/** Runs a reconciliation of `day` held at its watermark read until `during` is done. */
async function whileHeld<T>(day: string, during: () => Promise<T>): Promise<{ during: T; verdict: string }> {
  const locker = new pg.Client({ connectionString: fx.db.url });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE dualrun.watermarks IN ACCESS EXCLUSIVE MODE');
  const running = reconcileDataset(reconciler, 'orders', { windows: [day] });
  let out: T;
  try {
    await waitUntilBlocked(fx.db.pool);
    out = await during();
  } finally {
    await locker.query('COMMIT');
    await locker.end();
  }
  return { during: out, verdict: (await running)[0].verdict };
}

describe('a promotion while a reconciliation runs', () => {
  it('is not granted on the verdicts stored so far while a reconciliation of the dataset that will store a mismatch is running (promotion granted seconds before the mismatch)', async () => {
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', why); // batch → shadow
    for (const d of [1, 2, 3]) await seedVerdict(pool, { day: daysAgo(d), verdict: 'match' });
    // Window 5 days ago: the batch holds an order the stream never got, and its batch run succeeded.
    const w = daysAgo(5);
    await judgeableWindow(pool, w, { streamToo: false });
    const held = await whileHeld(w, async () => {
      const e = await promote(fx.rt, 'orders', { ...why, lockTimeoutMs: 300 }).then(() => null, (err: unknown) => err);
      expect(e).toMatchObject({ code: 'DUALRUN_LOCK_TIMEOUT', message: expect.stringContaining('a reconciliation of the dataset is running (pid ') });
      expect((await readStageRow(pool, 'orders')).stage).toBe('shadow');
    });
    expect(held.verdict).toBe('mismatch');
    // Once it has stored its verdict, the gate sees it.
    const again = await promote(fx.rt, 'orders', why).then(() => null, (err: unknown) => err);
    expect(again).toMatchObject({ code: 'DUALRUN_GATE_REFUSED' });
    expect((await readStageRow(pool, 'orders')).stage).toBe('shadow');
  });

  it('two promotes from batch that overlap while a reconciliation runs do not push the dataset two steps (the second, queued behind the first, met the next gate and passed it)', async () => {
    const { pool } = fx.db;
    for (const d of [1, 2, 3]) await seedVerdict(pool, { day: daysAgo(d), verdict: 'match' });
    await judgeableWindow(pool, daysAgo(5));
    const { during } = await whileHeld(daysAgo(5), async () => {
      // Both read the stage (batch, version 0) and wait for the reconciliation; released, they commit one after the other.
      const both = [promote(fx.rt, 'orders', { ...why, lockTimeoutMs: 20_000 }), promote(fx.rt, 'orders', { ...why, lockTimeoutMs: 20_000 })];
      await new Promise((ok) => setTimeout(ok, 300));
      return both;
    });
    const results = await Promise.allSettled(during);
    const outcomes = results.map((r) => (r.status === 'fulfilled' ? `ok ${r.value.to}` : (r.reason as { code: string }).code)).sort();
    expect(outcomes).toEqual(['DUALRUN_CONFLICT', 'ok shadow']);
    expect((await readStageRow(pool, 'orders')).stage).toBe('shadow');
  });
});
