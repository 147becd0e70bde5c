/**
 * A record carrying a value for a `GENERATED ALWAYS AS IDENTITY` column of the output
 * (a source with the same identity column sends its values): Postgres refuses the insert
 * ("cannot insert a non-DEFAULT value", SQLSTATE 428C9), which the sink did not count as a
 * data error, so the batch failed on every delivery and the stream stopped, with the
 * records after it never applied. The value cannot be stored as sent, so the record is now
 * an `apply` dead letter with Postgres's reason naming the column; the others are applied,
 * on both paths.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { createPool, type Pool } from '../../src/core/db/connect.ts';
import { COLLECTING_DEFAULTS } from '../../streaming/collecting-sink.ts';
import { setupToolkit } from './support.ts';
import { recordsOf, throughBothPaths } from './both-sink-paths.ts';

let db: TestDatabase;
let sinkPool: Pool;
beforeAll(async () => {
  db = await createTestDatabase('identity_always');
  await setupToolkit(db.pool);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

describe('a value for an identity column generated always', () => {
  it('is an apply dead letter naming the column; the records around it are applied, on both paths', async () => {
    const values = [{ k: 1, v: 'a' }, { k: 2, g: 50, v: 'b' }, { k: 3, v: 'c' }, { k: 1, v: 'a2' }, { k: 3, g: 70, v: 'c2' }].map((r) => JSON.stringify(r));
    const r = await throughBothPaths(db.pool, sinkPool, 'k integer PRIMARY KEY, g integer GENERATED ALWAYS AS IDENTITY, v text', ['k'], recordsOf(values), { cuts: [2] });
    for (const path of [r.batch, r.collect]) {
      expect(path.dead.map((d) => [d.p, d.stage])).toEqual([[1, 'apply'], [4, 'apply']]);
      for (const d of path.dead) expect(d.reason).toMatch(/column "g".*SQLSTATE 428C9/);
      expect(path.rows.map((x) => { const o = JSON.parse(x); return [o.k, o.v]; })).toEqual([[1, 'a2'], [3, 'c']]);
    }
  });
});
