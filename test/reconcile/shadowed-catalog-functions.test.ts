/**
 * Functions and operators of the user's that Postgres prefers to its own even with pg_catalog first
 * on the search path: an overload whose argument types match exactly (pg_catalog's takes other
 * types: `hash_numeric_extended(numeric, bigint)` called with the integer literal 0, `=` on
 * int4 for a column of a domain over int4) wins over pg_catalog's, whatever the path order.
 * `public.hash_numeric_extended(numeric, integer)` hashed every row alike, and an `=` of the
 * user's on a domain made the keyed drill-down see no change: both were a `match` on tables
 * that differ. The reconciler's sessions now search pg_catalog alone (a side with
 * reconcile.expressions keeps the user's schemas after it, for those), and its hashes and native
 * comparisons name pg_catalog or compare values cast to their base type, so neither can be
 * replaced even then.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { readOutputShape } from '../../src/core/cutover/output-shape.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';

// Two databases, so each trap is the only one in its database.
let db: TestDatabase;
let dq: TestDatabase;
beforeAll(async () => {
  [db, dq] = await Promise.all([freshDatabase('shadow'), freshDatabase('shadowq')]);
  const rows = (f: (i: number) => string) => Array.from({ length: 40 }, (_, i) => f(i + 1)).join(', ');
  await db.pool.query(`
    CREATE SCHEMA h;
    CREATE TABLE h.b (id int PRIMARY KEY, t text, n numeric, amt numeric);
    CREATE TABLE h.s (id int PRIMARY KEY, t text, n numeric, amt numeric);
    INSERT INTO h.b VALUES (1, 'a', 1.5, 1), (2, 'b', 2, 1);
    INSERT INTO h.s VALUES (1, 'a', 1.5, 1), (2, 'DIFFERENT', 3, 1);
    -- Overloads taking the integer literal the reconciler passes as seed (pg_catalog's take bigint).
    CREATE FUNCTION public.hash_numeric_extended(numeric, integer) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT 1::bigint';
    CREATE FUNCTION public.hashtextextended(text, integer) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT 1::bigint';`);
  await dq.pool.query(`
    CREATE SCHEMA h;
    -- A domain with an equality of its own that equates everything.
    CREATE DOMAIN public.qty AS int4;
    CREATE FUNCTION public.qty_eq(qty, qty) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT true';
    CREATE OPERATOR public.= (LEFTARG = qty, RIGHTARG = qty, FUNCTION = public.qty_eq);
    CREATE TABLE h.qb (id int8 PRIMARY KEY, n public.qty, amt numeric);
    CREATE TABLE h.qs (id int8 PRIMARY KEY, n public.qty, amt numeric);
    INSERT INTO h.qb VALUES ${rows((i) => `(${i}, ${i}, 1)`)};
    INSERT INTO h.qs VALUES ${rows((i) => `(${i}, ${i + 1000}, 1)`)};
    CREATE TABLE public.qpub (id int8 PRIMARY KEY, n public.qty, amt numeric);
    CREATE VIEW h.qv AS SELECT * FROM public.qpub;`);
});
afterAll(async () => { await db?.drop(); await dq?.drop(); });

const judge = async (ds: Record<string, unknown>, on: TestDatabase = db) => {
  const rt = runtimeFor(on, { x: dataset(ds as never) });
  try {
    const [r] = await reconcileDataset(rt, 'x', { assumeSettled: true, samples: 100, store: false });
    return r;
  } finally { await rt.close(); }
};
const changedN = Array.from({ length: 40 }, (_, i) => `changed {"id":${i + 1}} n`).sort();

describe('functions and operators of the user\'s never replace the reconciler\'s', () => {
  it('public.hash_numeric_extended(numeric, integer) no longer hashes every row alike (was a match)', async () => {
    const r = await judge({ key: ['id'], batch: { output: 'h.b' }, stream: { output: 'h.s' } });
    expect(r.error).toBeUndefined();
    expect(r.verdict).toBe('mismatch');
    expect(found(r)).toEqual(['changed {"id":2} n,t']);
  });

  it('the same with reconcile.expressions on both sides (the user\'s schemas stay on the path there)', async () => {
    const r = await judge({ key: ['id'], batch: { output: 'h.b' }, stream: { output: 'h.s' }, reconcile: { expressions: { amt: { batch: 'amt + 0', stream: 'amt + 0' } } } });
    expect(r.error).toBeUndefined();
    expect(r.verdict).toBe('mismatch');
    expect(found(r)).toEqual(['changed {"id":2} n,t']);
  });

  it('an = of the user\'s on a domain no longer hides changes from the keyed drill-down (was a match with a tolerance)', async () => {
    const r = await judge({ key: ['id'], batch: { output: 'h.qb' }, stream: { output: 'h.qs' }, reconcile: { tolerance: { amt: 0.01 } } }, dq);
    expect(r.error).toBeUndefined();
    expect(r.verdict).toBe('mismatch');
    expect(found(r)).toEqual(changedN);
  });

  it('the same with reconcile.expressions on both sides', async () => {
    const r = await judge({ key: ['id'], batch: { output: 'h.qb' }, stream: { output: 'h.qs' }, reconcile: { tolerance: { amt: 0.01 }, expressions: { amt: { batch: 'amt + 0', stream: 'amt + 0' } } } }, dq);
    expect(r.error).toBeUndefined();
    expect(r.verdict).toBe('mismatch');
    expect(found(r)).toEqual(changedN);
  });

  it('the outputs\' shapes are still read as the user\'s path prints them, as the cutover gate re-reads them (a domain\'s name, a view\'s query)', async () => {
    const rt = runtimeFor(dq, { x: dataset({ key: ['id'], batch: { output: 'h.qb' }, stream: { output: 'h.qv' } }) });
    try {
      const [r] = await reconcileDataset(rt, 'x', { assumeSettled: true, samples: 1, store: false });
      expect(r.error).toBeUndefined();
      const ds = rt.dataset('x');
      expect(r.shapes).toEqual({ batch: await readOutputShape(dq.pool, ds.batch.output), stream: await readOutputShape(dq.pool, ds.stream.output) });
    } finally { await rt.close(); }
  });
});
