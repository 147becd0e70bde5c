/**
 * Regression: several `dualrun stream` workers started at once for one dataset (the
 * scale-out the docs describe) each prepared the stream output: two sessions running
 * `CREATE UNIQUE INDEX IF NOT EXISTS` (or `ADD COLUMN IF NOT EXISTS`) together made the
 * second fail on the catalog's unique index (23505, pg_class_relname_nsp_index), and
 * that worker exited 3 at start.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { createPool, type Pool } from '../../src/core/db/connect.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';

let db: TestDatabase;
let pools: Pool[];
beforeAll(async () => {
  db = await createTestDatabase('stream_output_concurrent');
  pools = Array.from({ length: 4 }, () => createPool(db.url, { max: 1 }));
});
afterAll(async () => { await Promise.all(pools.map((p) => p.end())); await db?.drop(); });

it('regression: workers preparing one output at once failed on the catalog (duplicate key pg_class_relname_nsp_index); now every one succeeds and the index is made once', { timeout: 60_000 }, async () => {
  for (let round = 0; round < 12; round++) {
    const name = `public.out_${round}`;
    await db.pool.query(`CREATE TABLE ${name} (id int NOT NULL, v text)`);
    const results = await Promise.allSettled(pools.map((p) => prepareOutputTable(p, parseTableRef(name)!, ['id'])));
    expect(results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)), `round ${round}`).toEqual([]);
    const idx = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_index WHERE indrelid = $1::regclass AND indisunique`, [name]);
    expect(idx.rows[0].n).toBe(1);
  }
});
