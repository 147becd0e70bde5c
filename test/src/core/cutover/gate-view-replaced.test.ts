/**
 * A batch output that is a view, replaced (CREATE OR REPLACE VIEW) with a query that computes
 * other values under the same columns, kept its old matches counting: the oid, the columns and
 * the row counts were the same, so rules rows-changed and table-changed saw nothing. The shape
 * recorded with each verdict now includes the view's query (rule 4.6, `table-changed`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { cutoverStatus } from '../../../../src/core/cutover/cutover-status.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createFixture, rawConfig, recordDefinitionsLongAgo, type Fixture } from './cutover-fixture.ts';

let fx: Fixture;
let rt: Runtime;
beforeAll(async () => {
  fx = await createFixture();
  await fx.db.pool.query(`CREATE TABLE analytics.legacy_orders (order_id int PRIMARY KEY, order_date date NOT NULL, amount numeric(12,2), side text NOT NULL);
    CREATE VIEW analytics.orders_batch_v AS SELECT order_id, order_date, amount, side FROM analytics.legacy_orders`);
  const raw = rawConfig(fx.db.url) as { datasets: Record<string, unknown> & { orders: { batch: Record<string, unknown> } } };
  raw.datasets.orders.batch.output = 'analytics.orders_batch_v';
  delete raw.datasets.plain;
  rt = createRuntime({ config: compileConfig(raw, { path: null }), log: pino({ level: 'silent' }) });
  await rt.db();
  await fx.db.pool.query('DELETE FROM dualrun.dataset_definitions');
  await recordDefinitionsLongAgo(rt);
});
afterAll(async () => { await rt?.close(); await fx?.cleanup(); });

const days = ['2026-11-20', '2026-11-21', '2026-11-22'];
const orders = async () => (await cutoverStatus(rt)).find((s) => s.dataset === 'orders')!.next!;

describe('a batch output view replaced after it was judged', () => {
  it('matches judged on the view before CREATE OR REPLACE VIEW computed other amounts (same columns, same rows) no longer count', async () => {
    const { pool } = fx.db;
    await promote(rt, 'orders', { reason: 'test', actor: 'tester' });
    for (const [i, d] of days.entries()) {
      await pool.query(`INSERT INTO analytics.legacy_orders SELECT 400 + ${i * 10} + g, '${d}', g, 'x' FROM generate_series(1, 3) g`);
      await pool.query(`INSERT INTO analytics.orders_stream SELECT 400 + ${i * 10} + g, '${d}', g, 'x', 1, now() FROM generate_series(1, 3) g`);
    }
    const judged = await reconcileDataset(rt, 'orders', { windows: days, assumeSettled: true });
    expect(judged.map((r) => r.verdict)).toEqual(['match', 'match', 'match']);
    expect(await orders()).toMatchObject({ ready: true, clean: 3 });

    await pool.query(`CREATE OR REPLACE VIEW analytics.orders_batch_v AS SELECT order_id, order_date, (amount * 2)::numeric(12,2) AS amount, side FROM analytics.legacy_orders`);
    const status = await orders();
    expect(status).toMatchObject({ ready: false, clean: 0 });
    expect(status.notCounted.map((n) => n.rule)).toEqual(['table-changed', 'table-changed', 'table-changed']);
    expect(status.notCounted[0].reason).toContain('the batch output is a view whose query was replaced');
    expect((await reconcileDataset(rt, 'orders', { windows: [days[0]], assumeSettled: true }))[0].verdict).toBe('mismatch');
  });
});
