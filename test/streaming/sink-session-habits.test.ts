/**
 * The stream worker under settings a user's role or database brings:
 * - row-level security on the stream output hiding rows from the worker's role: its
 *   deletes and upserts passed over the hidden rows without a word (a captured delete
 *   of a hidden key left the row in the output); now every sink transaction turns
 *   row_security off, so Postgres refuses the statement, naming the table;
 * - `extra_float_digits = 0`: logical capture's values are printed by the reading
 *   session's output functions, so 0.1000000000000001 arrived as 0.1; every dualrun
 *   connection now prints floats with every digit.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { setStage, setupToolkit, writeConfig } from './support.ts';

let target: TestDatabase;
beforeAll(async () => { target = await createTestDatabase('sink_habits'); });
afterAll(async () => { await target?.drop(); });

it('regression: row-level security hiding rows of the stream output made the sink pass over them; now the worker stops naming the policy', { timeout: 120_000 }, async () => {
  const own = await createTestDatabase('sinkrls');
  const role = `tenant_${own.name}`;
  try {
    await own.pool.query(`CREATE ROLE "${role}" LOGIN PASSWORD 'tenant-pw';
      GRANT CREATE ON SCHEMA public TO "${role}"; GRANT CREATE ON DATABASE "${own.name}" TO "${role}";
      CREATE TABLE public.out (id int PRIMARY KEY, region text, _dr_version bigint, _dr_source_ts timestamptz);
      ALTER TABLE public.out ENABLE ROW LEVEL SECURITY;
      CREATE POLICY eu_only ON public.out USING (region = 'eu') WITH CHECK (true);
      GRANT SELECT, INSERT, UPDATE, DELETE ON public.out TO "${role}";
      CREATE TABLE public.b (id int, region text); GRANT SELECT ON public.b TO "${role}";`);
    const u = new URL(own.url);
    u.username = role;
    u.password = 'tenant-pw';
    const { file, dir } = writeConfig({
      database: { url: u.toString() },
      datasets: { t: { key: ['id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.src' } } } },
    });
    const tenant = async (sql: string) => {
      const { createPool } = await import('../../src/core/db/connect.ts');
      const p = createPool(u.toString(), { max: 1 });
      try { await p.query(sql); } finally { await p.end(); }
    };
    expect((await runCli(['--config', file, 'migrate'], { cwd: dir })).code).toBe(0);
    await tenant(`CREATE TABLE public.src (id int PRIMARY KEY, region text)`);
    expect((await runCli(['--config', file, 'capture'], { cwd: dir })).code).toBe(0);
    await setStage(own.pool, 't', 'shadow');
    // The 'us' rows are already in the output (loaded by their owner); the role cannot see them.
    await own.pool.query(`INSERT INTO public.out SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, 0, now() FROM generate_series(1, 4) g`);
    await tenant(`INSERT INTO public.src SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END FROM generate_series(1, 4) g; DELETE FROM public.src`);
    const r = await runCli(['--config', file, 'stream', '--dataset', 't', '--until-idle', '--format', 'json'], { cwd: dir, timeoutMs: 60_000 });
    // Before: exit 0, and rows 1 and 3 (hidden) were still in the output after their deletes.
    expect(r.code, r.stderr.slice(-1500)).toBe(3);
    expect(r.stdout).toMatch(/row-level security policy for table \\"out\\"/);
    expect((await own.pool.query('SELECT id FROM public.out ORDER BY id')).rows.map((x) => x.id)).toEqual([1, 2, 3, 4]);
  } finally {
    await own.drop();
    await target.pool.query(`DROP ROLE IF EXISTS "${role}"`);
  }
});

it('regression: under extra_float_digits = 0 logical capture stored 0.1000000000000001 as 0.1', { timeout: 120_000 }, async () => {
  await setupToolkit(target.pool);
  await target.pool.query(`ALTER DATABASE "${target.name}" SET extra_float_digits = 0;
    CREATE TABLE public.fsrc (id int PRIMARY KEY, f float8, r real); CREATE TABLE public.fout (LIKE public.fsrc INCLUDING ALL); CREATE TABLE public.fb (LIKE public.fsrc)`);
  const { file, dir } = writeConfig({
    database: { url: target.url },
    datasets: { f: { key: ['id'], batch: { output: 'public.fb' }, stream: { output: 'public.fout', source: { table: 'public.fsrc', capture: 'logical' } } } },
  });
  expect((await runCli(['--config', file, 'capture'], { cwd: dir })).code).toBe(0);
  await setStage(target.pool, 'f', 'shadow');
  await target.pool.query(`INSERT INTO public.fsrc VALUES (1, 0.1000000000000001, 0.10000001), (2, 1e-310, 3.4028235e38), (3, -0.30000000000000004, 1.1754944e-38)`);
  const r = await runCli(['--config', file, 'stream', '--dataset', 'f', '--until-idle'], { cwd: dir, timeoutMs: 60_000 });
  expect(r.code, r.stderr.slice(-1500)).toBe(0);
  const differing = await target.pool.query(`SELECT s.id FROM public.fsrc s FULL JOIN public.fout o USING (id) WHERE (s.f, s.r) IS DISTINCT FROM (o.f, o.r)`);
  expect(differing.rows).toEqual([]);
  const removed = await runCli(['--config', file, 'capture', '--remove'], { cwd: dir }); // a slot would keep the database from being dropped
  expect(removed.code, removed.stderr).toBe(0);
});
