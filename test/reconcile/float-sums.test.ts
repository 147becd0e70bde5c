/**
 * The fingerprint's float column sums are only shown, yet Postgres's own float
 * sum raises an error on overflow: two rows of 1e308 (or of 3e38 in a float4)
 * once failed the whole window with "value out of range: overflow". Now such a
 * sum is ±Infinity, tiny values do not raise an underflow, float4 is summed as
 * float8, and ordinary float8 sums print as Postgres's sum does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let rt: Runtime;

beforeAll(async () => {
  db = await freshDatabase('fs');
  await db.pool.query(`
    CREATE SCHEMA fs;
    CREATE TABLE fs.b (id int PRIMARY KEY, big float8, big4 float4, neg float8, tiny float8, plain float8, odd float8);
    INSERT INTO fs.b VALUES
      (1, 1e308, 3e38, -1e308, '5e-324', 0.1, 'NaN'),
      (2, 1e308, 3e38, -1e308, '5e-324', 0.2, 1),
      (3, 1, 1, 1, '-5e-324', -1e-300, 2);
    CREATE TABLE fs.s (LIKE fs.b INCLUDING ALL);
    INSERT INTO fs.s SELECT * FROM fs.b;
    UPDATE fs.s SET plain = 0.25 WHERE id = 2;`);
  rt = runtimeFor(db, { fs: dataset({ key: ['id'], batch: { output: 'fs.b' }, stream: { output: 'fs.s' } }) });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

describe('float column sums', () => {
  it('sums beyond float8 are ±Infinity instead of failing the window, and the difference is still found', async () => {
    const [r] = await reconcileDataset(rt, 'fs', { assumeSettled: true, store: false });
    expect(r.error).toBeUndefined();
    expect(r.verdict).toBe('mismatch');
    expect(r.diff?.samples.map((s) => [s.key, Object.keys(s.columns ?? {})])).toEqual([[{ id: 2 }, ['plain']]]);
    // float4 is summed as float8 (3e38 is 3.0000000549775576e38 as a float4); Postgres's own sum(plain)
    // prints 0.30000000000000004; values below 2^-900 count as 0 (tiny).
    expect(r.batch?.sums).toEqual({ big: 'Infinity', big4: '6.0000000109955115e+38', neg: '-Infinity', tiny: '0', plain: '0.30000000000000004', odd: 'NaN' });
    expect(r.stream?.sums.plain).not.toBe(r.batch?.sums.plain);
  });
});
