/**
 * An adopted window the batch scheduler found unfinished (batch.completion said the external job
 * had not finished it), judged with --assume-settled, counted as cutover evidence: with no batch
 * run recorded the window's settlement was `unknown`, which counts for an adopted batch once the
 * window is over, though dualrun had recorded that the legacy job was still writing it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { parseWindow } from '../../../../src/core/windows.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { adoptWindow } from '../../../../legacy-batch/adopt.ts';
import { markOpen } from '../../../../legacy-batch/open-windows.ts';
import { createFixture, recordDefinitionsLongAgo, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
beforeAll(async () => {
  fx = await createFixture();
  await fx.rt.db();
  await fx.db.pool.query('DELETE FROM dualrun.dataset_definitions');
  await recordDefinitionsLongAgo(fx.rt);
});
afterAll(async () => { await fx?.cleanup(); });

const days = ['2026-11-20', '2026-11-21', '2026-11-22'];
const orders = async () => (await cutoverStatus(fx.rt)).find((s) => s.dataset === 'orders')!.next!;

describe('adopted windows the scheduler left waiting', () => {
  it('a window the external job had not finished at the last fire is pending, and a match judged with --assume-settled does not count until it is adopted', async () => {
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', { reason: 'test', actor: 'tester' });
    for (const [i, d] of days.entries()) {
      await pool.query(`INSERT INTO analytics.orders_batch SELECT 500 + ${i * 10} + g, '${d}'::date, g, 'x' FROM generate_series(1, 3) g`);
      await pool.query(`INSERT INTO analytics.orders_stream SELECT 500 + ${i * 10} + g, '${d}', g, 'x', 1, now() FROM generate_series(1, 3) g`);
    }
    const ds = fx.rt.dataset('orders');
    const judged = await reconcileDataset(fx.rt, 'orders', { windows: days, assumeSettled: true });
    expect(judged.map((r) => r.verdict)).toEqual(['match', 'match', 'match']);
    expect(await orders()).toMatchObject({ ready: true, clean: 3 });
    // Then a batch fire records that batch.completion said the job had not finished 2026-11-21 (it is rewriting it).
    await markOpen(pool, 'orders', parseWindow(days[1], 'day'), 'waiting', new Date('2026-11-22T02:00:00Z'), 'window 2026-11-21: external job not finished yet');
    const notCounted = async () => {
      const status = await orders();
      // Before: all three counted and the dataset was ready to promote.
      expect(status).toMatchObject({ ready: false, clean: 2 });
      expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([[days[1], 'batch-run']]);
      expect(status.notCounted[0].reason).toMatch(/^the batch scheduler left its window waiting at its fire of 2026-11-22T02:00:00.000Z/);
    };
    await notCounted();
    // The reconciler says why it is pending, and a verdict forced with --assume-settled is stored as judged while behind.
    const plain = await reconcileDataset(fx.rt, 'orders', { windows: [days[1]], store: false });
    expect(plain[0]).toMatchObject({ verdict: 'pending', pendingReason: expect.stringMatching(/window 2026-11-21 is waiting for the batch: .*had not finished it/) });
    const forced = await reconcileDataset(fx.rt, 'orders', { windows: [days[1]], assumeSettled: true });
    expect(forced[0]).toMatchObject({ verdict: 'match', settlement: { proof: 'behind' } });
    await notCounted();

    // Once adopted (the window closes) and judged again, it counts.
    await adoptWindow(fx.rt, ds, parseWindow(days[1], 'day'), 'cli');
    expect((await reconcileDataset(fx.rt, 'orders', { windows: [days[1]], assumeSettled: true }))[0].verdict).toBe('match');
    expect(await orders()).toMatchObject({ ready: true, clean: 3 });
  });
});
