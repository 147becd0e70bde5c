/**
 * The reconciler compares a `timestamp` (or `date`) with a `timestamptz` as the instant the wall
 * clock is in the dataset's window time zone. The serving view cast the stream column to the batch
 * type with a plain `::`, which converts in each READER's session TimeZone: after a clean promotion
 * a reader in UTC was served `2026-11-19 23:30` where the batch output (Berlin wall clocks) said
 * `2026-11-20 00:30`, and the date `2026-11-19` for `2026-11-20`. The view now converts in the
 * dataset's zone, as the reconciler did.
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
  db = await createTestDatabase('servezone');
  // t1: batch wall clock, stream instant; t2: the other way round; t3: batch date, stream instant; t4: a domain over timestamp.
  await db.pool.query(`CREATE SCHEMA z;
    CREATE DOMAIN z.wall AS timestamp;
    CREATE TABLE z.b (id int PRIMARY KEY, d date NOT NULL, t1 timestamp, t2 timestamptz, t3 date, t4 z.wall);
    CREATE TABLE z.s (id int PRIMARY KEY, d date NOT NULL, t1 timestamptz, t2 timestamp, t3 timestamptz, t4 timestamptz, _dr_version bigint, _dr_source_ts timestamptz);
    INSERT INTO z.b VALUES (1, '2026-11-20', '2026-11-20 00:30', '2026-11-19 23:30Z', '2026-11-20', '2026-11-20 00:30'),
                           (2, '2026-11-20', '2026-11-20 12:00', '2026-11-20 11:00Z', '2026-11-21', '2026-11-20 23:59');
    INSERT INTO z.s VALUES (1, '2026-11-20', '2026-11-19 23:30Z', '2026-11-20 00:30', '2026-11-19 23:00Z', '2026-11-19 23:30Z', 1, now() - interval '1 year'),
                           (2, '2026-11-20', '2026-11-20 11:00Z', '2026-11-20 12:00', '2026-11-20 23:00Z', '2026-11-20 22:59Z', 1, now() - interval '1 year');`);
  rt = createRuntime({
    config: compileConfig({
      database: { url: db.url },
      datasets: {
        zoned: {
          key: ['id'], window: { column: 'd', grain: 'day', timezone: 'Europe/Berlin' },
          batch: { output: 'z.b' }, stream: { output: 'z.s', source: { topic: 'shop.zoned' } },
          cutover: { promoteAfter: 1, serve: 'z.v' },
        },
      },
    }, { path: null }),
    log: pino({ level: 'silent' }),
  });
  await rt.db();
  await recordDefinitionsLongAgo(rt);
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('the serving view converts wall clocks in the dataset\'s zone', () => {
  it('after a clean promotion, readers in any zone are served what the batch output held (a UTC reader got instants read as UTC wall clocks)', async () => {
    await promote(rt, 'zoned', { reason: 'shadow' });
    const [r] = await reconcileDataset(rt, 'zoned', { windows: ['2026-11-20'], assumeSettled: true });
    expect(r).toMatchObject({ verdict: 'match', batch: { rows: 2 }, stream: { rows: 2 } });
    const c = await promote(rt, 'zoned', { reason: '1 clean window' });
    expect(c).toMatchObject({ to: 'streaming', forced: false, serving: 'z.s' });
    for (const zone of ['UTC', 'America/New_York', 'Asia/Kolkata', 'Europe/Berlin']) {
      const client = await db.pool.connect();
      try {
        await client.query(`SET TimeZone = '${zone}'`);
        const q = (t: string) => client.query(`SELECT id, t1::text, t2::text, t3::text, t4::text FROM ${t} ORDER BY id`);
        expect({ zone, rows: (await q('z.v')).rows }).toEqual({ zone, rows: (await q('z.b')).rows });
      } finally { client.release(); }
    }
  });
});
