/**
 * Built-in (trigger) capture runs inside the legacy application's writes: as the application's
 * role, with that role's settings. Installing it must not break those writes, what it captures
 * must not depend on how the writer's session prints values, and it must see every row a
 * SELECT from the table sees (partitions) or refuse (inheritance children).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/pg.ts';
import { migrate } from '../../src/core/db/migrate.ts';

let db: TestDatabase;
const role = () => `app_${db.name}`;

beforeAll(async () => {
  db = await createTestDatabase('capw');
  await migrate(db.pool);
  await db.pool.query(`CREATE ROLE "${role()}" LOGIN PASSWORD 'app-pw';
    CREATE TABLE public.orders (id int PRIMARY KEY, f float8, iv interval, raw bytea);
    GRANT SELECT, INSERT, UPDATE, DELETE ON public.orders TO "${role()}";`);
  await installCapture(db.pool, parseTableRef('public.orders')!);
});
afterAll(async () => {
  await db?.drop();
  const c = new pg.Client({ connectionString: serverUrl() });
  await c.connect();
  await c.query(`DROP ROLE IF EXISTS "${role()}"`).catch(() => undefined);
  await c.end();
});

async function asApp(sql: string): Promise<void> {
  const u = new URL(db.url);
  u.username = role();
  u.password = 'app-pw';
  const c = new pg.Client({ connectionString: u.toString() });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

describe('trigger capture under the writer role and settings', () => {
  it("an application role without privileges on the dualrun schema can still write (was 'permission denied for schema dualrun' on every write)", async () => {
    await asApp(`INSERT INTO public.orders VALUES (1, 1.5, '1 day', '\\x01'); UPDATE public.orders SET f = 2.5 WHERE id = 1; DELETE FROM public.orders WHERE id = 1`);
    const r = await db.pool.query(`SELECT op, (before->>'f') AS b, (after->>'f') AS a FROM dualrun.changelog WHERE source_table = 'public.orders' ORDER BY id`);
    expect(r.rows).toEqual([{ op: 'c', b: null, a: '1.5' }, { op: 'u', b: '1.5', a: '2.5' }, { op: 'd', b: '2.5', a: null }]);
  });

  it("the snapshot of a table with a column named t holds its rows, not that column's values (every snapshotted row was a dead letter)", async () => {
    await db.pool.query(`CREATE TABLE public.readings (id int PRIMARY KEY, t timestamptz, v float8);
      INSERT INTO public.readings VALUES (1, '2026-11-20 10:00:00+00', 0.5)`);
    await installCapture(db.pool, parseTableRef('public.readings')!);
    const r = await db.pool.query(`SELECT op, after - 't' AS rest, (after->>'t')::timestamptz = '2026-11-20 10:00:00+00' AS t_same FROM dualrun.changelog WHERE source_table = 'public.readings'`);
    expect(r.rows).toEqual([{ op: 'r', rest: { id: 1, v: 0.5 }, t_same: true }]);
  });

  it("a writer's extra_float_digits, IntervalStyle and bytea_output no longer change the captured values (0.1000000000000001 became 0.1; '-1 day -02:00' read back as another interval)", async () => {
    // As the table's owner (privileges are the test above), in a session printing values its own way.
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query(`SET extra_float_digits = 0; SET IntervalStyle = sql_standard; SET bytea_output = escape;
        INSERT INTO public.orders VALUES (2, 0.1000000000000001, '-1 day -02:00:00', '\\x00ff')`);
    } finally {
      await c.end();
    }
    const r = await db.pool.query(`SELECT after->>'f' AS f, (after->>'iv')::interval = interval '-1 day -02:00:00' AS iv_same, after->>'raw' AS raw
      FROM dualrun.changelog WHERE source_table = 'public.orders' AND (after->>'id')::int = 2`);
    expect(r.rows).toEqual([{ f: '0.1000000000000001', iv_same: true, raw: '\\x00ff' }]);
  });
});

describe('trigger capture on partitioned tables and inheritance parents', () => {
  it("a partitioned source's changes are logged under the table's name, not the partition's (the stream never saw them)", async () => {
    await db.pool.query(`CREATE TABLE public.parted (id int, day date, v text, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
      CREATE TABLE public.parted_2026 PARTITION OF public.parted FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');
      INSERT INTO public.parted VALUES (1, '2026-11-20', 'a');`);
    await installCapture(db.pool, parseTableRef('public.parted')!);
    // A partition attached after capture started gets the trigger too.
    await db.pool.query(`CREATE TABLE public.parted_2027 PARTITION OF public.parted FOR VALUES FROM ('2027-01-01') TO ('2028-01-01');
      INSERT INTO public.parted VALUES (2, '2026-11-21', 'b'), (3, '2027-02-01', 'c'); UPDATE public.parted SET v = 'x' WHERE id = 1; DELETE FROM public.parted WHERE id = 2;`);
    const r = await db.pool.query(`SELECT source_table AS t, op, coalesce(after, before)->>'id' AS id FROM dualrun.changelog
      WHERE source_table LIKE 'public.parted%' ORDER BY changelog.id`);
    expect(r.rows).toEqual([
      { t: 'public.parted', op: 'r', id: '1' }, { t: 'public.parted', op: 'c', id: '2' }, { t: 'public.parted', op: 'c', id: '3' },
      { t: 'public.parted', op: 'u', id: '1' }, { t: 'public.parted', op: 'd', id: '2' },
    ]);
  });

  it('writes under session_replication_role = replica (bulk loaders, logical replication apply) are captured, on every partition (the trigger did not fire)', async () => {
    await db.pool.query(`CREATE TABLE public.loaded (id int, day date, PRIMARY KEY (id, day)) PARTITION BY RANGE (day);
      CREATE TABLE public.loaded_2026 PARTITION OF public.loaded FOR VALUES FROM ('2026-01-01') TO ('2027-01-01');`);
    await installCapture(db.pool, parseTableRef('public.loaded')!);
    await db.pool.query(`CREATE TABLE public.loaded_2027 PARTITION OF public.loaded FOR VALUES FROM ('2027-01-01') TO ('2028-01-01')`);
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    try {
      await c.query(`SET session_replication_role = replica; INSERT INTO public.loaded VALUES (1, '2026-11-20'), (2, '2027-02-01')`);
    } finally {
      await c.end();
    }
    const r = await db.pool.query(`SELECT op, after->>'id' AS id FROM dualrun.changelog WHERE source_table = 'public.loaded' ORDER BY changelog.id`);
    expect(r.rows).toEqual([{ op: 'c', id: '1' }, { op: 'c', id: '2' }]);
  });

  it('an inheritance parent with children is refused, naming them (their changes would never be captured)', async () => {
    await db.pool.query(`CREATE TABLE public.par (id int PRIMARY KEY, v text); CREATE TABLE public.par_child () INHERITS (public.par);`);
    await expect(installCapture(db.pool, parseTableRef('public.par')!)).rejects.toMatchObject({
      code: 'DUALRUN_CONFIG_INVALID',
      message: expect.stringContaining('stream.source.table public.par has inheritance children (par_child)'),
    });
    const t = await db.pool.query(`SELECT count(*)::int AS n FROM pg_trigger WHERE tgrelid = 'public.par'::regclass AND tgname = 'dualrun_capture'`);
    expect(t.rows[0].n).toBe(0);
  });
});
