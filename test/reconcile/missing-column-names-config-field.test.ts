/**
 * Regression: a config naming a column an output lacks (a misspelt key column, window column,
 * reconcile.columns entry or reconcile.map target) failed the window with only
 * `batch output X has no column regoin`, leaving the user to guess which key of dualrun.yaml
 * said it. The error now names the config field (`datasets.orders.key`, ...), as a config error
 * (see config-column-not-in-outputs.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let rt: Runtime;

beforeAll(async () => {
  db = await freshDatabase('mcol');
  await db.pool.query(`
    CREATE SCHEMA "Sales";
    CREATE TABLE "Sales".b (region text, order_id bigint, amount numeric(12,2), placed_at timestamptz, PRIMARY KEY (region, order_id));
    CREATE TABLE "Sales".s (region text, order_id bigint, amount numeric(12,2), placed_at timestamptz, PRIMARY KEY (region, order_id));
    INSERT INTO "Sales".b VALUES ('EU', 1, 1.25, '2026-11-20 10:00Z'); INSERT INTO "Sales".s VALUES ('EU', 1, 1.25, '2026-11-20 10:00Z');
    CREATE VIEW "Sales".b2 AS SELECT * FROM "Sales".b; CREATE VIEW "Sales".s2 AS SELECT * FROM "Sales".s;
    CREATE VIEW "Sales".b3 AS SELECT * FROM "Sales".b; CREATE VIEW "Sales".s3 AS SELECT * FROM "Sales".s;
    CREATE VIEW "Sales".b4 AS SELECT * FROM "Sales".b; CREATE VIEW "Sales".s4 AS SELECT * FROM "Sales".s;`);
  rt = runtimeFor(db, {
    badkey: dataset({ key: ['regoin', 'order_id'], window: { column: 'placed_at' }, batch: { output: 'Sales.b' }, stream: { output: 'Sales.s' } }),
    badwindow: dataset({ key: ['region', 'order_id'], window: { column: 'placed' }, batch: { output: 'Sales.b2' }, stream: { output: 'Sales.s2' } }),
    badcolumns: dataset({ key: ['region', 'order_id'], window: { column: 'placed_at' }, batch: { output: 'Sales.b3' }, stream: { output: 'Sales.s3' }, reconcile: { columns: ['amont'] } }),
    badmap: dataset({ key: ['region', 'order_id'], window: { column: 'placed_at' }, batch: { output: 'Sales.b4' }, stream: { output: 'Sales.s4' }, reconcile: { columns: ['amount'], map: { amount: 'amount_eur' } } }),
  });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

const judge = async (name: string) => (await reconcileDataset(rt, name, { assumeSettled: true, windows: ['2026-11-20'], samples: 10, store: false }))[0];

describe('a config column an output lacks: the error names the config field', () => {
  it.each([
    ['badkey', /datasets\.badkey\.key: regoin is a column of neither batch\.output Sales\.b nor stream\.output Sales\.s \(did you mean region\?\)/],
    ['badwindow', /datasets\.badwindow\.window\.column: placed is a column of neither batch\.output Sales\.b2 nor stream\.output Sales\.s2/],
    ['badcolumns', /datasets\.badcolumns\.reconcile\.columns: amont is a column of neither batch\.output Sales\.b3 nor stream\.output Sales\.s3 \(did you mean amount\?\)/],
    ['badmap', /datasets\.badmap\.reconcile\.map\.amount: amount_eur is not a column of stream\.output Sales\.s4$/],
  ])('%s', async (name, message) => {
    const r = await judge(name);
    expect(r.verdict).toBe('error');
    // A config mistake (exit 2), not a failed run (3).
    expect(r.error?.code).toBe('DUALRUN_CONFIG_INVALID');
    expect(r.error?.message).toMatch(message);
  });
});
