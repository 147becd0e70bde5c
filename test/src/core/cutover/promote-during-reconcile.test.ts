/**
 * A promotion granted while a reconciliation of the same dataset was still running:
 * the gate read the stored verdicts (clean), and seconds later the running
 * reconciliation stored a mismatch. Two real sessions: a reconciliation held in the
 * middle of its run (a third session locks dualrun.watermarks, which the reconciler
 * reads and the gate does not), and the promotion.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { readStageRow } from '../../../../src/core/stages.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createFixture, daysAgo, seedVerdict, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
let reconciler: Runtime;
beforeAll(async () => {
  fx = await createFixture();
  reconciler = createRuntime({ config: fx.rt.config, log: pino({ level: 'silent' }) });
});
afterAll(async () => { await reconciler?.close(); await fx?.cleanup(); });

const why = { reason: 'test', actor: 'tester' };

async function waitUntilBlocked(pool: pg.Pool): Promise<void> {
  for (let i = 0; i < 200; i++) {
    const r = await pool.query(`SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%dualrun.watermarks%'`);
    if (r.rowCount) return;
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error('the reconciliation never reached the watermark read');
}

describe('a promotion while a reconciliation runs', () => {
  it('is not granted on the verdicts stored so far while a reconciliation of the dataset that will store a mismatch is running (promotion granted seconds before the mismatch)', async () => {
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', why); // batch → shadow
    for (const d of [1, 2, 3]) await seedVerdict(pool, { day: daysAgo(d), verdict: 'match' });
    // Window 5 days ago: the batch holds an order the stream never got, and its batch run succeeded.
    const w = daysAgo(5);
    await pool.query(`INSERT INTO analytics.orders_batch VALUES (900, $1, 9, 'batch')`, [w]);
    await pool.query(`INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, started_at, finished_at, rows, snapshot_at)
      VALUES ('orders', $1::date, $1::date + 1, $1, 'managed', 'succeeded', now() - interval '3 hours', now() - interval '3 hours', 1, now() - interval '3 hours')`, [w]);
    await pool.query(`INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('orders', now())`);

    const locker = new pg.Client({ connectionString: fx.db.url });
    await locker.connect();
    await locker.query('BEGIN');
    await locker.query('LOCK TABLE dualrun.watermarks IN ACCESS EXCLUSIVE MODE');
    const running = reconcileDataset(reconciler, 'orders', { windows: [w] });
    try {
      await waitUntilBlocked(pool);
      const e = await promote(fx.rt, 'orders', { ...why, lockTimeoutMs: 300 }).then(() => null, (err: unknown) => err);
      expect(e).toMatchObject({ code: 'DUALRUN_LOCK_TIMEOUT', message: expect.stringContaining('a reconciliation of the dataset is running (pid ') });
      expect((await readStageRow(pool, 'orders')).stage).toBe('shadow');
    } finally {
      await locker.query('COMMIT');
      await locker.end();
    }
    const [result] = await running;
    expect(result.verdict).toBe('mismatch');
    // Once it has stored its verdict, the gate sees it.
    const again = await promote(fx.rt, 'orders', why).then(() => null, (err: unknown) => err);
    expect(again).toMatchObject({ code: 'DUALRUN_GATE_REFUSED' });
    expect((await readStageRow(pool, 'orders')).stage).toBe('shadow');
  });
});
