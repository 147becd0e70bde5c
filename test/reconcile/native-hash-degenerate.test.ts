/**
 * The native row hash (row-hash-sql.ts) must tell apart every two values the
 * equality rules tell apart, also where Postgres's own hash functions are
 * degenerate: numeric's hash ignores the sign (5 and -5) and gives NaN,
 * Infinity and -Infinity all the seed; the record hash hashes a NULL field as 0,
 * which is also what float's hash of 0 and numeric's of NaN were with seed 0.
 * Each of those once made a real difference a `match`.
 *
 * Fixed cases first, then a property: per type a pool of awkward values (NULL,
 * zeros, signs, NaN, infinities, extremes), random pairs per row, and as ground
 * truth Postgres's own IS DISTINCT FROM (exactly the rule for a pair of same
 * types), checked against the reconciler's differing keys and columns.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, freshDatabase, runtimeFor, keyedCopiesSql, sameAndCrossDatabase, type TwoDatabases } from './support.ts';

const SETUP = `
CREATE SCHEMA nh;
CREATE DOMAIN nh.amount AS numeric;
CREATE TABLE nh.b (id int4, n numeric, d nh.amount, f8 float8, f4 float4, other int4, m numeric(12,2) DEFAULT 1);
CREATE TABLE nh.s (LIKE nh.b INCLUDING DEFAULTS);
INSERT INTO nh.b VALUES
  (1, 5, 1, 1, 1, 0), (2, -7.25, 1, 1, 1, 0), (3, 'NaN', 1, 1, 1, 0), (4, 'Infinity', 1, 1, 1, 0),
  (5, 'NaN', 1, 1, 1, 0), (6, 1, 1.5, 1, 1, 0), (7, 1, 1, 0, 1, 0), (8, 1, 1, 1, '-0', 0),
  (9, 1, 1, 'NaN', 1, 0), (10, 2, 2, 2, 2, 2);
INSERT INTO nh.b VALUES (11, 1, 1, 1, 1, 0, 5), (12, 1, 1, 1, 1, 0, 'NaN'), (13, 1, 1, 1, 1, 0, NULL), (14, 1, 1, 1, 1, 0, -0.5);
INSERT INTO nh.s VALUES
  (1, -5, 1, 1, 1, 0), (2, 7.25, 1, 1, 1, 0), (3, 'Infinity', 1, 1, 1, 0), (4, '-Infinity', 1, 1, 1, 0),
  (5, NULL, 1, 1, 1, 0), (6, 1, -1.5, 1, 1, 0), (7, 1, 1, NULL, 1, 0), (8, 1, 1, 1, NULL, 0),
  (9, 1, 1, 'Infinity', 1, 0), (10, 2, 2.00, 2, 2, 2);
INSERT INTO nh.s VALUES (11, 1, 1, 1, 1, 0, -5), (12, 1, 1, 1, 1, 0, 0), (13, 1, 1, 1, 1, 0, 0), (14, 1, 1, 1, 1, 0, 0.5);
${keyedCopiesSql('nh')}
`;

const EXPECTED = [
  // numeric(12,2) on both sides is hashed as its binary form: signs, NaN and NULL against 0 too.
  'changed {"id":11} m',
  'changed {"id":12} m',
  'changed {"id":13} m',
  'changed {"id":14} m',
  'changed {"id":1} n',
  'changed {"id":2} n',
  'changed {"id":3} n',
  'changed {"id":4} n',
  'changed {"id":5} n',
  'changed {"id":6} d',
  'changed {"id":7} f8',
  'changed {"id":8} f4',
  'changed {"id":9} f8',
];

let env: TwoDatabases;

describe('numeric signs and specials, NULL against zero and NaN, in the native row hash', () => {
  beforeAll(async () => {
    env = await sameAndCrossDatabase('nh', SETUP, (batchDb?: string) => ({
      plain: dataset({ key: ['id'], batch: { output: 'nh.b', database: batchDb }, stream: { output: 'nh.s' } }),
      keyed: dataset({ key: ['id'], batch: { output: 'nh.pk_b', database: batchDb }, stream: { output: 'nh.pk_s' }, reconcile: { buckets: 1 } }),
    }));
  });
  afterAll(async () => { await env?.close(); });

  it('the cases are real: Postgres hashes each pair alike', async () => {
    const r = await env.db.pool.query<Record<string, boolean>>(`SELECT
      hash_numeric_extended(5, 0) = hash_numeric_extended(-5, 0) AS sign,
      hash_numeric_extended('NaN', 0) = hash_numeric_extended('Infinity', 0)
        AND hash_numeric_extended('Infinity', 0) = hash_numeric_extended('-Infinity', 0) AS specials,
      hash_record_extended(ROW(NULL::float8), 0) = hash_record_extended(ROW(0::float8), 0) AS float_zero_null,
      hash_record_extended(ROW(NULL::numeric), 0) = hash_record_extended(ROW('NaN'::numeric), 0) AS numeric_nan_null`);
    expect(r.rows[0]).toEqual({ sign: true, specials: true, float_zero_null: true, numeric_nan_null: true });
  });

  for (const name of ['plain', 'keyed']) {
    it(`${name}: 5 vs -5, NaN vs Infinity vs -Infinity vs NULL, a domain's sign, float 0 / -0 / NaN vs NULL and Infinity are all differences (same and cross database)`, async () => {
      const [same] = await reconcileDataset(env.rt, name, { assumeSettled: true, samples: 100, store: false });
      const [cross] = await reconcileDataset(env.crossRt, name, { assumeSettled: true, samples: 100, store: false });
      for (const r of [same, cross]) {
        expect(r.error).toBeUndefined();
        expect(r.verdict).toBe('mismatch');
        expect(found(r)).toEqual(EXPECTED);
      }
      expect(cross.strategy).toBe('cross-database');
    });
  }
});

/** Awkward values per type, as SQL literals; the table's columns are named after the types. */
const POOLS: Record<string, string[]> = {
  numeric: ['NULL', '0', '0.00', '5', '-5', '1.50', '1.5', '-1.5', "'NaN'", "'Infinity'", "'-Infinity'", '0.0000001', '-0.0000001', '1e100', '-1e100', '10000', '1'],
  // One scale on both sides: hashed as its binary form (numeric_send).
  'numeric(12,2)': ['NULL', '0', '0.00', '5', '-5', '1.5', '-1.50', "'NaN'", '0.01', '-0.01', '9999999999.99', '-9999999999.99'],
  float8: ['NULL', '0', "'-0'", '1', '-1', "'NaN'", "'Infinity'", "'-Infinity'", "'5e-324'", "'-5e-324'", '0.1', "'0.30000000000000004'", "'1.7976931348623157e308'"],
  float4: ['NULL', '0', "'-0'", '1', '-1', "'NaN'", "'Infinity'", "'-Infinity'", "'1.4e-45'", "'-1.4e-45'", "'3.4028235e38'"],
  int2: ['NULL', '0', '1', '-1', '32767', '-32768'],
  int4: ['NULL', '0', '1', '-1', '2147483647', '-2147483648', '65536'],
  int8: ['NULL', '0', '1', '-1', '4294967296', '-4294967296', '9223372036854775807', '-9223372036854775808'],
  date: ['NULL', "'infinity'", "'-infinity'", "'2000-01-01'", "'1999-12-31'", "'4713-01-01 BC'"],
  bool: ['NULL', 'true', 'false'],
  text: ['NULL', "''", "' '", "'a'", "'a '", "'A'", "'0'"],
  bytea: ['NULL', "''", "'\\x00'", "'\\x0000'", "'\\x01'"],
  uuid: ['NULL', "'00000000-0000-0000-0000-000000000000'", "'00000000-0000-0000-0000-000000000001'", "'ffffffff-ffff-ffff-ffff-ffffffffffff'"],
  timestamptz: ['NULL', "'infinity'", "'-infinity'", "'2000-01-01 00:00Z'", "'2000-01-01 00:00:00.000001Z'", "'1999-12-31 23:59:59.999999Z'"],
};
const TYPES = Object.keys(POOLS);

describe('native row hash: awkward values of every natively hashed type (property)', () => {
  let db: TestDatabase;
  let rt: Runtime;
  beforeAll(async () => {
    db = await freshDatabase('nhp');
    rt = runtimeFor(db, { p: dataset({ key: ['id'], batch: { output: 'p.b' }, stream: { output: 'p.s' } }) });
  });
  afterAll(async () => { await rt?.close(); await db?.drop(); });

  const rowArb = fc.tuple(...TYPES.map((t) => fc.tuple(fc.nat(POOLS[t].length - 1), fc.nat(POOLS[t].length - 1), fc.boolean())));
  const caseArb = fc.record({ rows: fc.array(rowArb, { minLength: 1, maxLength: 12 }), pk: fc.boolean(), buckets: fc.constantFrom(undefined, 1, 3) });

  it('the differing keys and columns are exactly those Postgres calls distinct', async () => {
    await fc.assert(fc.asyncProperty(caseArb, async (c) => {
      const cols = TYPES.map((t) => `"${t}" ${t}`).join(', ');
      const lit = (row: [number, number, boolean][], side: 0 | 1) => row.map(([a, b, same], i) => POOLS[TYPES[i]][side === 0 || same ? a : b]);
      const values = (side: 0 | 1) => c.rows.map((row, id) => `(${id}, ${lit(row, side).join(', ')})`).join(', ');
      await db.pool.query(`DROP SCHEMA IF EXISTS p CASCADE; CREATE SCHEMA p;
        CREATE TABLE p.b (id int${c.pk ? ' PRIMARY KEY' : ''}, ${cols}); CREATE TABLE p.s (id int${c.pk ? ' PRIMARY KEY' : ''}, ${cols});
        INSERT INTO p.b VALUES ${values(0)}; INSERT INTO p.s VALUES ${values(1)};`);
      const truth = await db.pool.query<{ id: number; cols: string[] }>(`SELECT b.id, array_remove(ARRAY[${TYPES.map((t) => `CASE WHEN b."${t}" IS DISTINCT FROM s."${t}" THEN '${t}' END`).join(', ')}], NULL) AS cols
        FROM p.b b JOIN p.s s USING (id) ORDER BY b.id`);
      const expected = truth.rows.filter((r) => r.cols.length > 0).map((r) => `changed {"id":${r.id}} ${[...r.cols].sort().join(',')}`).sort();
      const [r] = await reconcileDataset(rt, 'p', { assumeSettled: true, samples: 100, store: false, buckets: c.buckets });
      expect(r.error).toBeUndefined();
      expect(found(r)).toEqual(expected);
      expect(r.verdict).toBe(expected.length > 0 ? 'mismatch' : 'match');
    }), { numRuns: Number(process.env.PROPS_RUNS ?? 60), seed: Number(process.env.PROPS_SEED ?? 20261202) });
  }, 240_000);
});
