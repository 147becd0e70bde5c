/**
 * The reconciler equates a float with the exact number its shortest round-trip text denotes
 * (0.30000000000000004::float8 = 0.30000000000000004::numeric). The serving view cast the stream's
 * float to the batch's numeric with `::`, which keeps 15 significant digits: after a clean promotion
 * readers were served 0.3 for 0.30000000000000004, 1234567890.12346 for 1234567890.1234567, and
 * 16777200 for a float4 16777216. The view now converts through dualrun.float_decimal (fixed
 * extra_float_digits), so readers get what was compared, whatever their own settings.
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
  db = await createTestDatabase('servefloat');
  await db.pool.query(`CREATE SCHEMA f;
    CREATE TABLE f.b (id int PRIMARY KEY, d date NOT NULL, x numeric, y numeric(20,7), z numeric);
    CREATE TABLE f.s (id int PRIMARY KEY, d date NOT NULL, x float8, y float8, z float4, _dr_version bigint, _dr_source_ts timestamptz);
    INSERT INTO f.b VALUES (1, '2026-11-20', 0.30000000000000004, 1234567890.1234567, 16777216), (2, '2026-11-20', 0.1, 2.5, 0.5), (3, '2026-11-20', NULL, NULL, NULL);
    INSERT INTO f.s VALUES (1, '2026-11-20', 0.30000000000000004, 1234567890.1234567, 16777216, 1, now() - interval '1 year'),
                           (2, '2026-11-20', 0.1, 2.5, 0.5, 1, now() - interval '1 year'), (3, '2026-11-20', NULL, NULL, NULL, 1, now() - interval '1 year');`);
  rt = createRuntime({
    config: compileConfig({
      database: { url: db.url },
      datasets: {
        floats: {
          key: ['id'], window: { column: 'd', grain: 'day' },
          batch: { output: 'f.b' }, stream: { output: 'f.s', source: { topic: 'shop.floats' } },
          cutover: { promoteAfter: 1, serve: 'f.v' },
        },
      },
    }, { path: null }),
    log: pino({ level: 'silent' }),
  });
  await rt.db();
  await recordDefinitionsLongAgo(rt);
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('the serving view serves a float under a numeric as the decimal that was compared', () => {
  it('after a clean promotion readers get 0.30000000000000004, not 0.3, whatever their extra_float_digits', async () => {
    await promote(rt, 'floats', { reason: 'shadow' });
    const [r] = await reconcileDataset(rt, 'floats', { windows: ['2026-11-20'], assumeSettled: true });
    expect(r).toMatchObject({ verdict: 'match', batch: { rows: 3 }, stream: { rows: 3 } });
    const c = await promote(rt, 'floats', { reason: '1 clean window' });
    expect(c).toMatchObject({ to: 'streaming', forced: false, serving: 'f.s' });
    for (const digits of ['1', '0', '-10']) {
      const client = await db.pool.connect();
      try {
        await client.query(`SET extra_float_digits = ${digits}`);
        const q = (t: string) => client.query(`SELECT id, x::text, y::text, z::text FROM ${t} ORDER BY id`);
        expect({ digits, rows: (await q('f.v')).rows }).toEqual({ digits, rows: (await q('f.b')).rows });
      } finally { client.release(); }
    }
  });
});
