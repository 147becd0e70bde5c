/**
 * `FROM parent` reads an inheritance parent's children (and a partitioned table's
 * partitions). A batch output that is the parent of the stream output therefore reads
 * the stream's own rows: with nothing else in it, the comparison matched by construction,
 * though the batch path wrote nothing (a false match). The same-source check
 * (reconcile/same-source.ts) followed views only; it now follows children too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { freshDatabase, judgeOutputs } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase('ssi');
  await db.pool.query(`
    CREATE SCHEMA ssi;
    CREATE TABLE ssi.orders (id int PRIMARY KEY, v text);
    CREATE TABLE ssi.orders_stream (PRIMARY KEY (id)) INHERITS (ssi.orders);
    INSERT INTO ssi.orders_stream SELECT g, 'x' FROM generate_series(1, 5) g;
    CREATE TABLE ssi.p (id int, day date, v text) PARTITION BY RANGE (day);
    CREATE TABLE ssi.p_stream PARTITION OF ssi.p FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
    INSERT INTO ssi.p_stream SELECT g, '2026-06-01', 'x' FROM generate_series(1, 5) g;
    CREATE TABLE ssi.sibling_b (id int PRIMARY KEY, v text); CREATE TABLE ssi.sibling_s (LIKE ssi.sibling_b INCLUDING ALL);
    CREATE TABLE ssi.sib_parent (id int, v text); ALTER TABLE ssi.sibling_b INHERIT ssi.sib_parent; ALTER TABLE ssi.sibling_s INHERIT ssi.sib_parent;
    INSERT INTO ssi.sibling_b SELECT g, 'x' FROM generate_series(1, 5) g; INSERT INTO ssi.sibling_s SELECT g, 'x' FROM generate_series(1, 5) g;`);
});
afterAll(async () => { await db?.drop(); });

const judge = (batch: string, stream: string) => judgeOutputs(db, batch, stream);

describe('an output is never compared with a table it reads through inheritance', () => {
  it('a batch output whose inheritance child is the stream output is a reconcile error, not a match', async () => {
    const r = await judge('ssi.orders', 'ssi.orders_stream');
    expect(r.verdict).toBe('error');
    expect(r.error?.message).toContain('the batch output ssi.orders reads the stream output ssi.orders_stream (its inheritance child or partition)');
  });

  it('the other way round, and a partition of a partitioned batch output, too', async () => {
    expect((await judge('ssi.orders_stream', 'ssi.orders')).error?.message).toContain('the stream output ssi.orders reads the batch output ssi.orders_stream');
    expect((await judge('ssi.p', 'ssi.p_stream')).verdict).toBe('error');
  });

  it('two children of one parent are still compared', async () => {
    expect((await judge('ssi.sibling_b', 'ssi.sibling_s')).verdict).toBe('match');
  });
});
