/**
 * A tolerance on a column that is not a number on both sides was applied to its text read as a
 * number: text `5` vs ` 5.`, `1e2` vs `100`, jsonb `1` vs `1.001` were `match` with
 * `tolerance: { v: 0.01 }`. docs/reconcile.md says a tolerance on a non-numeric column compares
 * text; now only columns that hold numbers on both sides (integers, numeric, money, floats,
 * domains over them) take one. Same database and across two (Node classifies both).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, sameAndCrossDatabase, type TwoDatabases } from './support.ts';

const SETUP = `
CREATE SCHEMA tn;
CREATE DOMAIN tn.amount AS numeric(12,2);
CREATE TABLE tn.b (id int PRIMARY KEY, v text, j jsonb, vc varchar(10), n tn.amount, f float8, a numeric[]);
CREATE TABLE tn.s (id int PRIMARY KEY, v text, j jsonb, vc text, n numeric, f numeric, a numeric[]);
INSERT INTO tn.b VALUES
  (1, '5',   '1',   '10',  10.00, 0.5, '{1}'),
  (2, '1e2', '[1]', '+7',  10.00, 0.5, '{1}'),
  (3, 'x',   '2',   '.5',  10.00, 0.5, '{1}'),
  (4, 'y',   '2',   'a',   10.00, 0.5, '{1}'),
  (5, 'z',   '2',   'a',   10.00, 0.5, '{1}');
INSERT INTO tn.s VALUES
  (1, ' 5.', '1.001', '10', 10,    0.5,   '{1}'),
  (2, '100', '[1]',   '7',  10,    0.5,   '{1}'),
  (3, 'x',   '2',     '0.5', 10,   0.5,   '{1}'),
  (4, 'y',   '2',     'a',  10.004, 0.504, '{1}'),
  (5, 'z',   '2',     'a',  10,    0.5,   '{1.001}');`;

let t: TwoDatabases;
beforeAll(async () => {
  t = await sameAndCrossDatabase('tolnn', SETUP, (batchDb) => ({
    tol: dataset({
      key: ['id'], batch: { output: 'tn.b', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'tn.s' },
      reconcile: { tolerance: { v: 0.01, j: 0.01, vc: 0.01, n: 0.005, f: 0.005, a: 0.01 } },
    }),
  }));
});
afterAll(async () => { await t?.close(); });

describe('a tolerance on a column that is not a number on both sides', () => {
  for (const where of ['same database', 'across databases'] as const) {
    it(`compares its text, while numbers (a domain over numeric, a float against numeric) keep their tolerance (${where})`, async () => {
      const rt = where === 'same database' ? t.rt : t.crossRt;
      const [r] = await reconcileDataset(rt, 'tol', { assumeSettled: true, samples: 50, store: false });
      expect(r.verdict).toBe('mismatch');
      // Row 4: 10.00 vs 10.004 and 0.5 vs 0.504 are within their tolerances: not listed.
      expect(found(r)).toEqual([
        'changed {"id":1} j,v',
        'changed {"id":2} v,vc',
        'changed {"id":3} vc',
        'changed {"id":5} a',
      ]);
    });
  }
});
