/**
 * The native row hash and range buckets (#12) must never make a real difference
 * look equal. Each case here is a difference some cheaper hash would miss:
 * Postgres's own int8/timestamp hashes fold 64 bits into 32, its record hash is
 * linear (values swapped between rows), its text hash follows a column's
 * non-deterministic collation, its interval and jsonb hashes equate values the
 * equality rules keep apart. Same-database and cross-database strategies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, sameAndCrossDatabase, type TwoDatabases } from './support.ts';

let env: TwoDatabases;
let db: TestDatabase;
let rt: Runtime;
let crossRt: Runtime;

/** µs since 2000-01-01 as an ISO instant with all six fraction digits. */
function instant(us: bigint): string {
  const ms = Number(us / 1000n) + Date.UTC(2000, 0, 1);
  return `${new Date(ms).toISOString().slice(0, 19)}.${(us % 1_000_000n).toString().padStart(6, '0')}Z`;
}

/** An instant whose 64-bit value folds to the same 32 bits as `us` (hashint8's lo ^ hi), 71.6 minutes later. */
function foldTwin(us: bigint): bigint {
  const hi = us >> 32n;
  const lo = us & 0xffffffffn;
  return ((hi + 1n) << 32n) | (lo ^ hi ^ (hi + 1n));
}

const AT = BigInt(Date.UTC(2026, 10, 20) - Date.UTC(2000, 0, 1)) * 1000n;

const SETUP = `
CREATE SCHEMA h;
CREATE COLLATION h.ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
CREATE TABLE h.b (id int8 PRIMARY KEY, big int8, at timestamptz, v text, iv interval, doc jsonb, name text COLLATE h.ci, wall timestamp);
CREATE TABLE h.s (LIKE h.b INCLUDING ALL);
INSERT INTO h.b (id, big, at, v, iv, doc, name, wall) VALUES
  (1, 1, '${instant(AT)}', 'same', '1 day', '{"a": 1}', 'x', '2026-11-20 00:00:00'),
  (2, 7, '${instant(AT)}', 'same', '1 day', '{"a": 1}', 'x', '${instant(AT).slice(0, -1).replace('T', ' ')}'),
  (3, 7, '${instant(AT)}', 'x', '1 day', '{"a": 1}', 'x', '2026-11-20 00:00:00'),
  (4, 7, '${instant(AT)}', 'y', '1 day', '{"a": 1}', 'x', '2026-11-20 00:00:00'),
  (5, 7, '${instant(AT)}', 'same', '1 day', '{"a": 1.0}', 'a', '2026-11-20 00:00:00'),
  (6, 7, '${instant(AT)}', 'same', '1 day', '{"a": 1}', 'x', '2026-11-20 00:00:00');
INSERT INTO h.s SELECT * FROM h.b;
-- 1: 1 and 2^32 fold alike in hashint8; 2: two instants 71.6 minutes apart fold alike (and so would two wall clocks)
UPDATE h.s SET big = 4294967296 WHERE id = 1;
UPDATE h.s SET at = '${instant(foldTwin(AT))}', wall = '${instant(foldTwin(AT)).slice(0, -1).replace('T', ' ')}' WHERE id = 2;
-- 3, 4: values swapped between two rows (a linear record hash sums to the same)
UPDATE h.s SET v = CASE id WHEN 3 THEN 'y' ELSE 'x' END WHERE id IN (3, 4);
-- 5: jsonb 1.0 vs 1.00 (its hash equates them; its text does not), and 'a' vs 'A' under a case-blind collation
UPDATE h.s SET doc = '{"a": 1.00}', name = 'A' WHERE id = 5;
-- 6: interval 1 day vs 24 hours (equal to interval's = and hash, compared as written)
UPDATE h.s SET iv = '24 hours' WHERE id = 6;

-- range buckets: sparse and negative keys, a table without any index on its key, spans too wide for ranges
CREATE TABLE h.sparse_b (id int8 PRIMARY KEY, v text);
INSERT INTO h.sparse_b SELECT g * 1000003 - 5000000, 'v' || g FROM generate_series(1::int8, 3000) g;
INSERT INTO h.sparse_b VALUES (1099511627776, 'far');
CREATE TABLE h.sparse_s (LIKE h.sparse_b INCLUDING ALL);
INSERT INTO h.sparse_s SELECT * FROM h.sparse_b;
UPDATE h.sparse_s SET v = 'changed' WHERE id IN (5000030, 2994008997, 1099511627776);
DELETE FROM h.sparse_s WHERE id = 1495004500;
INSERT INTO h.sparse_s VALUES (-9, 'extra');
CREATE TABLE h.noidx_b (id int4 NOT NULL, v text);
INSERT INTO h.noidx_b SELECT g, 'v' FROM generate_series(1, 2000) g;
CREATE TABLE h.noidx_s (id int4 NOT NULL, v text);
INSERT INTO h.noidx_s SELECT g, CASE WHEN g IN (17, 1999) THEN 'w' ELSE 'v' END FROM generate_series(1, 2000) g;
INSERT INTO h.noidx_s VALUES (17, 'w');
CREATE TABLE h.wide_b (id int8 PRIMARY KEY, v text);
INSERT INTO h.wide_b VALUES (-9223372036854775808, 'min'), (0, 'zero'), (9223372036854775807, 'max');
CREATE TABLE h.wide_s (LIKE h.wide_b INCLUDING ALL);
INSERT INTO h.wide_s VALUES (-9223372036854775808, 'min'), (0, 'zero'), (9223372036854775807, 'MAX');
`;

const datasets = (batchDb?: string) => ({
  fold: dataset({ key: ['id'], batch: { output: 'h.b', database: batchDb }, stream: { output: 'h.s' }, reconcile: { buckets: 1 } }),
  sparse: dataset({ key: ['id'], batch: { output: 'h.sparse_b', database: batchDb }, stream: { output: 'h.sparse_s' } }),
  noidx: dataset({ key: ['id'], batch: { output: 'h.noidx_b', database: batchDb }, stream: { output: 'h.noidx_s' } }),
  wide: dataset({ key: ['id'], batch: { output: 'h.wide_b', database: batchDb }, stream: { output: 'h.wide_s' } }),
});

beforeAll(async () => {
  env = await sameAndCrossDatabase('rh', SETUP, datasets);
  ({ db, rt, crossRt } = env);
});
afterAll(async () => { await env?.close(); });

async function both(name: string) {
  const [same] = await reconcileDataset(rt, name, { assumeSettled: true, samples: 100, store: false });
  const [cross] = await reconcileDataset(crossRt, name, { assumeSettled: true, samples: 100, store: false });
  expect(same.error).toBeUndefined();
  expect(cross.error).toBeUndefined();
  expect(cross.strategy).toBe('cross-database');
  expect(found(cross)).toEqual(found(same));
  expect(cross.verdict).toBe(same.verdict);
  return same;
}

describe('native row hash and range buckets (#12)', () => {
  it('the cases are real: Postgres hashes each pair alike', async () => {
    const r = await db.pool.query<Record<string, boolean>>(`SELECT
      hashint8extended(1, 0) = hashint8extended(4294967296, 0) AS int8,
      hash_record_extended(ROW('${instant(AT)}'::timestamptz), 0) = hash_record_extended(ROW('${instant(foldTwin(AT))}'::timestamptz), 0) AS instant,
      (hash_record_extended(ROW(3, 'x'::text), 0)::numeric + hash_record_extended(ROW(4, 'y'::text), 0)
        - hash_record_extended(ROW(3, 'y'::text), 0) - hash_record_extended(ROW(4, 'x'::text), 0)) % 18446744073709551616 = 0 AS linear,
      jsonb_hash_extended('{"a": 1.0}', 0) = jsonb_hash_extended('{"a": 1.00}', 0) AS jsonb,
      interval_hash_extended('1 day', 0) = interval_hash_extended('24 hours', 0) AS interval,
      hashtextextended('a' COLLATE h.ci, 0) = hashtextextended('A' COLLATE h.ci, 0) AS collation`);
    expect(r.rows[0]).toEqual({ int8: true, instant: true, linear: true, jsonb: true, interval: true, collation: true });
  });

  it('a bigint changed from 1 to 2^32, instants and wall clocks 71.6 minutes apart, values swapped between rows, jsonb scale, case under a case-blind collation and 1 day vs 24 hours are all differences', async () => {
    const r = await both('fold');
    expect(r.verdict).toBe('mismatch');
    expect(found(r)).toEqual([
      'changed {"id":1} big',
      'changed {"id":2} at,wall',
      'changed {"id":3} v',
      'changed {"id":4} v',
      'changed {"id":5} doc,name',
      'changed {"id":6} iv',
    ]);
    expect(r.batch!.checksum).not.toBe(r.stream!.checksum);
  });

  it('range buckets over sparse, negative and far keys locate exactly the seeded differences', async () => {
    const r = await both('sparse');
    expect(r.buckets?.mode).toBe('range');
    expect(found(r)).toEqual([
      'changed {"id":1099511627776} v',
      'changed {"id":2994008997} v',
      'changed {"id":5000030} v',
      'missing_in_batch {"id":-9}',
      'missing_in_stream {"id":1495004500}',
    ]);
  });

  it('a key with no index still gets range buckets, read by the bucket test; duplicates there are still found', async () => {
    const r = await both('noidx');
    expect(r.buckets?.mode).toBe('range');
    expect(found(r)).toEqual(['changed {"id":1999} v', 'duplicate_key {"id":17}']);
  });

  it('keys spanning the whole bigint range fall back to modulo buckets and still find the difference', async () => {
    const r = await both('wide');
    expect(r.buckets?.mode).toBe('integer');
    expect(found(r)).toEqual(['changed {"id":9223372036854775807} v']);
  });
});
