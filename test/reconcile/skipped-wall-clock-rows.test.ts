/**
 * Rows whose wall clock the zone skips were compared in no window: a `timestamp` of 02:30 on
 * Paris's spring-forward night and a `date` of Apia's skipped 2011-12-30 lay between two
 * windows' wall-clock bounds, so tables differing only there were a `match` over the range.
 * They now belong to the window after the skipped span, where Postgres reads them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileWindows } from '../../reconcile/reconcile-dataset.ts';
import { windowsBetween } from '../../src/core/windows.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let rt: Runtime;

beforeAll(async () => {
  db = await freshDatabase('skipwall');
  await db.pool.query(`
    CREATE SCHEMA k;
    CREATE TABLE k.b_ts (id int PRIMARY KEY, ts timestamp, v text);
    CREATE TABLE k.s_ts (id int PRIMARY KEY, ts timestamp, v text);
    INSERT INTO k.b_ts VALUES (1, '2026-03-29 01:30', 'same'), (2, '2026-03-29 02:30', 'batch'), (3, '2026-03-29 03:30', 'same');
    INSERT INTO k.s_ts VALUES (1, '2026-03-29 01:30', 'same'), (2, '2026-03-29 02:30', 'stream'), (3, '2026-03-29 03:30', 'same');
    CREATE TABLE k.b_d (id int PRIMARY KEY, d date, v text);
    CREATE TABLE k.s_d (id int PRIMARY KEY, d date, v text);
    INSERT INTO k.b_d VALUES (1, '2011-12-29', 'same'), (2, '2011-12-30', 'batch'), (3, '2011-12-31', 'same');
    INSERT INTO k.s_d VALUES (1, '2011-12-29', 'same'), (2, '2011-12-30', 'stream'), (3, '2011-12-31', 'same');`);
  rt = runtimeFor(db, {
    paris: dataset({ key: ['id'], window: { column: 'ts', grain: 'hour', timezone: 'Europe/Paris' }, batch: { output: 'k.b_ts' }, stream: { output: 'k.s_ts' } }),
    apia: dataset({ key: ['id'], window: { column: 'd', timezone: 'Pacific/Apia' }, batch: { output: 'k.b_d' }, stream: { output: 'k.s_d' } }),
  });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

/** `reconcile --from --to`'s windows. */
const judge = async (name: string, from: string, to: string) => {
  const ds = rt.dataset(name);
  return reconcileWindows(rt, ds, windowsBetween(from, to, ds.window!.grain, ds.window!.timezone), { assumeSettled: true, samples: 10, store: false });
};

describe('rows in a wall clock the zone skips', () => {
  it("Paris's 02:30 on 2026-03-29 is compared in the 03 window (03:30 CEST to Postgres) and its difference found", async () => {
    const rs = await judge('paris', '2026-03-29T00', '2026-03-29T04');
    expect(rs.map((r) => [r.window, r.verdict])).toEqual([
      ['2026-03-29T00', 'match'], ['2026-03-29T01', 'match'], ['2026-03-29T03', 'mismatch'], ['2026-03-29T04', 'match']]);
  });

  it("Apia's skipped 2011-12-30 is compared in the 2011-12-31 window and its difference found", async () => {
    const rs = await judge('apia', '2011-12-29', '2011-12-31');
    expect(rs.map((r) => [r.window, r.verdict])).toEqual([['2011-12-29', 'match'], ['2011-12-31', 'mismatch']]);
  });
});
