/**
 * A managed dataset's window that no batch run ever loaded (rows copied into the batch output by
 * hand, or left from before dualrun), judged with --assume-settled, counted as evidence: the
 * `batch-definition` rule checks the query the window's load ran, and with no load there was
 * nothing to check. Such rows are not known to be what the current batch query produces.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { parseWindow } from '../../../../src/core/windows.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { runWindow } from '../../../../legacy-batch/run-window.ts';
import { createFixture, rawConfig, recordDefinitionsLongAgo, tempDir, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
let rt: Runtime;
beforeAll(async () => {
  fx = await createFixture();
  const dir = tempDir();
  fs.writeFileSync(path.join(dir, 'orders.sql'), 'SELECT order_id, order_date, amount, side FROM analytics.src WHERE order_date >= :window_start AND order_date < :window_end');
  await fx.db.pool.query(`CREATE TABLE analytics.src (order_id int PRIMARY KEY, order_date date NOT NULL, amount numeric(12,2), side text NOT NULL)`);
  const raw = rawConfig(fx.db.url) as { datasets: Record<string, unknown> & { orders: { batch: Record<string, unknown> } } };
  raw.datasets.orders.batch.query = 'orders.sql';
  delete raw.datasets.plain;
  rt = createRuntime({ config: compileConfig(raw, { path: path.join(dir, 'dualrun.yaml') }), log: pino({ level: 'silent' }) });
  await rt.db();
  await fx.db.pool.query('DELETE FROM dualrun.dataset_definitions');
  await recordDefinitionsLongAgo(rt);
});
afterAll(async () => { await rt?.close(); await fx?.cleanup(); });

const days = ['2026-11-20', '2026-11-21', '2026-11-22'];
const orders = async () => (await cutoverStatus(rt)).find((s) => s.dataset === 'orders')!.next!;

describe('windows the managed batch never loaded', () => {
  it('matches on batch rows no batch run loaded (copied in by hand) do not count; once the batch loads the window and it is judged again, it does', async () => {
    const { pool } = fx.db;
    await promote(rt, 'orders', { reason: 'test', actor: 'tester' });
    for (const [i, d] of days.entries()) {
      const rows = `SELECT 500 + ${i * 10} + g, '${d}'::date, g, 'x' FROM generate_series(1, 3) g`;
      await pool.query(`INSERT INTO analytics.orders_batch ${rows}; INSERT INTO analytics.src ${rows}`);
      await pool.query(`INSERT INTO analytics.orders_stream SELECT 500 + ${i * 10} + g, '${d}', g, 'x', 1, now() FROM generate_series(1, 3) g`);
    }
    const judged = await reconcileDataset(rt, 'orders', { windows: days, assumeSettled: true });
    expect(judged.map((r) => r.verdict)).toEqual(['match', 'match', 'match']);
    const status = await orders();
    expect(status).toMatchObject({ ready: false, clean: 0 });
    expect(status.notCounted.map((n) => [n.window, n.rule])).toEqual([...days].reverse().map((d) => [d, 'batch-definition']));
    expect(status.notCounted[0].reason).toMatch(/^no batch run loaded its window/);

    const load = await runWindow(rt, rt.dataset('orders'), parseWindow(days[2], 'day'), { trigger: 'cli' });
    expect(load.status).toBe('succeeded');
    expect((await reconcileDataset(rt, 'orders', { windows: [days[2]], assumeSettled: true }))[0].verdict).toBe('match');
    expect(await orders()).toMatchObject({ clean: 1, counted: [{ window: days[2] }] });
  });
});
