/**
 * A table of 600 numeric columns failed every window with Postgres's "ROW expressions can have at
 * most 1664 entries": the row hash puts a numeric into its record as three entries (value, sign,
 * NaN). The columns are now hashed in chunks, each chunk's hash one entry of a last record; the
 * verdict and the differing columns are found in either chunk, same database and across two.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, sameAndCrossDatabase, type TwoDatabases } from './support.ts';

const N = 600;
const cols = Array.from({ length: N }, (_, i) => `c${i + 1} numeric`).join(', ');
const vals = Array.from({ length: N }, (_, i) => `${i + 1}.0`).join(', ');
const SETUP = `
CREATE SCHEMA wn;
CREATE TABLE wn.b (id int PRIMARY KEY, ${cols});
CREATE TABLE wn.s (id int PRIMARY KEY, ${cols});
INSERT INTO wn.b SELECT g, ${vals} FROM generate_series(1, 3) g;
INSERT INTO wn.s SELECT g, ${vals} FROM generate_series(1, 3) g;
UPDATE wn.s SET c550 = 1 WHERE id = 1;
UPDATE wn.s SET c2 = -2 WHERE id = 2;
-- Trailing zeros count for nothing in either chunk: row 3 stays equal.
UPDATE wn.s SET c3 = 3.000, c599 = 599.00 WHERE id = 3;
CREATE TABLE wn.b_eq AS SELECT * FROM wn.b; CREATE TABLE wn.s_eq AS SELECT * FROM wn.b;
ALTER TABLE wn.b_eq ADD PRIMARY KEY (id); ALTER TABLE wn.s_eq ADD PRIMARY KEY (id);`;

let t: TwoDatabases;
beforeAll(async () => {
  t = await sameAndCrossDatabase('widen', SETUP, (batchDb) => ({
    wide: dataset({ key: ['id'], batch: { output: 'wn.b', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'wn.s' } }),
    equal: dataset({ key: ['id'], batch: { output: 'wn.b_eq', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'wn.s_eq' } }),
  }));
});
afterAll(async () => { await t?.close(); });

describe('a table with more numeric columns than one row hash record holds', () => {
  for (const where of ['same database', 'across databases'] as const) {
    it(`is compared: differences in either chunk found, equal rows equal (${where})`, async () => {
      const rt = where === 'same database' ? t.rt : t.crossRt;
      const [r] = await reconcileDataset(rt, 'wide', { assumeSettled: true, samples: 10, store: false });
      expect(r.error).toBeUndefined();
      expect(found(r)).toEqual(['changed {"id":1} c550', 'changed {"id":2} c2']);
      const [eq] = await reconcileDataset(rt, 'equal', { assumeSettled: true, samples: 10, store: false });
      expect(eq.verdict).toBe('match');
    });
  }
});
