/**
 * Rule 4.3 of the gate on a real Postgres with the real reconciler: a window counts
 * only if it was settled when judged (ended + settle by the clock, not judged with
 * --assume-settled while dualrun knew it was behind, not under a shorter settle than
 * now) and is still settled on the batch side (its newest batch run succeeded).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import type { Pool } from '../../../../src/core/db/connect.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { runWindow } from '../../../../legacy-batch/run-window.ts';
import { parseWindow } from '../../../../src/core/windows.ts';
import { createFixture, rawConfig, tempDir, type Fixture } from './cutover-fixture.ts';

let fx: Fixture | undefined;
const extra: Runtime[] = [];
afterEach(async () => {
  await Promise.all(extra.splice(0).map((r) => r.close()));
  await fx?.cleanup();
  fx = undefined;
});

const why = { reason: 'test', actor: 'tester' };
const DAY = 86_400_000;

function utcDay(offsetDays: number): string {
  return new Date(Date.now() + offsetDays * DAY).toISOString().slice(0, 10);
}

/** The same rows in both outputs on each day, and a succeeded batch run per day. */
async function windowsWithData(pool: Pool, days: readonly string[]): Promise<void> {
  for (const [i, d] of days.entries()) {
    await pool.query(`INSERT INTO analytics.orders_batch SELECT 500 + ${i * 10} + g, '${d}', g, 'x' FROM generate_series(1, 3) g;
      INSERT INTO analytics.orders_stream SELECT 500 + ${i * 10} + g, '${d}', g, 'x', 1, now() FROM generate_series(1, 3) g;
      INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, finished_at, rows, snapshot_at)
        VALUES ('orders', '${d}', '${d}'::date + 1, '${d}', 'managed', 'succeeded', now() - interval '1 minute', 3, now() - interval '1 minute')`);
  }
}

async function setWatermark(pool: Pool, at: string): Promise<void> {
  await pool.query(`INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('orders', $1)
    ON CONFLICT (dataset) DO UPDATE SET event_time = excluded.event_time`, [at]);
}

async function orders(rt: Runtime) {
  return (await cutoverStatus(rt)).find((s) => s.dataset === 'orders')!.next!;
}

describe('windows judged before they were complete', () => {
  it('a window that has not ended is never settled by a watermark running ahead of the clock, and its --assume-settled verdict does not count (promotion on today\'s window)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', why);
    const [older, yesterday, today] = [utcDay(-2), utcDay(-1), utcDay(0)];
    await windowsWithData(pool, [older, yesterday, today]);
    await setWatermark(pool, '2030-01-01T00:00:00Z'); // a producer's clock years ahead

    const results = await reconcileDataset(fx.rt, 'orders', { windows: [older, yesterday, today] });
    expect(results.map((r) => r.verdict)).toEqual(['match', 'match', 'pending']);
    expect(results[2].pendingReason).toContain('is still in the future');
    expect(results[0].settlement).toMatchObject({ proof: 'proven', settleMs: 0, watermark: '2030-01-01T00:00:00.000Z' });
    expect(await orders(fx.rt)).toMatchObject({ ready: false, clean: 2 });

    const [forced] = await reconcileDataset(fx.rt, 'orders', { windows: [today], assumeSettled: true });
    expect(forced).toMatchObject({ verdict: 'match', settlement: { proof: 'behind' } });
    const status = await orders(fx.rt);
    expect(status).toMatchObject({ ready: false, clean: 2 });
    expect(status.notCounted).toMatchObject([{ window: today, rule: 'not-settled', reason: expect.stringContaining('judged with --assume-settled while it was not settled (window end + settle') }]);
    await expect(promote(fx.rt, 'orders', why)).rejects.toMatchObject({ code: 'DUALRUN_GATE_REFUSED' });
  });

  it('a verdict on a window with no records (--assume-settled, unknown settlement) counts only if judged after the window ended (a future window judged early counted)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', why);
    const days = [utcDay(-3), utcDay(-2), utcDay(1)]; // tomorrow: clock skew or a wrong zone upstream
    for (const [i, d] of days.entries()) {
      await pool.query(`INSERT INTO analytics.orders_batch SELECT 700 + ${i * 10} + g, '${d}', g, 'x' FROM generate_series(1, 2) g;
        INSERT INTO analytics.orders_stream SELECT 700 + ${i * 10} + g, '${d}', g, 'x', 1, now() FROM generate_series(1, 2) g`);
    }
    const results = await reconcileDataset(fx.rt, 'orders', { windows: days, assumeSettled: true });
    expect(results.map((r) => [r.verdict, r.settlement?.proof])).toEqual([['match', 'unknown'], ['match', 'unknown'], ['match', 'unknown']]);
    const status = await orders(fx.rt);
    expect(status).toMatchObject({ ready: false, clean: 2 });
    expect(status.notCounted).toMatchObject([{ window: days[2], rule: 'not-settled', reason: expect.stringMatching(/^judged .*, before its window ended \+ reconcile\.settle/) }]);
  });

  it('verdicts proven under a shorter reconcile.settle than now count only if the watermark then had passed the new horizon (raising settle kept early verdicts)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', why);
    const days = [utcDay(-4), utcDay(-3), utcDay(-2)];
    await windowsWithData(pool, days);
    // The stream had reached 1h past the newest window's end: enough for settle 0, not for 2h.
    await setWatermark(pool, new Date(Date.parse(`${days[2]}T00:00:00Z`) + DAY + 3_600_000).toISOString());
    expect((await reconcileDataset(fx.rt, 'orders', { windows: days })).map((r) => r.verdict)).toEqual(['match', 'match', 'match']);
    expect(await orders(fx.rt)).toMatchObject({ ready: true, clean: 3 });

    const raw = rawConfig(fx.db.url) as { datasets: { orders: Record<string, unknown> } };
    raw.datasets.orders.reconcile = { settle: '2h' };
    const rt = createRuntime({ config: compileConfig(raw, { path: null }), log: pino({ level: 'silent' }) });
    extra.push(rt);
    const status = await orders(rt);
    expect(status).toMatchObject({ ready: false, clean: 2 });
    expect(status.notCounted).toMatchObject([{ window: days[2], rule: 'not-settled', reason: expect.stringContaining('judged under reconcile.settle 0s (now 2h)') }]);
  });
});

describe('windows whose batch run is no longer settled', () => {
  it('a clean window whose batch is re-running, or whose newest batch run failed or was abandoned, does not count (promotion while the batch re-ran the window)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    await promote(fx.rt, 'orders', why);
    const days = [utcDay(-4), utcDay(-3), utcDay(-2)];
    await windowsWithData(pool, days);
    await setWatermark(pool, '2030-01-01T00:00:00Z');
    expect((await reconcileDataset(fx.rt, 'orders', { windows: days })).map((r) => r.verdict)).toEqual(['match', 'match', 'match']);
    expect(await orders(fx.rt)).toMatchObject({ ready: true, clean: 3 });

    const run = await pool.query<{ id: string }>(`INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status)
      VALUES ('orders', '${days[1]}', '${days[1]}'::date + 1, '${days[1]}', 'managed', 'running') RETURNING id::text`);
    for (const status of ['running', 'failed', 'abandoned']) {
      await pool.query(`UPDATE dualrun.batch_runs SET status = $2 WHERE id = $1`, [run.rows[0].id, status]);
      const gate = await orders(fx.rt);
      expect(gate).toMatchObject({ ready: false, clean: 2 });
      expect(gate.notCounted).toMatchObject([{ window: days[1], rule: 'batch-run', reason: expect.stringContaining(`(run ${run.rows[0].id}) ${status === 'running' ? 'is running (started' : `is ${status}`}`) }]);
    }
    const e = await promote(fx.rt, 'orders', why).then(() => null, (err: unknown) => err);
    expect(e).toMatchObject({ code: 'DUALRUN_GATE_REFUSED' });
    // A run that succeeds afterwards replaced the window: the verdict is older than the load.
    await pool.query(`UPDATE dualrun.batch_runs SET status = 'succeeded', finished_at = now(), snapshot_at = now(), rows = 3 WHERE id = $1`, [run.rows[0].id]);
    expect((await orders(fx.rt)).notCounted).toMatchObject([{ window: days[1], rule: 'before-batch-load' }]);
    await reconcileDataset(fx.rt, 'orders', { windows: [days[1]] });
    await expect(promote(fx.rt, 'orders', why)).resolves.toMatchObject({ to: 'streaming', forced: false });
  });
});

describe('windows whose batch rows come from an earlier batch query', () => {
  it('after the batch query changes, re-reconciling windows the old query loaded does not count until they are re-run (evidence about rows the current query never produced)', async () => {
    fx = await createFixture();
    const { pool } = fx.db;
    const dir = tempDir();
    const sql = (filter: string) => `SELECT order_id, order_date, amount, side FROM public.src_orders WHERE ${filter} order_date >= :window_start AND order_date < :window_end`;
    fs.writeFileSync(path.join(dir, 'orders.sql'), sql(''));
    const raw = rawConfig(fx.db.url) as { datasets: { orders: { batch: Record<string, unknown> } } };
    raw.datasets.orders.batch.query = 'orders.sql';
    const rt = createRuntime({ config: compileConfig(raw, { path: path.join(dir, 'dualrun.yaml') }), log: pino({ level: 'silent' }) });
    extra.push(rt);
    const ds = rt.dataset('orders');
    await promote(rt, 'orders', why);
    const days = [utcDay(-4), utcDay(-3), utcDay(-2)];
    await pool.query(`CREATE TABLE public.src_orders (order_id int, order_date date, amount numeric(12,2), side text)`);
    for (const [i, d] of days.entries()) {
      await pool.query(`INSERT INTO public.src_orders SELECT 900 + ${i * 10} + g, '${d}', g, 'x' FROM generate_series(1, 3) g;
        INSERT INTO analytics.orders_stream SELECT 900 + ${i * 10} + g, '${d}', g, 'x', 1, now() FROM generate_series(1, 3) g`);
    }
    await setWatermark(pool, '2030-01-01T00:00:00Z');
    const runAll = async () => { for (const d of days) expect((await runWindow(rt, ds, parseWindow(d, 'day', 'UTC'), { trigger: 'cli' })).status).toBe('succeeded'); };
    const judge = async () => (await reconcileDataset(rt, 'orders', { windows: days })).map((r) => r.verdict);
    await runAll();
    expect(await judge()).toEqual(['match', 'match', 'match']);
    expect(await orders(rt)).toMatchObject({ ready: true, clean: 3 });

    // The query changes (same rows today, as the filter matches them all); the outputs still hold the old query's rows.
    fs.writeFileSync(path.join(dir, 'orders.sql'), sql('amount >= 0 AND'));
    expect(await judge()).toEqual(['match', 'match', 'match']);
    const status = await orders(rt);
    expect(status).toMatchObject({ ready: false, clean: 0 });
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([...days].reverse().map((d) => [d, 'batch-definition']));
    expect(status.notCounted[0].reason).toContain('ran an earlier batch query file');
    await expect(promote(rt, 'orders', why)).rejects.toMatchObject({ code: 'DUALRUN_GATE_REFUSED' });

    await runAll();
    expect((await orders(rt)).notCounted.map((n) => n.rule)).toEqual(['before-batch-load', 'before-batch-load', 'before-batch-load']);
    expect(await judge()).toEqual(['match', 'match', 'match']);
    await expect(promote(rt, 'orders', why)).resolves.toMatchObject({ to: 'streaming', forced: false });
  });
});
