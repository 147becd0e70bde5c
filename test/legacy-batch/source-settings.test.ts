/**
 * The batch path under the output settings a DBA set on a role or database, which every
 * connection dualrun opens inherits: DateStyle, IntervalStyle, TimeZone, extra_float_digits,
 * bytea_output. Rows cross databases as text, and node-postgres reads times as text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { createPool } from '../../src/core/db/connect.ts';
import { writeProject } from './support.ts';

let source: TestDatabase;
let target: TestDatabase;

const TABLE = `(id int PRIMARY KEY, day date, at timestamptz, wall timestamp, iv interval, f float8, r real, raw bytea)`;
const AS_TEXT = `SELECT id, day::text, at::text, wall::text, iv::text, f::text, r::text, raw::text FROM public.T ORDER BY id`;

async function asText(db: TestDatabase, table: string): Promise<unknown[]> {
  const c = await db.pool.connect();
  try {
    await c.query(`SET DateStyle = ISO; SET IntervalStyle = postgres; SET extra_float_digits = 1; SET bytea_output = hex; SET TimeZone = UTC`);
    return (await c.query(AS_TEXT.replace('public.T', table))).rows;
  } finally {
    c.release();
  }
}

beforeAll(async () => {
  [source, target] = await Promise.all([createTestDatabase('bset'), createTestDatabase('bsett')]);
  await source.pool.query(`CREATE TABLE public.typed ${TABLE};
    INSERT INTO public.typed VALUES
      (1, '2026-11-05', '2026-11-05 10:00:00.123456+00', '2026-11-05 01:02:03', '-1 day +02:00:00', 0.1000000000000001, 0.1, '\\x00ff5c'),
      (2, '2026-11-05', '2026-11-05 23:59:59+00', '2026-11-05 23:00', '1 mon -3 days -04:00', 1e-300, 3.4e38, '\\x')`);
  await target.pool.query(`CREATE TABLE public.typed_batch ${TABLE}`);
  // Day-first dates, a zone whose abbreviation (IST) means three zones, 15-digit floats, escaped bytea...
  for (const [k, v] of Object.entries({ DateStyle: `'SQL, DMY'`, TimeZone: `'Asia/Kolkata'`, IntervalStyle: 'sql_standard', extra_float_digits: '0', bytea_output: 'escape' })) {
    await source.pool.query(`ALTER DATABASE "${source.name}" SET ${k} = ${v}`);
  }
  // ...read by a month-first target in another zone.
  for (const [k, v] of Object.entries({ DateStyle: `'SQL, MDY'`, TimeZone: `'America/New_York'`, IntervalStyle: 'postgres_verbose' })) {
    await target.pool.query(`ALTER DATABASE "${target.name}" SET ${k} = ${v}`);
  }
});
afterAll(async () => { await source?.drop(); await target?.drop(); });

describe('batch path under a role or database output settings', () => {
  it('a cross-database load no longer turns 2026-11-05 into 2026-05-11 or drops float digits when the source prints dates day-first', async () => {
    const dir = writeProject(target.url, { typed: { batch: { output: 'public.typed_batch', query: 'q.sql', source: { url: source.url } }, window: { column: 'day' } } }, {
      'q.sql': 'SELECT * FROM public.typed WHERE day >= :window_start AND day < :window_end',
    });
    const r = await runCli(['--config', path.join(dir, 'dualrun.yaml'), 'batch', 'run', 'typed', '--window', '2026-11-05', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded', rows: 2 });
    expect(await asText(target, 'public.typed_batch')).toEqual(await asText(source, 'public.typed'));
  });

  it("a role's idle_in_transaction_session_timeout on either side no longer ends a cross-database load between pages", async () => {
    // Each page's insert takes 0.2 s (a statement trigger) while the source waits idle in its
    // snapshot; the next fetch takes 0.2 s (a pg_sleep per page in the query) while the target waits.
    await source.pool.query(`CREATE TABLE public.many (id int PRIMARY KEY, day date);
      INSERT INTO public.many SELECT g, '2026-11-05' FROM generate_series(1, 5) g;`);
    await target.pool.query(`CREATE TABLE public.many_batch (id int PRIMARY KEY, day date);
      CREATE FUNCTION public.slow() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN PERFORM pg_sleep(0.2); RETURN NULL; END';
      CREATE TRIGGER slow AFTER INSERT ON public.many_batch FOR EACH STATEMENT EXECUTE FUNCTION public.slow();`);
    for (const d of [source, target]) await d.pool.query(`ALTER DATABASE "${d.name}" SET idle_in_transaction_session_timeout = '100ms'`);
    try {
      const dir = writeProject(target.url, { many: { batch: { output: 'public.many_batch', query: 'q.sql', source: { url: source.url } }, window: { column: 'day' } } }, {
        'q.sql': 'SELECT id, day FROM public.many WHERE day >= :window_start AND day < :window_end AND (id % 2 = 1 OR pg_sleep(0.2) IS NOT NULL)',
      });
      const r = await runCli(['--config', path.join(dir, 'dualrun.yaml'), 'batch', 'run', 'many', '--window', '2026-11-05', '--format', 'json'], { env: { DUALRUN_BATCH_PAGE_ROWS: '2' } });
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded', rows: 5 });
    } finally {
      for (const d of [source, target]) await d.pool.query(`ALTER DATABASE "${d.name}" RESET idle_in_transaction_session_timeout`);
    }
  });

  it('a load as a role that row-level security shows only part of the output fails instead of doubling the hidden rows of the window', async () => {
    // Its own database: the role migrates the toolkit schema there itself.
    const own = await createTestDatabase('btrls');
    const role = `tenant_${own.name}`;
    await own.pool.query(`CREATE ROLE "${role}" LOGIN PASSWORD 'tenant-pw';
      GRANT CREATE ON SCHEMA public TO "${role}"; GRANT CREATE ON DATABASE "${own.name}" TO "${role}";
      CREATE TABLE public.src (id int PRIMARY KEY, day date, region text);
      INSERT INTO public.src SELECT g, '2026-11-05', CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END FROM generate_series(1, 10) g;
      CREATE TABLE public.tenant_batch (id int, day date, region text);
      INSERT INTO public.tenant_batch SELECT * FROM public.src;
      ALTER TABLE public.tenant_batch ENABLE ROW LEVEL SECURITY;
      CREATE POLICY eu_reads ON public.tenant_batch FOR SELECT USING (region = 'eu');
      CREATE POLICY eu_deletes ON public.tenant_batch FOR DELETE USING (region = 'eu');
      CREATE POLICY inserts ON public.tenant_batch FOR INSERT WITH CHECK (true);
      GRANT SELECT ON public.src TO "${role}"; GRANT SELECT, INSERT, DELETE ON public.tenant_batch TO "${role}";`);
    try {
      const u = new URL(own.url);
      u.username = role;
      u.password = 'tenant-pw';
      const dir = writeProject(u.toString(), { tenant: { batch: { output: 'public.tenant_batch', query: 'q.sql' }, window: { column: 'day' } } }, {
        'q.sql': 'SELECT * FROM public.src WHERE day >= :window_start AND day < :window_end',
      });
      const r = await runCli(['--config', path.join(dir, 'dualrun.yaml'), 'batch', 'run', 'tenant', '--window', '2026-11-05', '--format', 'json']);
      // Before: "succeeded", 15 rows (the 5 rows the role could not see were kept, then loaded again).
      expect(r.code).toBe(3);
      expect(JSON.parse(r.stdout).error.message).toMatch(/row-level security policy for table "tenant_batch"/);
      const n = await own.pool.query(`SELECT count(*)::int AS total, count(DISTINCT id)::int AS ids FROM public.tenant_batch`);
      expect(n.rows[0]).toEqual({ total: 10, ids: 10 });
    } finally {
      await own.drop();
      await target.pool.query(`DROP ROLE IF EXISTS "${role}"`);
    }
  });

  it("a timestamptz loaded into a timestamp or date column from another database is converted in the output database's zone, as the same load on one database does", async () => {
    // The source prints in Asia/Kolkata, the target reads in America/New_York (beforeAll).
    const ddl = `CREATE TABLE public.instants (id int, day date, at timestamptz);
      INSERT INTO public.instants VALUES (1, '2026-11-05', '2026-11-05 23:30:00+00'), (2, '2026-11-05', '2026-11-05 03:00:00+00');`;
    await source.pool.query(ddl);
    await target.pool.query(`${ddl} CREATE TABLE public.wall_same (id int, day date, at timestamp, at_day date); CREATE TABLE public.wall_cross (LIKE public.wall_same);`);
    const q = { 'q.sql': 'SELECT id, day, at, at AS at_day FROM public.instants WHERE day >= :window_start AND day < :window_end' };
    for (const [name, spec] of [['same', {}], ['cross', { source: { url: source.url } }]] as const) {
      const dir = writeProject(target.url, { [name]: { batch: { output: `public.wall_${name}`, query: 'q.sql', ...spec } } }, q);
      const r = await runCli(['--config', path.join(dir, 'dualrun.yaml'), 'batch', 'run', name, '--window', '2026-11-05', '--format', 'json']);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded', rows: 2 });
    }
    const rows = async (t: string) => (await target.pool.query(`SELECT id, at::text, at_day::text FROM ${t} ORDER BY id`)).rows;
    expect(await rows('public.wall_same')).toEqual([{ id: 1, at: '2026-11-05 18:30:00', at_day: '2026-11-05' }, { id: 2, at: '2026-11-04 22:00:00', at_day: '2026-11-04' }]);
    // Before: the Kolkata wall clock, 2026-11-06 05:00:00 and 2026-11-05 08:30:00.
    expect(await rows('public.wall_cross')).toEqual(await rows('public.wall_same'));
  });

  it('times read from a database whose DateStyle is not ISO are no longer null, and its input order (DMY) is kept', async () => {
    const pool = createPool(source.url, { max: 1 });
    try {
      const r = await pool.query<{ at: Date | null; d: string; iv: unknown }>(`SELECT timestamptz '2026-11-05 10:00:00Z' AS at, '05/11/2026'::date::text AS d`);
      expect(r.rows[0].at).toEqual(new Date('2026-11-05T10:00:00Z'));
      expect(r.rows[0].d).toBe('2026-11-05');
    } finally {
      await pool.end();
    }
  });
});
