/**
 * One key, spelled two ways. Postgres decides which rows are one key (`01` and `1` are
 * the integer 1, a uuid in upper and lower case is one uuid, `1.0` and `1.00` are one
 * numeric, `…T01:00+01:00` and `…T00:00Z` one instant); the sink's own dedupe of a batch
 * compares the record's text. Two changes of one key spelled differently in one batch
 * were both written by the per-batch merge, which Postgres refuses as a whole
 * ("ON CONFLICT DO UPDATE command cannot affect row a second time", SQLSTATE 21000, not
 * a data error): the batch failed, and failed again each time it was delivered, so the
 * stream stopped for good on two good records. The collecting path (which ranks in
 * Postgres) applied the same records. Now both paths give the newest change per key.
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
  db = await createTestDatabase('key_spellings');
  await setupToolkit(db.pool);
  await db.pool.query(`ALTER DATABASE "${db.name}" SET timezone = 'UTC'`);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

/** [column type, spellings of key n (0-3), each naming the same value] */
const SPELLINGS: [string, (n: number) => string[]][] = [
  ['integer', (n) => [`${n + 1}`, `0${n + 1}`, `+${n + 1}`, ` ${n + 1}`]],
  ['uuid', (n) => [`a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1${n}`, `A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A1${n}`, `{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1${n}}`, `a0eebc999c0b4ef8bb6d6bb9bd380a1${n}`]],
  ['numeric', (n) => [`${n + 1}`, `${n + 1}.0`, `${n + 1}.00`, `${n + 1}e0`]],
  ['timestamptz', (n) => [`2026-01-01T0${n}:00:00Z`, `2026-01-01T0${n + 1}:00:00+01:00`, `2025-12-31 ${19 + n}:00:00-05`, `2026-01-01T0${n}:30:00+00:30`]],
];

describe('one key spelled two ways', () => {
  for (const [type, spell] of SPELLINGS) {
    const spellings = spell(0);
    it(`${type} ${spellings[0]} and ${spellings[1]} in one batch: the newer change is stored on both paths`, async () => {
      const values = [JSON.stringify({ k: spellings[0], v: 'old' }), JSON.stringify({ k: spellings[1], v: 'new' })];
      const r = await throughBothPaths(db.pool, sinkPool, `k ${type} PRIMARY KEY, v text`, ['k'], recordsOf(values));
      expect(r.batch.dead).toEqual([]);
      expect(r.batch.rows.map((x) => JSON.parse(x).v)).toEqual(['new']);
      expect(r.collect.rows.map((x) => JSON.parse(x).v)).toEqual(['new']);
    });
  }

  it('a key Postgres finds equal but spelled otherwise is stored as the newer change spells it (numeric 1 then 1.0, citext abc then ABC), on both paths', async () => {
    await db.pool.query('CREATE EXTENSION IF NOT EXISTS citext');
    for (const [type, first, then] of [['numeric', '1', '1.0'], ['citext', 'abc', 'ABC']]) {
      for (const cuts of [[], [1]]) {
        const values = [JSON.stringify({ k: first, v: 'old' }), JSON.stringify({ k: then, v: 'new' })];
        const r = await throughBothPaths(db.pool, sinkPool, `k ${type} PRIMARY KEY, v text`, ['k'], recordsOf(values), { cuts });
        for (const path of [r.batch, r.collect]) expect(path.rows.map((x) => JSON.parse(x))).toEqual([{ k: type === 'numeric' ? 1.0 : then, v: 'new', _dr_version: 1 }]);
        expect(r.batch.rows).toEqual(r.collect.rows);
        expect(r.batch.rows[0]).toContain(`"k": ${type === 'numeric' ? then : `"${then}"`}`);
      }
    }
  });

  it('generated streams of keys in several spellings, cut into batches anywhere, end as the newest change per key on both paths', { timeout: 120_000 }, async () => {
    const change = fc.record({ key: fc.integer({ min: 0, max: 3 }), spelling: fc.integer({ min: 0, max: 3 }), del: fc.boolean(), v: fc.integer({ min: 0, max: 99 }) });
    const input = fc.record({ type: fc.integer({ min: 0, max: SPELLINGS.length - 1 }), changes: fc.array(change, { minLength: 1, maxLength: 25 }), cuts: fc.array(fc.integer({ min: 1, max: 24 }), { maxLength: 4 }) });
    await fc.assert(fc.asyncProperty(input, async ({ type, changes, cuts }) => {
      const [sqlType, spellings] = SPELLINGS[type];
      const spell = (key: number, s: number) => spellings(key)[s];
      const values = changes.map((c) => JSON.stringify(c.del ? { k: spell(c.key, c.spelling), __deleted: 'true' } : { k: spell(c.key, c.spelling), v: String(c.v) }));
      const newest = new Map<number, { v: number; del: boolean }>();
      for (const c of changes) newest.set(c.key, { v: c.v, del: c.del });
      const expected = [...newest.entries()].filter(([, x]) => !x.del).sort(([a], [b]) => a - b).map(([, x]) => String(x.v));
      const r = await throughBothPaths(db.pool, sinkPool, `k ${sqlType} PRIMARY KEY, v text`, ['k'], recordsOf(values), { cuts });
      expect(r.batch.dead).toEqual([]);
      expect(r.batch.rows.map((x) => JSON.parse(x).v)).toEqual(expected);
      expect(r.collect.rows.map((x) => JSON.parse(x).v)).toEqual(expected);
    }), { numRuns: Number(process.env.FC_RUNS ?? 60), seed: Number(process.env.FC_SEED ?? Date.now() % 1_000_000) });
  });
});
