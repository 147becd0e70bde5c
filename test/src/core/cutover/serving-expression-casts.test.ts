/**
 * A column compared through `reconcile.expressions.<col>.stream` is served as that expression, and
 * the reconciler compares the expression's result under the same rules as a column (a float as its
 * shortest round-trip decimal, a wall clock in the window zone). The view cast it with a plain `::`:
 * a float expression under a batch numeric matched as 0.30000000000000004 and was served as 0.3, a
 * timestamptz one under a batch timestamp in each reader's TimeZone. The expression's planned type
 * now goes through the column casts.
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
  db = await createTestDatabase('serveexpr');
  await db.pool.query(`CREATE SCHEMA a;
    CREATE TYPE a.bc AS (x numeric, t timestamp);
    CREATE TYPE a.sc AS (x float8, t timestamptz);
    CREATE TABLE a.b (id int PRIMARY KEY, d date NOT NULL, amount numeric, seen timestamp, pair a.bc);
    CREATE TABLE a.s (id int PRIMARY KEY, d date NOT NULL, amount_f float8, seen_at timestamptz, _dr_version bigint, _dr_source_ts timestamptz);
    INSERT INTO a.b VALUES (1, '2026-11-20', 0.30000000000000004, '2026-11-20 00:30', '(0.30000000000000004,"2026-11-20 00:30")'), (2, '2026-11-20', NULL, NULL, NULL);
    INSERT INTO a.s VALUES (1, '2026-11-20', 0.30000000000000004, '2026-11-19 23:30Z', 1, now() - interval '1 year'), (2, '2026-11-20', NULL, NULL, 1, now() - interval '1 year');`);
  rt = createRuntime({
    config: compileConfig({
      database: { url: db.url },
      datasets: {
        expr: {
          key: ['id'], window: { column: 'd', grain: 'day', timezone: 'Europe/Berlin' },
          batch: { output: 'a.b' }, stream: { output: 'a.s', source: { topic: 'shop.expr' } },
          reconcile: {
            expressions: {
              amount: { stream: 'amount_f * 1' }, seen: { stream: "seen_at + interval '0 s'" },
              pair: { stream: 'CASE WHEN amount_f IS NULL THEN NULL ELSE ROW(amount_f, seen_at)::a.sc END' },
            },
            ignore: ['amount_f', 'seen_at'],
          },
          cutover: { promoteAfter: 1, serve: 'a.v' },
        },
      },
    }, { path: null }),
    log: pino({ level: 'silent' }),
  });
  await rt.db();
  await recordDefinitionsLongAgo(rt);
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('a stream-side reconcile.expressions entry is cast to the batch type by the column rules', () => {
  it('after a clean promotion readers get the batch output\'s values whatever their TimeZone and extra_float_digits', async () => {
    await promote(rt, 'expr', { reason: 'shadow' });
    const [r] = await reconcileDataset(rt, 'expr', { windows: ['2026-11-20'], assumeSettled: true });
    expect(r, JSON.stringify(r).slice(0, 1500)).toMatchObject({ verdict: 'match', batch: { rows: 2 }, stream: { rows: 2 } });
    expect(await promote(rt, 'expr', { reason: '1 clean window' })).toMatchObject({ to: 'streaming', serving: 'a.s' });
    for (const [zone, digits] of [['UTC', '1'], ['America/New_York', '0'], ['Asia/Kolkata', '-10']]) {
      const client = await db.pool.connect();
      try {
        await client.query(`SET TimeZone = '${zone}'; SET extra_float_digits = ${digits}`);
        const q = (t: string) => client.query(`SELECT id, amount::text, seen::text, pair::text, pg_typeof(amount)::text AS a, pg_typeof(seen)::text AS s, pg_typeof(pair)::text AS p FROM ${t} ORDER BY id`);
        expect({ zone, digits, rows: (await q('a.v')).rows }).toEqual({ zone, digits, rows: (await q('a.b')).rows });
      } finally { client.release(); }
    }
  });
});
