/**
 * Compared columns are read from the catalog, and a table nobody on the team
 * wrote may name them anything Postgres allows. A column named "Order Date",
 * "a""b", "x,y", "ünï" or "select" once failed the window with "not a valid SQL
 * identifier" (the config's identifier check applied to catalog names), with no
 * way to ignore it. Now they are quoted and compared like any other column, by
 * every drill-down strategy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, keyedCopiesSql, sameAndCrossDatabase, type TwoDatabases } from './support.ts';

const SETUP = `
CREATE SCHEMA cn;
CREATE TYPE cn.pair AS ("left side" int, "a""b" text);
CREATE TABLE cn.b (id int, "Order Date" date, "a""b" text, "x,y" int[], "ünï" numeric, "select" bool, "p" cn.pair);
CREATE TABLE cn.s (id int, "Order Date" date, "a""b" varchar, "x,y" int8[], "ünï" numeric(10,2), "select" bool, "p" cn.pair);
INSERT INTO cn.b VALUES (1, '2026-01-01', 'x', '{1}', 1, true, ROW(1, 'q')), (2, '2026-01-01', 'x', '{1}', 1, true, ROW(1, 'q')),
                        (3, '2026-01-01', 'x', '{1}', 1, true, ROW(1, 'q'));
INSERT INTO cn.s VALUES (1, '2026-01-02', 'x', '{1}', 1, true, ROW(1, 'q')), (2, '2026-01-01', 'y', '{2}', 2, false, ROW(2, 'q')),
                        (3, '2026-01-01', 'x', '{1}', 1.00, true, ROW(1, 'q'));
${keyedCopiesSql('cn')}
`;

let env: TwoDatabases;

beforeAll(async () => {
  env = await sameAndCrossDatabase('cn', SETUP, (batchDb?: string) => ({
    plain: dataset({ key: ['id'], batch: { output: 'cn.b', database: batchDb }, stream: { output: 'cn.s' } }),
    keyed: dataset({ key: ['id'], batch: { output: 'cn.pk_b', database: batchDb }, stream: { output: 'cn.pk_s' }, reconcile: { buckets: 1 } }),
  }));
});
afterAll(async () => { await env?.close(); });

describe('column names that are not plain identifiers', () => {
  for (const name of ['plain', 'keyed']) {
    it(`${name}: columns with spaces, quotes, commas, non-ASCII letters and keywords are compared (same and cross database)`, async () => {
      for (const rt of [env.rt, env.crossRt]) {
        const [r] = await reconcileDataset(rt, name, { assumeSettled: true, samples: 100, store: false });
        expect(r.error).toBeUndefined();
        expect(r.columns).toEqual(['Order Date', 'a"b', 'x,y', 'ünï', 'select', 'p']);
        expect(r.verdict).toBe('mismatch');
        expect(found(r)).toEqual(['changed {"id":1} Order Date', 'changed {"id":2} a"b,p,select,x,y,ünï']);
      }
    });
  }
});
