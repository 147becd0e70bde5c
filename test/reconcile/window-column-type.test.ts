/**
 * An hour-grain window on a `date` window column: every hour but the day's last got the
 * bounds [d, d) (both the label's date), read no row on either side and was a `match`, on
 * tables whose rows differ; the day's last hour read the whole day. Now the dataset fails
 * before any window, naming the column, as does a window column of a type that holds no
 * instant (an epoch integer).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let rt: Runtime;

beforeAll(async () => {
  db = await freshDatabase('wcol');
  await db.pool.query(`
    CREATE SCHEMA w;
    CREATE DOMAIN w.day AS date;
    CREATE TABLE w.b (id int PRIMARY KEY, d w.day, ts timestamptz, e bigint, v text);
    CREATE TABLE w.s (id int PRIMARY KEY, d date, ts timestamptz, e bigint, v text);
    INSERT INTO w.b VALUES (1, '2026-11-20', '2026-11-20 10:30Z', 1795602600, 'a');
    INSERT INTO w.s VALUES (1, '2026-11-20', '2026-11-20 10:30Z', 1795602600, 'DIFFERENT');
    -- Each dataset needs its own outputs: views over the two tables.
    CREATE VIEW w.b_day AS SELECT * FROM w.b; CREATE VIEW w.s_day AS SELECT * FROM w.s;
    CREATE VIEW w.b_ts AS SELECT * FROM w.b; CREATE VIEW w.s_ts AS SELECT * FROM w.s;
    CREATE VIEW w.b_e AS SELECT * FROM w.b; CREATE VIEW w.s_e AS SELECT * FROM w.s;`);
  rt = runtimeFor(db, {
    hourly_date: dataset({ key: ['id'], window: { column: 'd', grain: 'hour' }, batch: { output: 'w.b' }, stream: { output: 'w.s' } }),
    daily_date: dataset({ key: ['id'], window: { column: 'd' }, batch: { output: 'w.b_day' }, stream: { output: 'w.s_day' } }),
    hourly_ts: dataset({ key: ['id'], window: { column: 'ts', grain: 'hour' }, batch: { output: 'w.b_ts' }, stream: { output: 'w.s_ts' } }),
    epoch: dataset({ key: ['id'], window: { column: 'e' }, batch: { output: 'w.b_e' }, stream: { output: 'w.s_e' } }),
  });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

const judge = async (name: string, window: string) => (await reconcileDataset(rt, name, { assumeSettled: true, windows: [window], samples: 10, store: false }))[0];

describe('a window column that cannot hold the window', () => {
  it('a date cut into hours fails naming the column, never a match of an empty hour', async () => {
    const r = await judge('hourly_date', '2026-11-20T10');
    expect(r.verdict).toBe('error');
    expect(r.error?.code).toBe('DUALRUN_CONFIG_INVALID');
    expect(r.error?.message).toMatch(/datasets\.hourly_date\.window\.column: window\.column d of batch\.output w\.b is a date: it cannot be cut into hour windows/);
  });

  it('a date in day windows and a timestamptz in hour windows still find the difference', async () => {
    expect((await judge('daily_date', '2026-11-20')).verdict).toBe('mismatch');
    expect((await judge('hourly_ts', '2026-11-20T10')).verdict).toBe('mismatch');
  });

  it('a window column of a type without instants fails naming it and its type', async () => {
    const r = await judge('epoch', '2026-11-20');
    expect(r.verdict).toBe('error');
    expect(r.error?.message).toMatch(/window\.column e of batch\.output w\.b_e is of type int8: a window column must be a date, timestamp or timestamptz/);
  });
});
