/**
 * What the differential probe against reladiff found (scripts/reconcile-vs-reladiff.ts,
 * docs/reconcile.md "Checked against reladiff"), one test per wrong verdict, on real
 * Postgres through the library API, in one database and across two.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { encodeSql, planCodec } from '../../reconcile/value-codec.ts';
import type { TypeDesc } from '../../reconcile/table-columns.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { parseDecimal } from '../../reconcile/exact-decimal.ts';
import { dataset, found, sameAndCrossDatabase, type TwoDatabases } from './support.ts';

let env: TwoDatabases;

const SETUP = `
CREATE SCHEMA pr;
-- a float against an exact number (int8, numeric)
CREATE TABLE pr.fb (id int PRIMARY KEY, i8 int8, n numeric, f4n float4);
CREATE TABLE pr.fs (id int PRIMARY KEY, i8 float8, n float8, f4n numeric);
INSERT INTO pr.fb VALUES
  (1, 9007199254740993, 0.10000000000000000001, 0.5),   -- the floats cannot hold these: real differences
  (2, 9223372036854775807, 1e400, 0.1),                  -- 1e400 is beyond float8; float4 0.1 is 0.100000001490116...
  (3, 3, 0.1, 0.25),                                     -- equal: the float's decimal is the number
  (4, 0, 0, NULL),                                       -- -0 is 0
  (5, -9007199254740992, 'NaN', 'Infinity'),
  (6, 1, 5e-324, '-Infinity');
INSERT INTO pr.fs VALUES
  (1, 9007199254740992, 0.1, 0.5),
  (2, 9223372036854775806, 1, 0.1),
  (3, 3.0, 0.1, 0.25),
  (4, '-0', '-0', NULL),
  (5, -9007199254740992, 'NaN', 'Infinity'),
  (6, 1, 5e-324, '-Infinity');
-- composites with the same field names in another order
CREATE TYPE pr.ab AS (a int, b numeric);
CREATE TYPE pr.ba AS (b numeric, a int);
CREATE TABLE pr.cb (id int PRIMARY KEY, c pr.ab, arr pr.ab[]);
CREATE TABLE pr.cs (id int PRIMARY KEY, c pr.ba, arr pr.ba[]);
INSERT INTO pr.cb VALUES (1, ROW(1, 2), ARRAY[ROW(1, 2)::pr.ab]), (2, ROW(1, 2), ARRAY[ROW(1, 2)::pr.ab]), (3, ROW(1, NULL), NULL);
INSERT INTO pr.cs VALUES (1, ROW(1, 2), ARRAY[ROW(1, 2)::pr.ba]), (2, ROW(2.0, 1), ARRAY[ROW(2, 1)::pr.ba]), (3, ROW(NULL, 1), NULL);
-- arrays of composites whose fields need normalising (numeric(10,2) against numeric)
CREATE TYPE pr.q2 AS (a int, b numeric(10,2));
CREATE TYPE pr.qn AS (a int, b numeric);
CREATE TABLE pr.qb (id int PRIMARY KEY, arr pr.q2[]);
CREATE TABLE pr.qs (id int PRIMARY KEY, arr pr.qn[]);
INSERT INTO pr.qb VALUES (1, '{"(1,1.50)","(2,)"}'), (2, '{"(1,1.50)"}'), (3, '{}');
INSERT INTO pr.qs VALUES (1, '{"(1,1.5)","(2,)"}'), (2, '{"(1,1.51)"}'), (3, '{}');
-- the same duplicate keys on both sides, under unique indexes that do not prevent them
CREATE TABLE pr.nb (id int, v text); CREATE UNIQUE INDEX ON pr.nb (id);
CREATE TABLE pr.ns (id int, v text); CREATE UNIQUE INDEX ON pr.ns (id);
INSERT INTO pr.nb VALUES (1, 'a'), (NULL, 'x'), (NULL, 'x');
INSERT INTO pr.ns VALUES (1, 'a'), (NULL, 'x'), (NULL, 'x');
CREATE TABLE pr.ib (id int NOT NULL, v text);
CREATE TABLE pr.is (id int NOT NULL, v text);
INSERT INTO pr.ib VALUES (1, 'a'), (2, 'x'), (2, 'x');
INSERT INTO pr.is VALUES (1, 'a'), (2, 'x'), (2, 'x');
-- json numbers beyond numeric's range
CREATE TABLE pr.jb (id int PRIMARY KEY, doc json);
CREATE TABLE pr.js (id int PRIMARY KEY, doc json);
INSERT INTO pr.jb VALUES (1, '{"a": 1e200000}'), (2, '{"a": 1e-20000}'), (3, '{"b": 1, "a": 2}');
INSERT INTO pr.js VALUES (1, '{"a": 1e200000}'), (2, '{"a": 2e-20000}'), (3, '{"a": 2, "b": 1}');
-- wall clocks and dates at the ends of timestamptz's range, against instants
CREATE TABLE pr.wb (id int PRIMARY KEY, d date, w timestamp);
CREATE TABLE pr.ws (id int PRIMARY KEY, d timestamptz, w timestamptz);
INSERT INTO pr.wb VALUES (1, '300000-01-01', '294276-12-31 23:00'), (2, '2026-01-01', '2026-01-01 12:00'), (3, 'infinity', '-infinity');
INSERT INTO pr.ws VALUES (1, 'infinity', 'infinity'), (2, '2026-01-01 00:00+01', '2026-01-01 12:00+01'), (3, 'infinity', '-infinity');
CREATE TABLE pr.tb AS SELECT * FROM pr.fb;
CREATE TABLE pr.ts AS SELECT * FROM pr.fs;
`;

const ds = (batchDb?: string) => ({
  floats: dataset({ key: ['id'], batch: { output: 'pr.fb', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'pr.fs' }, reconcile: { buckets: 1 } }),
  composites: dataset({ key: ['id'], batch: { output: 'pr.cb', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'pr.cs' } }),
  comp_arrays: dataset({ key: ['id'], batch: { output: 'pr.qb', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'pr.qs' } }),
  null_keys: dataset({ key: ['id'], batch: { output: 'pr.nb', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'pr.ns' } }),
  invalid_index: dataset({ key: ['id'], batch: { output: 'pr.ib', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'pr.is' } }),
  json_big: dataset({ key: ['id'], batch: { output: 'pr.jb', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'pr.js' } }),
  far_instants: dataset({ key: ['id'], batch: { output: 'pr.wb', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'pr.ws' } }),
  floats_tol: dataset({ key: ['id'], batch: { output: 'pr.tb', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'pr.ts' }, reconcile: { columns: ['i8'], tolerance: { i8: 1 } } }),
});

beforeAll(async () => {
  env = await sameAndCrossDatabase('pr', SETUP, ds);
  // A failed CREATE UNIQUE INDEX CONCURRENTLY leaves an invalid index over the duplicates.
  for (const d of [env.db, env.other]) {
    for (const t of ['ib', 'is']) await expect(d.pool.query(`CREATE UNIQUE INDEX CONCURRENTLY ${t}_id ON pr.${t} (id)`)).rejects.toThrow(/could not create unique index/);
  }
});
afterAll(async () => { await env?.close(); });

describe('a float against an integer or numeric', () => {
  it('an int8 or numeric a float cannot hold is a difference (both were rounded onto the float: false match)', async () => {
    for (const rt of [env.rt, env.crossRt]) {
      const [r] = await reconcileDataset(rt, 'floats', { assumeSettled: true, samples: 100, store: false });
      expect(r.error).toBeUndefined();
      expect(r.verdict).toBe('mismatch');
      expect(found(r)).toEqual(['changed {"id":1} i8,n', 'changed {"id":2} f4n,i8,n']);
      const s1 = r.diff!.samples.find((s) => s.key.id === 1n || s.key.id === 1)!;
      expect(s1.columns!.i8).toEqual({ batch: '9007199254740993', stream: '9007199254740992' });
      // numeric beyond float8 used to fail the whole window (the cast to float8 overflowed)
      const s2 = r.diff!.samples.find((s) => s.key.id === 2n || s.key.id === 2)!;
      expect(s2.columns!.n.stream).toBe('1');
      expect(s2.columns!.f4n.batch).toBe('0.10000000149011612');
    }
  });

  it('a tolerance still takes the float side as the exact double it holds and the integer side exactly', async () => {
    // |9007199254740993 - 9007199254740992| = 1 and |2^63-1 - 9223372036854775808| = 1: within 1; no other column compared
    const [r] = await reconcileDataset(env.rt, 'floats_tol', { assumeSettled: true, samples: 100, store: false });
    expect(r.error).toBeUndefined();
    expect(found(r)).toEqual([]);
    expect(r.verdict).toBe('match');
  });

  it('property: a float equals a number exactly when the number is the decimal Postgres prints for the float', async () => {
    const client = new pg.Client({ connectionString: env.db.url });
    await client.connect();
    try {
      await client.query('SET extra_float_digits = 1');
      const t = (name: string): TypeDesc => ({ kind: 'base', name, category: '', typmod: -1 });
      const c = planCodec(t('float8'), t('numeric'));
      if ('reason' in c) throw new Error(c.reason);
      const doubles = fc.oneof(fc.double({ noNaN: true }), fc.constantFrom(Infinity, -Infinity, -0), fc.integer({ min: -(2 ** 31), max: 2 ** 31 }).map((i) => i * 2 ** 22), fc.constantFrom(0.1, 0.3, 2 ** 53, -(2 ** 53), 5e-324, 1.7976931348623157e308));
      // The number: the float's own shortest text, the next integer up, or that text with one more digit.
      const cases = fc.array(fc.tuple(doubles, fc.constantFrom('same', 'next', 'digit')), { minLength: 50, maxLength: 50 });
      await fc.assert(fc.asyncProperty(cases, async (rows) => {
        const lits = rows.map(([d, mode]) => {
          const how = Number.isFinite(d) ? mode : 'same';
          const s = String(d);
          const n = how === 'same' ? s : how === 'next' ? `${s}+1` : s.includes('e') ? s.replace('e', '1e') : `${s}${s.includes('.') ? '' : '.'}01`;
          return { d, n: how === 'next' ? `(${s}::numeric + 1)` : `'${n}'::numeric`, equal: how === 'same' };
        });
        const sql = `SELECT ${encodeSql(c, t('float8'), 'f')} AS f, ${encodeSql(c, t('numeric'), 'n')} AS n, n::text AS raw FROM (VALUES ${lits.map((l) => `('${l.d}'::float8, ${l.n})`).join(', ')}) v(f, n)`;
        const res = await client.query<{ f: string; n: string; raw: string }>(sql);
        res.rows.forEach((r, i) => {
          const l = lits[i];
          // Sound: equal texts only when the number is the float's shortest decimal (as JS prints it too); complete for that case.
          const sameValue = (() => {
            const a = parseDecimal(String(l.d));
            const b = parseDecimal(r.raw); // the number's own value, not its canonical text
            if (!a || !b) return String(l.d) === r.raw; // ±Infinity
            return a.n * 10n ** BigInt(Math.max(0, b.scale - a.scale)) === b.n * 10n ** BigInt(Math.max(0, a.scale - b.scale));
          })();
          expect(r.f === r.n, `${l.d} vs ${l.n}: ${r.f} / ${r.n}`).toBe(sameValue);
          if (l.equal) expect(r.f).toBe(r.n);
        });
      }), { numRuns: 20, seed: 1 });
    } finally {
      await client.end();
    }
  });
});

describe('composites of the same field names in another order', () => {
  it('pair fields by name: (a=1, b=2) against (b=1, a=2) is a difference (by position both printed (1,2): false match)', async () => {
    for (const rt of [env.rt, env.crossRt]) {
      const [r] = await reconcileDataset(rt, 'composites', { assumeSettled: true, samples: 100, store: false });
      expect(r.error).toBeUndefined();
      expect(r.schemaDrift).toEqual([]);
      // row 2 holds the same fields (b 2.0 is b 2); row 3 the same fields in the other order
      expect(found(r)).toEqual(['changed {"id":1} arr,c']);
      // both sides are shown in the batch side's field order
      expect(r.diff!.samples[0].columns!.c).toEqual({ batch: '(1,2)', stream: '(2,1)' });
    }
  });

  it('an array of composites compared element by element no longer fails the window (unnest in FROM expanded each element into its fields)', async () => {
    for (const rt of [env.rt, env.crossRt]) {
      const [r] = await reconcileDataset(rt, 'comp_arrays', { assumeSettled: true, samples: 100, store: false });
      expect(r.error).toBeUndefined();
      expect(found(r)).toEqual(['changed {"id":2} arr']);
      expect(r.diff!.samples[0].columns!.arr).toEqual({ batch: '[1:1]{"(1,1.5)"}', stream: '[1:1]{"(1,1.51)"}' });
    }
  });
});

describe('duplicate keys identical on both sides', () => {
  it('are found under a unique index on a nullable key (many NULL keys) or an invalid one (left by a failed CONCURRENTLY build): the duplicate scan was skipped, verdict match', async () => {
    for (const rt of [env.rt, env.crossRt]) {
      const [n] = await reconcileDataset(rt, 'null_keys', { assumeSettled: true, samples: 100, store: false });
      expect(n.error).toBeUndefined();
      expect(n.verdict).toBe('mismatch');
      expect(found(n)).toEqual(['duplicate_key {"id":null}']);
      const [i] = await reconcileDataset(rt, 'invalid_index', { assumeSettled: true, samples: 100, store: false });
      expect(i.error).toBeUndefined();
      expect(i.verdict).toBe('mismatch');
      expect(found(i)).toEqual(['duplicate_key {"id":2}']);
    }
  });
});

describe('json that jsonb cannot hold', () => {
  it('a json number beyond numeric\'s range (1e200000, 1e-20000) no longer fails the window ("value overflows numeric format"); it is compared by its text', async () => {
    for (const rt of [env.rt, env.crossRt]) {
      const [r] = await reconcileDataset(rt, 'json_big', { assumeSettled: true, samples: 100, store: false });
      expect(r.error).toBeUndefined();
      expect(found(r)).toEqual(['changed {"id":2} doc']);
      expect(r.diff!.samples[0].columns!.doc).toEqual({ batch: '~{"a": 1e-20000}', stream: '~{"a": 2e-20000}' });
    }
  });
});

describe('dates and wall clocks against instants', () => {
  it('a date beyond 294276 or a wall clock at the end of the range no longer fails the window ("date out of range for timestamp"); it equals no instant', async () => {
    for (const rt of [env.rt, env.crossRt]) {
      const [r] = await reconcileDataset(rt, 'far_instants', { assumeSettled: true, samples: 100, store: false });
      expect(r.error).toBeUndefined();
      // row 2: 00:00+01 and 12:00+01 are 23:00 and 11:00 UTC, not the UTC wall clocks midnight and noon
      expect(found(r)).toEqual(['changed {"id":1} d,w', 'changed {"id":2} d,w']);
      expect(r.diff!.samples[0].columns!.d).toEqual({ batch: '~300000-01-01', stream: 'infinity' });
    }
  });
});
