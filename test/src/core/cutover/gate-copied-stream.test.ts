/**
 * Stream rows the streaming path never wrote are no evidence about it: a stream output
 * seeded by copying the batch output (history the topic no longer holds) matches the
 * batch on every copied window, judged by the real reconciler (rule 4.6, `not-streamed`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { recordStreamStart } from '../../../../src/core/cutover/stream-code.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createFixture, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
beforeAll(async () => { fx = await createFixture(); });
afterAll(async () => { await fx?.cleanup(); });

const why = { reason: 'test', actor: 'tester' };
const days = ['2026-11-20', '2026-11-21', '2026-11-22'];

describe('stream rows the stream did not write', () => {
  it('windows whose stream rows were copied from the batch output do not count (promotion on a comparison of the batch output with a copy of itself)', async () => {
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', why); // batch → shadow
    for (const [i, day] of days.entries()) {
      await pool.query(`INSERT INTO analytics.orders_batch SELECT 300 + ${i * 10} + g, $1::date, g, 'x' FROM generate_series(1, 3) g`, [day]);
    }
    // The history is seeded from the batch output; then the stream worker starts (its first start covers the output).
    await pool.query(`INSERT INTO analytics.orders_stream (order_id, order_date, amount, side)
      SELECT order_id, order_date, amount, side FROM analytics.orders_batch WHERE order_date = ANY($1::date[])`, [days]);
    await recordStreamStart(pool, fx.rt.dataset('orders'), { replay: false });
    const results = await reconcileDataset(fx.rt, 'orders', { windows: days, assumeSettled: true });
    expect(results.map((r) => [r.verdict, r.batch?.rows, r.stream?.rows])).toEqual(days.map(() => ['match', 3, 3]));

    let status = (await cutoverStatus(fx.rt)).find((s) => s.dataset === 'orders')!.next!;
    expect(status).toMatchObject({ ready: false, clean: 0 });
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([...days].reverse().map((d) => [d, 'not-streamed']));
    expect(status.notCounted[0].reason).toMatch(/^3 of its stream rows were not written by dualrun's stream worker/);
    await expect(promote(fx.rt, 'orders', why)).rejects.toMatchObject({ code: 'DUALRUN_GATE_REFUSED' });

    // Written by the sink (as a replay would rewrite them: with their record versions), the windows count.
    await pool.query(`UPDATE analytics.orders_stream SET _dr_version = order_id, _dr_source_ts = now() - interval '1 day' WHERE order_date = ANY($1::date[])`, [days]);
    await reconcileDataset(fx.rt, 'orders', { windows: days, assumeSettled: true });
    status = (await cutoverStatus(fx.rt)).find((s) => s.dataset === 'orders')!.next!;
    expect(status).toMatchObject({ ready: true, clean: 3 });
  });
});
