/**
 * The gate and the reconciler read "now" from Node's clock while verdicts and batch runs
 * finish by Postgres's clock (`now()` defaults). With this process's clock 10 minutes
 * ahead, a reconciliation seemed to start after the batch load that replaced its window's
 * data, so its verdict counted; with it 3 hours behind, evidence older than
 * maxEvidenceAge looked fresh. Only Date is faked: Postgres keeps the real time.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createFixture, daysAgo, seedVerdict, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
beforeEach(async () => { fx = await createFixture(); await promote(fx.rt, 'orders', { reason: 'test', actor: 'tester' }); });
afterEach(async () => { vi.useRealTimers(); await fx?.cleanup(); });

const M = 60_000;
const skew = (ms: number) => { vi.useFakeTimers({ toFake: ['Date'] }); vi.setSystemTime(new Date(Date.now() + ms)); };

async function orders() {
  return (await cutoverStatus(fx.rt)).find((s) => s.dataset === 'orders')!.next!;
}

describe('clocks: the database decides', () => {
  it('with the node clock 10 minutes ahead, a window whose batch was reloaded after it was judged does not count (the verdict seemed to start after the load)', async () => {
    const { pool } = fx.db;
    for (const d of [2, 3]) await seedVerdict(pool, { day: daysAgo(d), verdict: 'match' });
    const w = daysAgo(1);
    await pool.query(`INSERT INTO analytics.orders_batch VALUES (500, $1, 1, 'x'); INSERT INTO analytics.orders_stream VALUES (500, $1, 1, 'x', 1, now())`.replaceAll('$1', `'${w}'`));
    const load = `INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, started_at, finished_at, rows, snapshot_at)
      VALUES ('orders', '${w}'::date, '${w}'::date + 1, '${w}', 'adopted', 'succeeded', now(), now(), 1, now())`;
    await pool.query(load);
    await pool.query(`INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('orders', now())`);
    skew(10 * M);
    const [r] = await reconcileDataset(fx.rt, 'orders', { windows: [w] });
    expect(r.verdict).toBe('match');
    // The legacy job reloads the window right after the judgment (by the database's clock).
    await new Promise((ok) => setTimeout(ok, 50));
    await pool.query(load);
    const status = await orders();
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([[w, 'before-batch-load']]);
    expect(status).toMatchObject({ ready: false, clean: 2 });
  });

  it('with the node clock 3 hours behind, evidence judged 49 hours ago by the database is stale under maxEvidenceAge 48h', async () => {
    for (const d of [3, 4, 5]) await seedVerdict(fx.db.pool, { day: daysAgo(d), verdict: 'match', agoHours: 49 });
    await fx.db.pool.query(`UPDATE dualrun.reconciliations SET started_at = now() - interval '49 hours', finished_at = now() - interval '49 hours'`);
    skew(-3 * 60 * M);
    const status = await orders();
    expect(status).toMatchObject({ clean: 3, stale: true, ready: false });
    expect(status.missing.join('; ')).toMatch(/2d 1h ago \(maxEvidenceAge 2d\)/);
  });
});
