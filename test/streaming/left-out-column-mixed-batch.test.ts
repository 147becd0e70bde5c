/**
 * A column a row leaves out (undefined: a transform's row without it, a Debezium image
 * without the field) is not written: on update it keeps its stored value. The column set
 * of a merge was taken from the whole batch (per-batch path) or the whole chunk of a
 * collected transaction (collecting path), so when another row of the same batch carried
 * the column, the row that left it out had it overwritten with NULL. Each merge now gets
 * the rows of one column set (consecutive runs, in source order), on both paths.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { createPool, type Pool } from '../../src/core/db/connect.ts';
import { COLLECTING_DEFAULTS } from '../../streaming/collecting-sink.ts';
import { setupToolkit } from './support.ts';
import { recordsOf, throughBothPaths } from './both-sink-paths.ts';

let db: TestDatabase;
let sinkPool: Pool;
beforeAll(async () => {
  db = await createTestDatabase('left_out_mixed');
  await setupToolkit(db.pool);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

const env = (op: string, lsn: number, after: object | null, before: object | null = null) => JSON.stringify({ op, before, after, source: { lsn } });

describe('a column left out by one row of a batch that another row carries', () => {
  it('keeps its stored value or the value an earlier change of the batch gave it (it was set to NULL), on both paths', async () => {
    const values = [env('c', 1, { k: 1, v: 'a', big: 'x' }), env('u', 2, { k: 1, v: 'b' }), env('c', 3, { k: 2, v: 'c', big: 'y' })];
    for (const cuts of [[1], []]) {
      const r = await throughBothPaths(db.pool, sinkPool, 'k int PRIMARY KEY, v text, big text', ['k'], recordsOf(values), { format: 'debezium', cuts });
      for (const path of [r.batch, r.collect]) {
        expect(path.rows.map((x) => JSON.parse(x)).map(({ k, v, big }) => ({ k, v, big }))).toEqual([{ k: 1, v: 'b', big: 'x' }, { k: 2, v: 'c', big: 'y' }]);
      }
    }
  });

  it('generated creates and updates leaving out any columns, with deletes, cut anywhere, end as each column\'s newest value sent, on both paths', { timeout: 120_000 }, async () => {
    const COLS = ['a', 'b', 'c'];
    const change = fc.record({ k: fc.integer({ min: 1, max: 3 }), del: fc.boolean(), cols: fc.subarray(COLS), n: fc.integer({ min: 0, max: 9 }) });
    const input = fc.record({ changes: fc.array(change, { minLength: 1, maxLength: 20 }), cuts: fc.array(fc.integer({ min: 1, max: 19 }), { maxLength: 3 }) });
    await fc.assert(fc.asyncProperty(input, async ({ changes, cuts }) => {
      const model = new Map<number, Record<string, string | null>>();
      const values = changes.map((ch, i) => {
        const lsn = 10 + i;
        if (ch.del) { model.delete(ch.k); return env('d', lsn, null, { k: ch.k }); }
        // A create sends the whole row; an update may leave columns out (as Debezium does for unchanged TOAST values).
        const creates = !model.has(ch.k);
        const cols = creates ? COLS : ch.cols;
        const after: Record<string, unknown> = { k: ch.k };
        for (const c of cols) after[c] = `${c}${ch.n}`;
        const row = model.get(ch.k) ?? { a: null, b: null, c: null };
        for (const c of cols) row[c] = `${c}${ch.n}`;
        model.set(ch.k, row);
        return env(creates ? 'c' : 'u', lsn, after);
      });
      const expected = [...model.entries()].sort(([x], [y]) => x - y).map(([k, row]) => ({ k, ...row }));
      const r = await throughBothPaths(db.pool, sinkPool, 'k int PRIMARY KEY, a text, b text, c text', ['k'], recordsOf(values), { format: 'debezium', cuts });
      for (const path of [r.batch, r.collect]) {
        expect(path.rows.map((x) => JSON.parse(x)).map(({ k, a, b, c }) => ({ k, a, b, c }))).toEqual(expected);
      }
    }), { numRuns: Number(process.env.FC_RUNS ?? 40), seed: Number(process.env.FC_SEED ?? Date.now() % 1_000_000) });
  });
});
