/**
 * Two views over one table (`SELECT * FROM t` and `SELECT id, v FROM t`) compared that
 * table with itself: a match by construction, though neither path wrote a row apart from
 * the other. The same-source check (reconcile/same-source.ts) refused only an output that
 * reads the other; it now also refuses when every table one output reads, the other reads too.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { freshDatabase, judgeOutputs } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase('sst');
  await db.pool.query(`
    CREATE SCHEMA sst;
    CREATE TABLE sst.t (id int PRIMARY KEY, v text, c int);
    INSERT INTO sst.t SELECT g, 'x', g % 3 FROM generate_series(1, 5) g;
    CREATE VIEW sst.b_all AS SELECT * FROM sst.t;
    CREATE VIEW sst.s_cols AS SELECT id, v, c FROM sst.t;
    CREATE TABLE sst.dim (c int PRIMARY KEY, name text);
    INSERT INTO sst.dim VALUES (0, 'a'), (1, 'b'), (2, 'c');
    CREATE TABLE sst.ob (id int PRIMARY KEY, v text, c int);
    CREATE TABLE sst.os (LIKE sst.ob INCLUDING ALL);
    INSERT INTO sst.ob SELECT * FROM sst.t; INSERT INTO sst.os SELECT * FROM sst.t;
    CREATE VIEW sst.b_dim AS SELECT o.id, o.v, d.name FROM sst.ob o JOIN sst.dim d USING (c);
    CREATE VIEW sst.s_dim AS SELECT o.id, o.v, d.name FROM sst.os o JOIN sst.dim d USING (c);
    CREATE VIEW sst.s_dim_of_b AS SELECT o.id, o.v, d.name FROM sst.ob o JOIN sst.dim d USING (c) WHERE o.id > 0;`);
});
afterAll(async () => { await db?.drop(); });

const judge = (batch: string, stream: string) => judgeOutputs(db, batch, stream);

describe('two outputs reading the same tables are never compared', () => {
  it('two views over one table are a reconcile error naming the table, not a match', async () => {
    const r = await judge('sst.b_all', 'sst.s_cols');
    expect(r.verdict).toBe('error');
    expect(r.error?.message).toContain('the stream output sst.s_cols reads only tables the batch output sst.b_all reads too (sst.t)');
  });

  it('a view over the batch output and a dimension the batch view joins too is refused', async () => {
    const r = await judge('sst.b_dim', 'sst.s_dim_of_b');
    expect(r.verdict).toBe('error');
    expect(r.error?.message).toContain('reads only tables');
  });

  it('views over two outputs that share only a dimension table are still compared', async () => {
    expect((await judge('sst.b_dim', 'sst.s_dim')).verdict).toBe('match');
    expect((await judge('sst.ob', 'sst.os')).verdict).toBe('match');
  });
});
