/**
 * A row whose window column is NULL (or ±infinity) falls in no window: no reconciliation
 * ever read it, so a stream output holding extra or different such rows was a `match` in
 * every window, while the serving view (`SELECT ... FROM output`) serves them to readers.
 * Now the dataset fails before any window, naming the side, the column and the row count.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let rt: Runtime;

beforeAll(async () => {
  db = await freshDatabase('nowin');
  await db.pool.query(`
    CREATE SCHEMA nw;
    CREATE TABLE nw.b (id int PRIMARY KEY, ts timestamptz, v int);
    CREATE TABLE nw.s (LIKE nw.b INCLUDING ALL);
    INSERT INTO nw.b VALUES (1, '2026-11-20 10:00Z', 1);
    INSERT INTO nw.s VALUES (1, '2026-11-20 10:00Z', 1), (2, NULL, 2), (3, 'infinity', 3);
    CREATE TABLE nw.bd (id int PRIMARY KEY, d date, v int);
    CREATE TABLE nw.sd (id int PRIMARY KEY, d date NOT NULL, v int);
    INSERT INTO nw.bd VALUES (1, '2026-11-20', 1), (2, '-infinity', 2);
    INSERT INTO nw.sd VALUES (1, '2026-11-20', 1);
    CREATE DOMAIN nw.finite_ts AS timestamp CHECK (isfinite(VALUE));
    CREATE TABLE nw.bn (id int PRIMARY KEY, ts nw.finite_ts, v int);
    CREATE TABLE nw.sn (id int PRIMARY KEY, ts timestamp NOT NULL, v int);
    INSERT INTO nw.bn VALUES (1, '2026-11-20 10:00', 1); INSERT INTO nw.sn VALUES (1, '2026-11-20 10:00', 1);`);
  rt = runtimeFor(db, {
    ts: dataset({ key: ['id'], window: { column: 'ts' }, batch: { output: 'nw.b' }, stream: { output: 'nw.s' } }),
    dates: dataset({ key: ['id'], window: { column: 'd' }, batch: { output: 'nw.bd' }, stream: { output: 'nw.sd' } }),
    fine: dataset({ key: ['id'], window: { column: 'ts' }, batch: { output: 'nw.bn' }, stream: { output: 'nw.sn' } }),
  });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

const judge = async (name: string) => reconcileDataset(rt, name, { assumeSettled: true, windows: ['2026-11-19', '2026-11-20'], samples: 10, store: false });

describe('rows whose window column puts them in no window', () => {
  it('stream rows with a NULL or infinite window column are an error naming them, not a match in every window', async () => {
    const rs = await judge('ts');
    expect(rs.map((r) => r.verdict)).toEqual(['error', 'error']);
    expect(rs[0].error?.code).toBe('DUALRUN_RECONCILE_FAILED');
    expect(rs[0].error?.message).toContain('stream.output nw.s: 2 rows have window.column ts NULL or infinite');
  });

  it('the batch side is checked too, and a NOT NULL column with finite values (one a domain refusing infinity) passes', async () => {
    const [r] = await judge('dates');
    expect(r.error?.message).toContain('batch.output nw.bd: 1 row has window.column d NULL or infinite');
    expect((await judge('fine')).map((x) => x.verdict)).toEqual(['match', 'match']);
  });
});
