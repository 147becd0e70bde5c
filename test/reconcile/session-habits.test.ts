/**
 * The reconciler against settings nobody on the team chose: the database's (or the role's)
 * search_path, standard_conforming_strings, row-level security. Each case is set with
 * ALTER DATABASE / ALTER ROLE, as a DBA would, so the reconciler's connections inherit it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
const dbs: TestDatabase[] = [];
const roles: string[] = [];

/** `settings`: each value as SQL (a list such as `app, pg_catalog` unquoted). */
async function databaseWith(setup: string, settings: Record<string, string>): Promise<TestDatabase> {
  const d = await freshDatabase('hab');
  dbs.push(d);
  await d.pool.query(setup);
  // Only new connections inherit database settings: the runtime opens its own.
  for (const [k, v] of Object.entries(settings)) await d.pool.query(`ALTER DATABASE "${d.name}" SET ${k} = ${v}`);
  return d;
}

beforeAll(async () => { db = await freshDatabase('habx'); dbs.push(db); });
afterAll(async () => {
  for (const d of dbs) await d.drop().catch(() => undefined);
  for (const r of roles) await db?.pool.query(`DROP ROLE IF EXISTS "${r}"`).catch(() => undefined);
});

const one = async (url: string, ds: Record<string, unknown>) => {
  const rt = runtimeFor({ url } as TestDatabase, { x: ds });
  try {
    const [r] = await reconcileDataset(rt, 'x', { assumeSettled: true, samples: 50 });
    return r;
  } finally {
    await rt.close();
  }
};

describe('reconcile under the settings a database or role imposes', () => {
  it('a search_path listing a schema before pg_catalog no longer replaces the hash and trim_scale functions (false match)', async () => {
    // Look-alikes with the exact signatures the reconciler calls: ahead of pg_catalog on the
    // path, Postgres picks them; every row then hashed alike and 1.50 vs 1.51 was a match.
    const d = await databaseWith(`
      CREATE SCHEMA app; CREATE SCHEMA s;
      CREATE FUNCTION app.hashtextextended(text, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT 1::bigint';
      CREATE FUNCTION app.hash_numeric_extended(numeric, bigint) RETURNS bigint LANGUAGE sql IMMUTABLE AS 'SELECT 1::bigint';
      CREATE FUNCTION app.trim_scale(numeric) RETURNS numeric LANGUAGE sql IMMUTABLE AS 'SELECT 0::numeric';
      CREATE FUNCTION app.always(text, text) RETURNS bool LANGUAGE sql IMMUTABLE AS 'SELECT true';
      CREATE OPERATOR app.= (LEFTARG = text, RIGHTARG = text, FUNCTION = app.always);
      CREATE TABLE s.b (id int PRIMARY KEY, n numeric(10,2), t text);
      CREATE TABLE s.s (id int PRIMARY KEY, n numeric, t text);
      INSERT INTO s.b VALUES (1, 1.50, 'abcdef'), (2, 2, 'x');
      INSERT INTO s.s VALUES (1, 1.51, 'abcdeg'), (2, 2, 'x');`, { search_path: 'app, pg_catalog, public' });
    const r = await one(d.url, dataset({ key: ['id'], batch: { output: 's.b' }, stream: { output: 's.s' } }));
    expect(r.error).toBeUndefined();
    expect(r.verdict).toBe('mismatch');
    expect(found(r)).toEqual(['changed {"id":1} n,t']);
  });

  it('a reconcile.expressions entry is typed by the function it is read with (typed by a look-alike ahead of pg_catalog, it was schema drift)', async () => {
    // app.trim_scale returns text; the reconciler reads the expression with pg_catalog first, so it
    // must plan it that way too: numeric against numeric, compared by value.
    const d = await databaseWith(`
      CREATE SCHEMA app; CREATE SCHEMA s;
      CREATE FUNCTION app.trim_scale(numeric) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT ''X''';
      CREATE TABLE s.b (id int PRIMARY KEY, cents int);
      CREATE TABLE s.s (id int PRIMARY KEY, amount numeric);
      INSERT INTO s.b VALUES (1, 150), (2, 200); INSERT INTO s.s VALUES (1, 1.5), (2, 2.01);`, { search_path: 'app, pg_catalog, public' });
    const r = await one(d.url, dataset({ key: ['id'], batch: { output: 's.b' }, stream: { output: 's.s' },
      reconcile: { ignore: ['cents'], expressions: { amount: { batch: 'trim_scale(cents / 100.0)' } } } as never }));
    expect(r.error).toBeUndefined();
    expect(r.schemaDrift).toEqual([]);
    expect(found(r)).toEqual(['changed {"id":2} amount']);
  });

  it('standard_conforming_strings = off on the database no longer fails a json window ("invalid Unicode escape")', async () => {
    const d = await databaseWith(`
      CREATE SCHEMA s;
      CREATE TABLE s.b (id int PRIMARY KEY, j json, t text);
      CREATE TABLE s.s (id int PRIMARY KEY, j jsonb, t text);
      INSERT INTO s.b VALUES (1, '{"a":"\\u00e9"}', 'a\\b'), (2, '{"a":"\\u0000"}', 'x'), (3, '{"b":1}', 'y');
      INSERT INTO s.s VALUES (1, '{"a":"é"}', 'a\\b'), (2, '{"a":"x"}', 'x'), (3, '{"b":1}', 'y\\');`, { standard_conforming_strings: 'off' });
    const r = await one(d.url, dataset({ key: ['id'], batch: { output: 's.b' }, stream: { output: 's.s' } }));
    expect(r.error).toBeUndefined();
    expect(found(r)).toEqual(['changed {"id":2} j', 'changed {"id":3} t']);
  });

  it("a role's idle_in_transaction_session_timeout no longer cuts one side's session while the other side scans (\"not queryable\")", async () => {
    // The stream side takes 0.4 s (one pg_sleep in its view); the batch session waits idle in its transaction meanwhile.
    const d = await databaseWith(`
      CREATE SCHEMA s;
      CREATE TABLE s.b (id int PRIMARY KEY, v text);
      CREATE TABLE s.t (id int PRIMARY KEY, v text);
      INSERT INTO s.b SELECT g, 'v' || g FROM generate_series(1, 20) g;
      INSERT INTO s.t SELECT * FROM s.b;
      UPDATE s.t SET v = 'X' WHERE id = 7;
      CREATE VIEW s.s AS SELECT t.* FROM s.t, (SELECT pg_sleep(0.4)) AS slow;`, { idle_in_transaction_session_timeout: `'100ms'` });
    const r = await one(d.url, dataset({ key: ['id'], batch: { output: 's.b' }, stream: { output: 's.s' } }));
    expect(r.error).toBeUndefined();
    expect(found(r)).toEqual(['changed {"id":7} v']);
  });

  it("a role's statement_timeout cutting a scan names the side and table it stopped (the server's message alone did not)", async () => {
    const d = await databaseWith(`
      CREATE SCHEMA s;
      CREATE TABLE s.b (id int PRIMARY KEY, v text);
      CREATE TABLE s.t (id int PRIMARY KEY, v text);
      INSERT INTO s.b VALUES (1, 'a'); INSERT INTO s.t VALUES (1, 'a');
      CREATE VIEW s.s AS SELECT t.* FROM s.t, (SELECT pg_sleep(0.5)) AS slow;`, { statement_timeout: `'200ms'` });
    const r = await one(d.url, dataset({ key: ['id'], batch: { output: 's.b' }, stream: { output: 's.s' } }));
    expect(r.verdict).toBe('error');
    expect(r.error).toMatchObject({ message: 'stream.output s.s: canceling statement due to statement timeout', db: { code: '57014' } });
  });

  it('row-level security showing the role only some rows is an error naming the table, not a verdict on that part (false match)', async () => {
    const role = `rls_${db.name}`;
    roles.push(role);
    const d = await databaseWith(`
      CREATE ROLE "${role}" LOGIN PASSWORD 'rls-test-pw';
      CREATE SCHEMA s; GRANT USAGE, CREATE ON SCHEMA s TO "${role}";
      CREATE TABLE s.b (id int PRIMARY KEY, region text);
      CREATE TABLE s.s (LIKE s.b INCLUDING ALL);
      INSERT INTO s.b VALUES (1, 'eu'), (2, 'us');
      INSERT INTO s.s VALUES (1, 'eu'), (2, 'XX');
      ALTER TABLE s.b ENABLE ROW LEVEL SECURITY; ALTER TABLE s.s ENABLE ROW LEVEL SECURITY;
      CREATE POLICY eu_only ON s.b FOR SELECT USING (region = 'eu');
      CREATE POLICY eu_only ON s.s FOR SELECT USING (region = 'eu');
      GRANT SELECT ON s.b, s.s TO "${role}";`, {});
    await db.pool.query(`GRANT CREATE ON DATABASE "${d.name}" TO "${role}"`);
    const u = new URL(d.url);
    u.username = role;
    u.password = 'rls-test-pw';
    const r = await one(u.toString(), dataset({ key: ['id'], batch: { output: 's.b' }, stream: { output: 's.s' } }));
    // The role sees row 1 on both sides, equal: without the check this was a `match`.
    expect(r.verdict).toBe('error');
    expect(r.error?.message).toMatch(/row-level security policy for table "[bs]"/);
    // The owner (not subject to its table's policies) still gets the verdict on every row.
    const owner = await one(d.url, dataset({ key: ['id'], batch: { output: 's.b' }, stream: { output: 's.s' } }));
    expect(found(owner)).toEqual(['changed {"id":2} region']);
  });
});
