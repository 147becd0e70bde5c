/**
 * The keyed drill-down compares a pair of different types (varchar / text,
 * citext / text, ...) by their canonical texts in SQL. Those texts kept a
 * column's non-deterministic collation, so under a case-blind ICU collation
 * 'ABC' equalled 'abc' there: the verdict was a mismatch (the checksums
 * differed) but the differing key and column were never reported. The texts
 * are now compared under the C collation, as every other strategy compares them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let rt: Runtime;

beforeAll(async () => {
  db = await freshDatabase('kc');
  await db.pool.query(`
    CREATE SCHEMA kc;
    CREATE COLLATION kc.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
    CREATE TABLE kc.b (id int PRIMARY KEY, both_ci varchar(10) COLLATE kc.ci, one_ci varchar(10) COLLATE kc.ci, arr text[] COLLATE kc.ci, same text);
    CREATE TABLE kc.s (id int PRIMARY KEY, both_ci text COLLATE kc.ci, one_ci text, arr varchar[], same text);
    INSERT INTO kc.b VALUES (1, 'ABC', 'x', '{a}', 's'), (2, 'x', 'ABC', '{a}', 's'), (3, 'x', 'x', '{A}', 's'), (4, 'x', 'x', '{a}', 's'), (5, 'Same', 'Same', '{Same}', 's');
    INSERT INTO kc.s VALUES (1, 'abc', 'x', '{a}', 's'), (2, 'x', 'abc', '{a}', 's'), (3, 'x', 'x', '{a}', 's'), (4, 'x', 'x', '{a}', 't'), (5, 'Same', 'Same', '{Same}', 's');`);
  rt = runtimeFor(db, { kc: dataset({ key: ['id'], batch: { output: 'kc.b' }, stream: { output: 'kc.s' }, reconcile: { buckets: 1 } }) });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('keyed drill-down under a non-deterministic collation', () => {
  it('a case-only difference between varchar and text under a case-blind collation is a reported difference', async () => {
    const [r] = await reconcileDataset(rt, 'kc', { assumeSettled: true, samples: 100, store: false });
    expect(r.error).toBeUndefined();
    expect(r.verdict).toBe('mismatch');
    expect(found(r)).toEqual(['changed {"id":1} both_ci', 'changed {"id":2} one_ci', 'changed {"id":3} arr', 'changed {"id":4} same']);
  });
});
