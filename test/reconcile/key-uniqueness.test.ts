/**
 * Which unique index proves "one row per key" for a side (reconcile/table-columns.ts
 * keyUnique). When both sides are proven unique, the reconciler skips its scan for
 * duplicate keys that are identical on both sides, and may merge-join the sides by key.
 *  - An inheritance parent's primary key holds for the parent's own rows only, while
 *    `FROM parent` reads its children too: key 5 in the parent and in a child on both
 *    sides was a `match`, though readers see two rows (a false match).
 *  - An adopted stream output whose key is renamed by reconcile.map was checked for a
 *    unique index on the batch's key name: a unique column of that name (not the key)
 *    passed for the key, so a duplicated key went unreported (a mismatch with nothing shown).
 * A partitioned table's primary key does hold across its partitions, and still counts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { readTableShape } from '../../reconcile/table-columns.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase('ku');
  await db.pool.query(`
    CREATE SCHEMA ku;
    CREATE TABLE ku.b (id int PRIMARY KEY, v text); CREATE TABLE ku.b_2026 (PRIMARY KEY (id)) INHERITS (ku.b);
    CREATE TABLE ku.s (id int PRIMARY KEY, v text); CREATE TABLE ku.s_2026 (PRIMARY KEY (id)) INHERITS (ku.s);
    INSERT INTO ku.b SELECT g, 'x' FROM generate_series(1, 10) g; INSERT INTO ku.b_2026 VALUES (5, 'x');
    INSERT INTO ku.s SELECT g, 'x' FROM generate_series(1, 10) g; INSERT INTO ku.s_2026 VALUES (5, 'x');
    CREATE TABLE ku.pb (id int PRIMARY KEY, v text);
    CREATE TABLE ku.ps (order_id int NOT NULL, id int NOT NULL UNIQUE, v text); CREATE INDEX ON ku.ps (order_id);
    INSERT INTO ku.pb SELECT g, 'x' FROM generate_series(1, 10) g;
    INSERT INTO ku.ps SELECT g, g, 'x' FROM generate_series(1, 10) g; INSERT INTO ku.ps VALUES (3, 100, 'x');
    CREATE TABLE ku.part (id int, day date, v text, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
    CREATE TABLE ku.part_2026 PARTITION OF ku.part FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');`);
});
afterAll(async () => { await db?.drop(); });

describe('a unique index counts only where it holds one row per key of what the scan reads', () => {
  it('the same duplicated key on both sides, in an inheritance parent and its child (each with a primary key), is a duplicate_key (was a false match)', async () => {
    const rt = runtimeFor(db, { inh: dataset({ key: ['id'], batch: { output: 'ku.b' }, stream: { output: 'ku.s' } }) });
    try {
      const [r] = await reconcileDataset(rt, 'inh', { assumeSettled: true, samples: 100, store: false });
      expect(r.verdict).toBe('mismatch');
      expect(found(r)).toEqual(['duplicate_key {"id":5}']);
      expect(r.diff?.samples[0].count).toEqual({ batch: 2, stream: 2 });
    } finally { await rt.close(); }
  });

  it('a key renamed by reconcile.map is checked for uniqueness under its stream name: a unique column named like the batch key does not count', async () => {
    const rt = runtimeFor(db, { mapped: { key: ['id'], batch: { output: 'ku.pb' }, stream: { output: 'ku.ps' }, reconcile: { buckets: 1, map: { id: 'order_id' } } } });
    try {
      const [r] = await reconcileDataset(rt, 'mapped', { assumeSettled: true, samples: 100, store: false });
      expect(r.verdict).toBe('mismatch');
      expect(found(r)).toEqual(['duplicate_key {"id":3}']);
    } finally { await rt.close(); }
  });

  it('a partitioned table\'s primary key still proves one row per key; an inheritance parent\'s does not', async () => {
    const shape = (t: string, key: string[]) => readTableShape(db.pool, parseTableRef(t)!, key);
    expect((await shape('ku.part', ['id', 'day'])).keyUnique).toBe(true);
    expect((await shape('ku.b', ['id'])).keyUnique).toBe(false);
    expect((await shape('ku.b_2026', ['id'])).keyUnique).toBe(true);
    expect((await shape('ku.ps', ['order_id'])).keyUnique).toBe(false);
  });
});
