/**
 * A match whose differences were all "in flight" (the stream changed those keys after
 * the batch snapshot) compared only the other keys: it is no cutover evidence until the
 * batch has seen those keys again (rule 4.7, `in-flight`). Judged by the real reconciler.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { DualrunError } from '../../../../src/core/errors.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createFixture, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
beforeAll(async () => { fx = await createFixture(); });
afterAll(async () => { await fx?.cleanup(); });

const why = { reason: 'test', actor: 'tester' };
const days = ['2026-11-20', '2026-11-21', '2026-11-22'];

async function orders() {
  return (await cutoverStatus(fx.rt)).find((s) => s.dataset === 'orders')!.next!;
}

/** A managed batch load of `day` that saw its source 10 minutes ago. */
async function batchLoaded(day: string): Promise<void> {
  await fx.db.pool.query(
    `INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, started_at, finished_at, rows, snapshot_at)
     VALUES ('orders', $1::date, $1::date + 1, $1, 'managed', 'succeeded', now() - interval '11 minutes', now() - interval '10 minutes', 2, now() - interval '10 minutes')`, [day]);
}

describe('matches that did not compare every key', () => {
  it('a window whose every difference was in flight is not evidence until the batch ran again (a stream that mangles every update matched while the batch ran first)', async () => {
    await promote(fx.rt, 'orders', why); // batch → shadow
    const { pool } = fx.db;
    for (const [i, day] of days.entries()) {
      const k = 200 + i * 10;
      await pool.query(`INSERT INTO analytics.orders_batch VALUES (${k}, $1, 1, 'x'), (${k + 1}, $1, 2, 'x')`, [day]);
      // The stream applied an update to order k+1 after the batch saw the source, and got the amount wrong.
      const amount = day === '2026-11-21' ? 999 : 2;
      await pool.query(`INSERT INTO analytics.orders_stream VALUES (${k}, $1, 1, 'x', 1, now() - interval '1 hour'), (${k + 1}, $1, ${amount}, 'x', 2, now())`, [day]);
      await batchLoaded(day);
    }
    await pool.query(`INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('orders', now())`);
    const results = await reconcileDataset(fx.rt, 'orders', { windows: days });
    expect(results.map((r) => [r.verdict, r.diff?.inFlight])).toEqual([['match', 0], ['match', 1], ['match', 0]]);

    let status = await orders();
    expect(status).toMatchObject({ ready: false, clean: 2 });
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([['2026-11-21', 'in-flight']]);
    expect(status.notCounted[0].reason).toMatch(/^1 key\(s\) were in flight .*dualrun batch run --window 2026-11-21/);
    const e = await promote(fx.rt, 'orders', why).then(() => null, (err: unknown) => err);
    expect(e).toBeInstanceOf(DualrunError);
    expect((e as DualrunError).code).toBe('DUALRUN_GATE_REFUSED');

    // The batch loads the window again (it now sees amount 999 too): compared, and counted.
    await pool.query(`UPDATE analytics.orders_batch SET amount = 999 WHERE order_id = 211`);
    await batchLoaded('2026-11-21');
    const [again] = await reconcileDataset(fx.rt, 'orders', { windows: ['2026-11-21'] });
    expect([again.verdict, again.diff?.inFlight]).toEqual(['match', 0]);
    status = await orders();
    expect(status).toMatchObject({ ready: true, clean: 3 });
  });
});
