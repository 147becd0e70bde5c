/**
 * The canonical encoding on the real Postgres: what must differ (delimiters in
 * values, NULL vs '') and what must not (numeric scale, one instant written in
 * two time zones), tolerances, composite and text keys.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let other: TestDatabase;
let rt: Runtime;
let crossRt: Runtime;

const SETUP = `
CREATE SCHEMA e;
CREATE TABLE e.vals_batch (k text PRIMARY KEY, a text, b text, n numeric(10,1), t timestamptz, w timestamp, amount numeric(12,3));
CREATE TABLE e.vals_stream (k text PRIMARY KEY, a text, b text, n numeric(10,2), t timestamptz, w timestamptz, amount numeric(12,3));
INSERT INTO e.vals_batch VALUES
  ('pipe',    'a|b', 'c',  1, NULL, NULL, 0),
  ('comma',   'a,b', 'c',  1, NULL, NULL, 0),
  ('quote',   'a"(', 'b)', 1, NULL, NULL, 0),
  ('null',    NULL,  'x',  1, NULL, NULL, 0),
  ('empty',   '',    'x',  1, NULL, NULL, 0),
  ('scale',   'v',   'v',  10.0, NULL, NULL, 0),
  ('instant', 'v',   'v',  1, '2026-11-20 12:00:00+02', '2026-11-20 10:00:00', 0),
  ('tol-in',  'v',   'v',  1, NULL, NULL, 10.000),
  ('tol-out', 'v',   'v',  1, NULL, NULL, 10.000),
  ('a b',     'v',   'v',  1, NULL, NULL, 0),
  ('(x,y)',   'v',   'v',  1, NULL, NULL, 0);
INSERT INTO e.vals_stream VALUES
  ('pipe',    'a',   'b|c', 1, NULL, NULL, 0),
  ('comma',   'a',   'b,c', 1, NULL, NULL, 0),
  ('quote',   'a"(', 'b)',  1, NULL, NULL, 0),
  ('null',    '',    'x',   1, NULL, NULL, 0),
  ('empty',   NULL,  'x',   1, NULL, NULL, 0),
  ('scale',   'v',   'v',   10.00, NULL, NULL, 0),
  ('instant', 'v',   'v',   1, '2026-11-20 10:00:00+00', '2026-11-20 05:00:00-05', 0),
  ('tol-in',  'v',   'v',   1, NULL, NULL, 10.004),
  ('tol-out', 'v',   'v',   1, NULL, NULL, 10.010),
  ('a b',     'v',   'w',   1, NULL, NULL, 0),
  ('(x,y)',   'v',   'v',   1, NULL, NULL, 0);

CREATE TABLE e.comp_batch (region text, id int, qty int, PRIMARY KEY (region, id));
CREATE TABLE e.comp_stream (region text, id bigint, qty int, PRIMARY KEY (region, id));
INSERT INTO e.comp_batch SELECT r, i, i FROM unnest(ARRAY['eu', 'us', 'e,u']) r, generate_series(1, 50) i;
INSERT INTO e.comp_stream SELECT * FROM e.comp_batch;
DELETE FROM e.comp_stream WHERE region = 'eu' AND id = 7;
UPDATE e.comp_stream SET qty = -1 WHERE region = 'us' AND id = 7;
INSERT INTO e.comp_stream VALUES ('eu', 51, 51), ('e,u', 999, 1);
-- ('e', 'u,1') vs ('e,u', 1): a composite key whose parts contain the delimiter
INSERT INTO e.comp_batch VALUES ('e', 1, 5);
`;

beforeAll(async () => {
  [db, other] = await Promise.all([freshDatabase(), freshDatabase('rcx')]);
  await Promise.all([db.pool.query(SETUP), other.pool.query(SETUP)]);
  const datasets = (batchDb?: string) => ({
    vals: dataset({ key: ['k'], batch: { output: 'e.vals_batch', database: batchDb }, stream: { output: 'e.vals_stream' }, reconcile: { tolerance: { amount: 0.005 } } }),
    comp: dataset({ key: ['region', 'id'], batch: { output: 'e.comp_batch', database: batchDb }, stream: { output: 'e.comp_stream' } }),
  });
  rt = runtimeFor(db, datasets());
  // The batch tables read from a second database: hash buckets, cross-database drill-down.
  crossRt = runtimeFor(db, datasets(other.url));
});
afterAll(async () => { await rt?.close(); await crossRt?.close(); await db?.drop(); await other?.drop(); });

describe('reconcile: canonical encoding', () => {
  it('keeps delimiters, quotes and NULL vs empty apart; equates numeric scale, instants and values within tolerance', async () => {
    const [r] = await reconcileDataset(rt, 'vals', { assumeSettled: true, samples: 100 });
    expect(r.error).toBeUndefined();
    expect(found(r)).toEqual([
      'changed {"k":"a b"} b',
      'changed {"k":"comma"} a,b',
      'changed {"k":"empty"} a',
      'changed {"k":"null"} a',
      'changed {"k":"pipe"} a,b',
      'changed {"k":"tol-out"} amount',
    ]);
    const nullVsEmpty = r.diff!.samples.find((s) => s.key.k === 'null')!;
    expect(nullVsEmpty.columns).toEqual({ a: { batch: null, stream: '' } });
    const tol = r.diff!.samples.find((s) => s.key.k === 'tol-out')!;
    // numeric(12,3) on both sides: one scale, so the values are shown (and compared) as stored
    expect(tol.columns).toEqual({ amount: { batch: '10.000', stream: '10.010' } });
    expect(r.verdict).toBe('mismatch');
  });

  it('composite and text keys: exact keys, including parts that contain the delimiter', async () => {
    const [r] = await reconcileDataset(rt, 'comp', { assumeSettled: true, samples: 100 });
    expect(r.error).toBeUndefined();
    expect(found(r)).toEqual([
      'changed {"id":7,"region":"us"} qty',
      'missing_in_batch {"id":51,"region":"eu"}',
      'missing_in_batch {"id":999,"region":"e,u"}',
      'missing_in_stream {"id":1,"region":"e"}',
      'missing_in_stream {"id":7,"region":"eu"}',
    ]);
  });

  it('text and composite keys across two databases (hash buckets): the same differences', async () => {
    for (const name of ['vals', 'comp']) {
      const [same] = await reconcileDataset(rt, name, { assumeSettled: true, samples: 100, store: false });
      for (const buckets of [undefined, 1, 5]) {
        const [x] = await reconcileDataset(crossRt, name, { assumeSettled: true, samples: 100, store: false, buckets });
        expect(x.strategy).toBe('cross-database');
        expect(x.buckets!.mode).toBe('hash');
        expect(x.diff).toEqual(same.diff);
        expect(x.batch).toEqual(same.batch);
      }
    }
  });
});
