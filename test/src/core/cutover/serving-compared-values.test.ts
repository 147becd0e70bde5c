/**
 * The serving view serves, on the stream side, what the reconciler compared: a column
 * compared through `reconcile.expressions.<col>.stream` is served as that expression,
 * not as a stream column that happens to have the same name.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { promote } from '../../../../src/core/cutover/stage-change.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { reconcileDataset } from '../../../../reconcile/reconcile-dataset.ts';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { recordDefinitionsLongAgo } from './cutover-fixture.ts';

let db: TestDatabase;
let rt: Runtime;
beforeAll(async () => {
  db = await createTestDatabase('served');
  // The stream output still has a legacy `amount` column the sink leaves NULL; the amount is amount_cents.
  await db.pool.query(`CREATE SCHEMA a;
    CREATE TABLE a.accounts_batch (id int PRIMARY KEY, d date NOT NULL, amount numeric(12,2));
    CREATE TABLE a.accounts_stream (id int PRIMARY KEY, d date NOT NULL, amount numeric, amount_cents bigint, _dr_version bigint, _dr_source_ts timestamptz);
    INSERT INTO a.accounts_batch SELECT g, date '2026-11-20', g * 1.5 FROM generate_series(1, 5) g;
    INSERT INTO a.accounts_stream SELECT g, date '2026-11-20', NULL, g * 150, 1, now() FROM generate_series(1, 5) g;`);
  rt = createRuntime({
    config: compileConfig({
      database: { url: db.url },
      datasets: {
        accounts: {
          key: ['id'], window: { column: 'd', grain: 'day' },
          batch: { output: 'a.accounts_batch' }, stream: { output: 'a.accounts_stream', source: { topic: 'shop.accounts' } },
          reconcile: { expressions: { amount: { stream: 'amount_cents / 100.0' } }, ignore: ['amount_cents'] },
          cutover: { promoteAfter: 1, serve: 'a.accounts' },
        },
      },
    }, { path: null }),
    log: pino({ level: 'silent' }),
  });
  await rt.db();
  await recordDefinitionsLongAgo(rt);
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('serving what was compared', () => {
  it('a column compared through a stream expression is served as that expression (the view served the NULL stream column of that name after a clean promotion)', async () => {
    await promote(rt, 'accounts', { reason: 'shadow' });
    const [r] = await reconcileDataset(rt, 'accounts', { windows: ['2026-11-20'], assumeSettled: true });
    expect(r).toMatchObject({ verdict: 'match', batch: { rows: 5 }, stream: { rows: 5 } });
    const c = await promote(rt, 'accounts', { reason: '1 clean window' });
    expect(c).toMatchObject({ to: 'streaming', forced: false, serving: 'a.accounts_stream' });
    const served = await db.pool.query<{ id: number; amount: string | null }>('SELECT id, amount FROM a.accounts ORDER BY id');
    const batch = await db.pool.query<{ id: number; amount: string | null }>('SELECT id, amount FROM a.accounts_batch ORDER BY id');
    expect(served.rows).toEqual(batch.rows);
    // Same column list and types as the batch output.
    const types = await db.pool.query(`SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute WHERE attrelid = 'a.accounts'::regclass AND attname = 'amount'`);
    expect(types.rows[0].t).toBe('numeric(12,2)');
  });
});
