/**
 * An adopted legacy job that rewrote a judged window (DELETE + INSERT of as many rows,
 * other values) without telling dualrun kept the old `match` counting: the gate re-counted
 * rows, not values, and the adopted load dualrun knew of was still the newest. The
 * reconciler now records which transactions wrote the batch rows it judged (their xmin
 * sum, src/core/cutover/row-versions.ts) and the gate re-reads it with its counts
 * (rule 4.6, `rows-rewritten`). Judged by the real reconciler.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createFixture, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
beforeAll(async () => { fx = await createFixture(); });
afterAll(async () => { await fx?.cleanup(); });

const days = ['2026-11-20', '2026-11-21', '2026-11-22'];

async function orders() {
  return (await cutoverStatus(fx.rt)).find((s) => s.dataset === 'orders')!.next!;
}

describe('batch rows written again after they were judged', () => {
  it('a window the adopted job rewrote with as many rows and other values since its match is not evidence; VACUUM FREEZE alone changes nothing', async () => {
    await promote(fx.rt, 'orders', { reason: 'test', actor: 'tester' }); // batch → shadow
    const { pool } = fx.db;
    for (const [i, day] of days.entries()) {
      const k = 300 + i * 10;
      await pool.query(`INSERT INTO analytics.orders_batch VALUES (${k}, $1, 1, 'x'), (${k + 1}, $1, 2, 'x')`, [day]);
      await pool.query(`INSERT INTO analytics.orders_stream VALUES (${k}, $1, 1, 'x', 1, now() - interval '1 hour'), (${k + 1}, $1, 2, 'x', 2, now() - interval '1 hour')`, [day]);
      await pool.query(`INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, started_at, finished_at, rows, snapshot_at)
        VALUES ('orders', $1::date, $1::date + 1, $1, 'adopted', 'succeeded', now() - interval '10 minutes', now() - interval '10 minutes', 2, now() - interval '10 minutes')`, [day]);
    }
    await pool.query(`INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('orders', now())`);
    const judged = await reconcileDataset(fx.rt, 'orders', { windows: days });
    expect(judged.map((r) => r.verdict)).toEqual(['match', 'match', 'match']);
    expect(await orders()).toMatchObject({ ready: true, clean: 3 });

    // Freezing keeps the rows' xmin: the evidence still counts.
    await pool.query('VACUUM (FREEZE) analytics.orders_batch');
    expect(await orders()).toMatchObject({ ready: true, clean: 3 });

    // The legacy job reloads 2026-11-21 on its own: same two keys, other amounts.
    await pool.query(`BEGIN; DELETE FROM analytics.orders_batch WHERE order_date = '2026-11-21';
      INSERT INTO analytics.orders_batch VALUES (310, '2026-11-21', 7, 'x'), (311, '2026-11-21', 8, 'x'); COMMIT`);
    const status = await orders();
    expect(status).toMatchObject({ ready: false, clean: 2 });
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([['2026-11-21', 'rows-rewritten']]);
    expect(status.notCounted[0].reason).toMatch(/rows of the window were written again since it was judged/);

    // An UPDATE of one value, row count unchanged, is caught too.
    await pool.query(`UPDATE analytics.orders_batch SET amount = 5 WHERE order_id = 320`);
    expect((await orders()).notCounted.map((n) => [n.window, n.rule])).toEqual([['2026-11-22', 'rows-rewritten'], ['2026-11-21', 'rows-rewritten']]);

    // Judged again, the rewritten windows are what they are: mismatches.
    const again = await reconcileDataset(fx.rt, 'orders', { windows: ['2026-11-21'] });
    expect(again[0].verdict).toBe('mismatch');
  });
});
