/**
 * A float4 key against a float8 (or numeric) key is compared as the float8 it holds (the float4
 * 0.1 is 0.10000000149011612), but samples printed it as float4 prints: 0.1. So the float4 0.1
 * and the float8 0.1 were reported as `missing_in_stream {"k":0.1}` and `missing_in_batch
 * {"k":0.1}`: one key, seemingly, missing on both sides. The key is now reported as compared.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase('f4k');
  await db.pool.query(`
    CREATE SCHEMA f4;
    CREATE TABLE f4.b (k float4 PRIMARY KEY, v int); INSERT INTO f4.b VALUES (0.1, 1), (0.5, 2);
    CREATE TABLE f4.s (k float8 PRIMARY KEY, v int); INSERT INTO f4.s VALUES (0.1, 1), (0.5, 2);
    CREATE TABLE f4.n (k numeric PRIMARY KEY, v int); INSERT INTO f4.n VALUES (0.1, 1), (0.5, 2);
    CREATE TABLE f4.b2 (k float4 PRIMARY KEY, v int); INSERT INTO f4.b2 VALUES (0.1, 1), (0.5, 3);
    CREATE TABLE f4.s2 (k float4 PRIMARY KEY, v int); INSERT INTO f4.s2 VALUES (0.1, 1), (0.5, 2);`);
});
afterAll(async () => { await db?.drop(); });

async function judge(batch: string, stream: string) {
  const rt = runtimeFor(db, { d: dataset({ key: ['k'], batch: { output: batch }, stream: { output: stream } }) });
  try { return (await reconcileDataset(rt, 'd', { assumeSettled: true, samples: 10, store: false }))[0]; } finally { await rt.close(); }
}

describe('a float4 key compared with a float8 or numeric key', () => {
  it('is reported as the float8 it is compared as, so the two sides\' keys differ in the report too', async () => {
    for (const stream of ['f4.s', 'f4.n']) {
      const r = await judge('f4.b', stream);
      expect(r.verdict).toBe('mismatch');
      expect(found(r)).toEqual(['missing_in_batch {"k":0.1}', 'missing_in_stream {"k":0.10000000149011612}']);
    }
  });

  it('a float4 key against a float4 key is still printed as float4 prints it', async () => {
    expect(found(await judge('f4.b2', 'f4.s2'))).toEqual(['changed {"k":0.5} v']);
  });
});
