/**
 * A primary key changed to a value Postgres finds equal (citext `abc` to `ABC`, numeric
 * `1.0` to `1.00`): Debezium sees a key change and sends a delete of the old key and a
 * create of the new one, both at the update's LSN; dualrun's own capture sends one
 * update whose before image has the old key, which the sink turns into a delete and an
 * upsert at one version. For Postgres both are one key at one version, and the rule
 * for equal versions kept the first change: the delete. So the row was deleted and a
 * tombstone left, on the collecting path always, on the per-batch path when a batch
 * ended between the two events; the source still has the row. At one version an
 * upsert now wins over a delete (the source's state after that position is the row),
 * on both paths wherever batches are cut.
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
  db = await createTestDatabase('key_change_same');
  await setupToolkit(db.pool);
  await db.pool.query('CREATE EXTENSION IF NOT EXISTS citext');
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

const env = (op: string, lsn: number, before: object | null, after: object | null) => JSON.stringify({ op, before, after, source: { lsn, ts_ms: 1_790_000_000_000 + lsn } });

/** Events of one source change: a Debezium key change (delete + create) or a captured update with the old key in `before`. */
function keyChange(style: 'debezium' | 'captured', lsn: number, from: object, to: object): string[] {
  return style === 'debezium' ? [env('d', lsn, from, null), env('c', lsn, null, to)] : [env('u', lsn, from, to)];
}

describe('a key changed to a value Postgres finds equal', () => {
  for (const [type, from, to] of [['citext', 'abc', 'ABC'], ['numeric', '1.0', '1.00']] as const) {
    for (const style of ['debezium', 'captured'] as const) {
      it(`${type} ${from} → ${to} (${style}): the row stays, as the new change has it, on both paths and every cut`, async () => {
        const values = [env('c', 10, null, { k: from, v: 'old' }), ...keyChange(style, 20, { k: from, v: 'old' }, { k: to, v: 'new' })];
        for (let cut = 0; cut < values.length; cut++) {
          const r = await throughBothPaths(db.pool, sinkPool, `k ${type} PRIMARY KEY, v text`, ['k'], recordsOf(values), { format: 'debezium', cuts: [cut] });
          for (const path of [r.batch, r.collect]) {
            expect(path.dead).toEqual([]);
            expect(path.rows).toEqual([`{"k": ${type === 'numeric' ? to : `"${to}"`}, "v": "new", "_dr_version": 20}`]);
          }
        }
      });
    }
  }

  it('generated histories of one citext key (updates, deletes, re-creates, key changes to other spellings) end as the source does, on both paths', { timeout: 120_000 }, async () => {
    const SPELLINGS = ['abc', 'ABC', 'Abc', 'aBc'];
    const step = fc.record({ kind: fc.constantFrom('update', 'delete', 'keyChange'), spelling: fc.integer({ min: 0, max: 3 }), style: fc.constantFrom<'debezium' | 'captured'>('debezium', 'captured') });
    const input = fc.record({ steps: fc.array(step, { minLength: 1, maxLength: 12 }), cuts: fc.array(fc.integer({ min: 1, max: 30 }), { maxLength: 4 }) });
    await fc.assert(fc.asyncProperty(input, async ({ steps, cuts }) => {
      let lsn = 100;
      let row: { k: string; v: string } | null = { k: 'abc', v: 'v0' };
      const values = [env('c', lsn, null, row)];
      for (const [i, s] of steps.entries()) {
        lsn += 10;
        if (!row) { row = { k: SPELLINGS[s.spelling], v: `v${i}` }; values.push(env('c', lsn, null, row)); continue; }
        if (s.kind === 'delete') { values.push(env('d', lsn, row, null)); row = null; continue; }
        const next: { k: string; v: string } = { k: s.kind === 'keyChange' ? SPELLINGS[s.spelling] : row.k, v: `v${i}` };
        values.push(...(next.k === row.k ? [env('u', lsn, row, next)] : keyChange(s.style, lsn, row, next)));
        row = next;
      }
      const r = await throughBothPaths(db.pool, sinkPool, 'k citext PRIMARY KEY, v text', ['k'], recordsOf(values), { format: 'debezium', cuts });
      const expected = row ? [`{"k": "${row.k}", "v": "${row.v}", "_dr_version": ${lsn}}`] : [];
      for (const path of [r.batch, r.collect]) {
        expect(path.dead).toEqual([]);
        expect(path.rows).toEqual(expected);
      }
    }), { numRuns: Number(process.env.FC_RUNS ?? 40), seed: Number(process.env.FC_SEED ?? Date.now() % 1_000_000) });
  });
});
