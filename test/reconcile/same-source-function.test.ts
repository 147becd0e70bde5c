/**
 * A view whose rows come from a set-returning function (`SELECT * FROM f()`, f reading the
 * batch output) compared the batch output with itself: a match by construction. Postgres
 * records no dependency from a view to the tables its functions read, so the same-source check
 * (reconcile/same-source.ts) saw a view reading no table at all. It now follows a function whose
 * body Postgres has parsed (SQL `BEGIN ATOMIC`) to its tables, and refuses an output whose rows
 * come only through set-returning functions it cannot follow (PL/pgSQL, a string body), naming them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { freshDatabase, judgeOutputs } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await freshDatabase('ssf');
  await db.pool.query(`
    CREATE SCHEMA ssf;
    CREATE TABLE ssf.b (id int PRIMARY KEY, v int);
    INSERT INTO ssf.b SELECT g, g FROM generate_series(1, 5) g;
    CREATE TABLE ssf.own (id int PRIMARY KEY, v int);
    INSERT INTO ssf.own SELECT * FROM ssf.b;
    CREATE FUNCTION ssf.atomic_b() RETURNS TABLE (id int, v int) LANGUAGE sql STABLE BEGIN ATOMIC SELECT b.id, b.v FROM ssf.b b; END;
    CREATE FUNCTION ssf.atomic_nested() RETURNS TABLE (id int, v int) LANGUAGE sql STABLE BEGIN ATOMIC SELECT a.id, a.v FROM ssf.atomic_b() a; END;
    CREATE FUNCTION ssf.atomic_own() RETURNS TABLE (id int, v int) LANGUAGE sql STABLE BEGIN ATOMIC SELECT o.id, o.v FROM ssf.own o; END;
    CREATE FUNCTION ssf.string_b() RETURNS TABLE (id int, v int) LANGUAGE sql STABLE AS 'SELECT b.id, b.v FROM ssf.b b';
    CREATE FUNCTION ssf.plpgsql_b() RETURNS TABLE (id int, v int) LANGUAGE plpgsql STABLE AS 'BEGIN RETURN QUERY SELECT b.id, b.v FROM ssf.b b; END';
    CREATE FUNCTION ssf.same(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN $1; END';
    CREATE VIEW ssf.s_atomic AS SELECT * FROM ssf.atomic_b();
    CREATE VIEW ssf.s_nested AS SELECT * FROM ssf.atomic_nested();
    CREATE VIEW ssf.s_atomic_own AS SELECT * FROM ssf.atomic_own();
    CREATE VIEW ssf.s_string AS SELECT * FROM ssf.string_b();
    CREATE VIEW ssf.s_plpgsql AS SELECT * FROM ssf.plpgsql_b();
    CREATE VIEW ssf.s_scalar AS SELECT id, ssf.same(v) AS v FROM ssf.own;
    CREATE VIEW ssf.s_series AS SELECT g AS id, g AS v FROM generate_series(1, 5) g;
    CREATE FUNCTION ssf.one(int) RETURNS SETOF int LANGUAGE plpgsql IMMUTABLE AS 'BEGIN RETURN NEXT $1; END';
    CREATE VIEW ssf.s_own_srf AS SELECT o.id, x AS v FROM ssf.own o, ssf.one(o.v) x;`);
});
afterAll(async () => { await db?.drop(); });

const judge = (batch: string, stream: string) => judgeOutputs(db, batch, stream);

describe('an output reading rows through a function', () => {
  it('a view over a BEGIN ATOMIC function reading the batch output is refused as reading it (was a match)', async () => {
    for (const view of ['ssf.s_atomic', 'ssf.s_nested']) {
      const r = await judge('ssf.b', view);
      expect(r.verdict, view).toBe('error');
      expect(r.error?.message).toContain(`the stream output ${view} is a view that reads the batch output ssf.b`);
    }
  });

  it('a view over a function Postgres cannot see into is an error naming the function (was a match)', async () => {
    for (const [view, fn] of [['ssf.s_string', 'ssf.string_b()'], ['ssf.s_plpgsql', 'ssf.plpgsql_b()']]) {
      const r = await judge('ssf.b', view);
      expect(r.verdict, view).toBe('error');
      expect(r.error?.code).toBe('DUALRUN_RECONCILE_FAILED');
      expect(r.error?.message).toContain(`the stream output ${view} reads rows through ${fn}`);
    }
    const r = await judge('ssf.s_plpgsql', 'ssf.own');
    expect(r.error?.message).toContain('the batch output ssf.s_plpgsql reads rows through ssf.plpgsql_b()');
  });

  it('a function reading a table of its own, a scalar function, a built-in row source and a set-returning function over the output\'s own table are still compared', async () => {
    expect((await judge('ssf.b', 'ssf.s_atomic_own')).verdict).toBe('match');
    expect((await judge('ssf.b', 'ssf.s_scalar')).verdict).toBe('match');
    expect((await judge('ssf.b', 'ssf.s_series')).verdict).toBe('match');
    expect((await judge('ssf.b', 'ssf.s_own_srf')).verdict).toBe('match');
  });
});
