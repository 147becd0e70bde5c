/**
 * Outputs that are not plain tables with a primary key, as users' warehouses have them:
 * partitioned tables, inheritance parents, views, materialized views, tables without a key,
 * and columns the reconciling role may not read.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import pg from 'pg';
import { serverUrl, type TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let rt: Runtime;
const role = () => `colpriv_${db.name}`;

beforeAll(async () => {
  db = await freshDatabase('kinds');
  await db.pool.query(`
    CREATE SCHEMA k;
    CREATE TABLE k.part (id int, day date, v text, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
    CREATE TABLE k.part_a PARTITION OF k.part FOR VALUES FROM ('2026-01-01') TO ('2026-07-01');
    CREATE TABLE k.part_b PARTITION OF k.part FOR VALUES FROM ('2026-07-01') TO ('2027-01-01');
    INSERT INTO k.part SELECT g, DATE '2026-01-01' + g % 360, 'v' || g FROM generate_series(1, 40000) g;
    CREATE TABLE k.flat (LIKE k.part INCLUDING ALL);
    INSERT INTO k.flat SELECT * FROM k.part;
    UPDATE k.flat SET v = 'X' WHERE id = 39999;
    -- Autovacuum never analyzes a partitioned parent: its pg_class.reltuples stays -1.
    ANALYZE k.part_a, k.part_b, k.flat;
    CREATE VIEW k.flat_view AS SELECT * FROM k.flat;

    CREATE TABLE k.parent (id int PRIMARY KEY, v text);
    CREATE TABLE k.child (extra int) INHERITS (k.parent);
    INSERT INTO k.parent SELECT g, 'v' || g FROM generate_series(1, 10) g;
    INSERT INTO k.child SELECT g, 'v' || g, 0 FROM generate_series(11, 12) g;
    CREATE TABLE k.plain (id int PRIMARY KEY, v text);
    INSERT INTO k.plain SELECT g, 'v' || g FROM generate_series(1, 10) g;

    CREATE TABLE k.nokey_b (id int, v text); CREATE TABLE k.nokey_s (id int, v text);
    INSERT INTO k.nokey_b VALUES (1, 'a'), (1, 'a'), (2, 'b');
    INSERT INTO k.nokey_s VALUES (1, 'a'), (2, 'b'), (2, 'b');

    CREATE MATERIALIZED VIEW k.never_refreshed AS SELECT * FROM k.plain WITH NO DATA;
    CREATE TABLE k.other (id int PRIMARY KEY, v text);
    CREATE VIEW k.plain_view2 AS SELECT * FROM k.plain;

    CREATE ROLE "${role()}" LOGIN PASSWORD 'colpriv-pw';
    GRANT USAGE ON SCHEMA k TO "${role()}";
    CREATE TABLE k.secret_b (id int PRIMARY KEY, v text, salary numeric); CREATE TABLE k.secret_s (LIKE k.secret_b INCLUDING ALL);
    INSERT INTO k.secret_b VALUES (1, 'a', 10); INSERT INTO k.secret_s VALUES (1, 'a', 11);
    GRANT SELECT (id, v) ON k.secret_b TO "${role()}"; GRANT SELECT ON k.secret_s TO "${role()}";`);
  rt = runtimeFor(db, {
    part: dataset({ key: ['id', 'day'], batch: { output: 'k.part' }, stream: { output: 'k.flat_view' } }),
    inherit: dataset({ key: ['id'], batch: { output: 'k.parent' }, stream: { output: 'k.plain' } }),
    nokey: dataset({ key: ['id'], batch: { output: 'k.nokey_b' }, stream: { output: 'k.nokey_s' } }),
    folded: dataset({ key: ['id'], batch: { output: 'K.Plain' }, stream: { output: 'k.plain_view2' } }),
    matview: dataset({ key: ['id'], batch: { output: 'k.never_refreshed' }, stream: { output: 'k.other' } }),
  });
});
afterAll(async () => {
  await rt?.close();
  await db?.drop();
  // The role owns the dualrun schema it migrated in the dropped database: it can go now.
  const c = new pg.Client({ connectionString: serverUrl() });
  await c.connect();
  await c.query(`DROP ROLE IF EXISTS "${role()}"`).catch(() => undefined);
  await c.end();
});

const judge = async (r: Runtime, name: string, store = true) => (await reconcileDataset(r, name, { assumeSettled: true, samples: 50, store }))[0];

describe('reconcile: table kinds', () => {
  it('a partitioned output against a view gets buckets for their rows, not the 17 of an empty table (one huge bucket per side in drill-down)', async () => {
    const r = await judge(rt, 'part');
    expect(found(r)).toEqual(['changed {"id":39999,"day":"2026-02-09"} v']);
    // 40 000 rows at ~256 per bucket: pg_class holds no rows for a partitioned parent or a view.
    expect(r.buckets?.total).toBeGreaterThan(100);
  });

  it('an inheritance parent is read with its children rows, as a SELECT from it (and the serving view) would', async () => {
    const r = await judge(rt, 'inherit');
    expect(r.batch?.rows).toBe(12);
    expect(found(r)).toEqual(['missing_in_stream {"id":11}', 'missing_in_stream {"id":12}']);
  });

  it('equal rows repeated a different number of times on each side are a mismatch (multiplicity counts)', async () => {
    const r = await judge(rt, 'nokey');
    expect(r.verdict).toBe('mismatch');
    expect(found(r)).toEqual(['duplicate_key {"id":1}', 'duplicate_key {"id":2}']);
  });

  it('a config name differing from the table only in case says which table the database has (names are used as written)', async () => {
    const r = await judge(rt, 'folded');
    expect(r.verdict).toBe('error');
    // A config mistake (exit 2) naming the field that names the table.
    expect(r.error?.code).toBe('DUALRUN_CONFIG_INVALID');
    expect(r.error?.message).toMatch(/^invalid config \(built-in config\): datasets\.folded\.(batch|stream)\.output: table K\.Plain does not exist \(names are case-sensitive, used exactly as written in the config: the database has k\.plain\); /);
  });

  it('a materialized view never refreshed is an error saying so, naming the side', async () => {
    const r = await judge(rt, 'matview');
    expect(r.verdict).toBe('error');
    expect(r.error?.message).toBe('batch.output k.never_refreshed: materialized view "never_refreshed" has not been populated');
  });

  it('a column the role may not read fails the window naming the column, not only "permission denied for table"', async () => {
    // The limited role reads the toolkit schema (stage, ledger) but may not write results there.
    await rt.db();
    await db.pool.query(`GRANT USAGE ON SCHEMA dualrun TO "${role()}"; GRANT SELECT ON ALL TABLES IN SCHEMA dualrun TO "${role()}"`);
    const u = new URL(db.url);
    u.username = role();
    u.password = 'colpriv-pw';
    const ds = (ignore: string[]) => ({ secret: dataset({ key: ['id'], batch: { output: 'k.secret_b' }, stream: { output: 'k.secret_s' }, reconcile: { ignore } }) });
    const limited = runtimeFor({ url: u.toString() } as TestDatabase, ds([]));
    try {
      // Not stored: the toolkit schema (migrated by the owner) is not the limited role's to write.
      const r = await judge(limited, 'secret', false);
      expect(r.verdict).toBe('error');
      expect(r.error?.message).toBe(`batch.output k.secret_b: role ${role()} may not read column(s) salary; grant SELECT on them, or list them in reconcile.ignore`);
    } finally {
      await limited.close();
    }
    const ignoring = runtimeFor({ url: u.toString() } as TestDatabase, ds(['salary']));
    try {
      const ok = await judge(ignoring, 'secret', false);
      expect(ok.error?.message).toBeUndefined();
      expect(ok.verdict).toBe('match');
    } finally {
      await ignoring.close();
    }
  });
});
