/**
 * A load replaces exactly its window, by batch.output's window column: the column the window's
 * DELETE and the reconciler select on. Rows a query returns outside the window, or a window
 * column that cannot hold the window's bounds, used to lose or double rows under `succeeded`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { writeProject, type DatasetSpec } from './support.ts';

let db: TestDatabase;
let source: TestDatabase;

// 10 rows on each of 2026-11-18, -19 and -20 (ids 1-30), each at its day's hour id % 24.
const SRC = `CREATE TABLE public.src (id int, day date, at timestamptz, label text);
  INSERT INTO public.src SELECT g, DATE '2026-11-18' + (g % 3), (DATE '2026-11-18' + (g % 3)) + (g % 24) * interval '1 hour', (DATE '2026-11-18' + (g % 3))::text
  FROM generate_series(1, 30) g;`;

beforeAll(async () => {
  [db, source] = await Promise.all([createTestDatabase('bwrows'), createTestDatabase('bwrsrc')]);
  await db.pool.query(`SET TimeZone = UTC; ${SRC}`);
  await source.pool.query(`SET TimeZone = UTC; ${SRC}`);
});
afterAll(async () => { await db?.drop(); await source?.drop(); });

const perDay = async (table: string, col = 'day') => Object.fromEntries((await db.pool.query<{ d: string; n: number }>(
  `SELECT ${col}::text AS d, count(*)::int AS n FROM ${table} GROUP BY 1 ORDER BY 1`)).rows.map((r) => [r.d, r.n]));
const statuses = async (dataset: string) => (await db.pool.query<{ status: string }>(
  'SELECT status FROM dualrun.batch_runs WHERE dataset = $1 ORDER BY id', [dataset])).rows.map((r) => r.status);

async function run(dataset: string, spec: DatasetSpec, files: Record<string, string>, window: string) {
  const dir = writeProject(db.url, { [dataset]: spec }, files);
  return runCli(['--config', path.join(dir, 'dualrun.yaml'), 'batch', 'run', dataset, '--window', window, '--format', 'json']);
}

describe('rows outside the window', () => {
  const INCLUSIVE = 'SELECT id, day FROM public.src WHERE day >= :window_start AND day <= :window_end';
  const cases: [string, (t: string) => DatasetSpec, Record<string, string>][] = [
    ['same database', (t) => ({ batch: { output: t, query: 'q.sql' } }), { 'q.sql': INCLUSIVE }],
    ['another database', (t) => ({ batch: { output: t, query: 'q.sql', source: { url: source.url } } }), { 'q.sql': INCLUSIVE }],
    ['a transform', (t) => ({ batch: { output: t, query: 'q.sql', transform: 't.ts' } }), { 'q.sql': INCLUSIVE, 't.ts': 'export default (r: object) => r;' }],
  ];
  for (const [name, spec, files] of cases) {
    it(`a query ending at <= :window_end no longer doubles the next day's rows under 'succeeded' runs (${name})`, async () => {
      const table = `public.incl_${name.replace(/\W/g, '_')}`;
      await db.pool.query(`CREATE TABLE ${table} (id int, day date); INSERT INTO ${table} SELECT id, day FROM public.src`);
      const before = await perDay(table);
      expect(before).toEqual({ '2026-11-18': 10, '2026-11-19': 10, '2026-11-20': 10 });
      // Before: both runs succeeded (20 rows each) and 2026-11-20 held 20 rows, each twice.
      for (let i = 0; i < 2; i++) {
        const r = await run('incl', spec(table), files, '2026-11-19');
        expect(r.code, r.stderr).toBe(3);
        expect(JSON.parse(r.stdout).error.message).toMatch(
          /10 rows of the batch query are outside window 2026-11-19 by window.column day: those with a value run from 2026-11-20 to 2026-11-20/);
      }
      expect(await perDay(table)).toEqual(before);
      expect((await statuses('incl')).slice(-2)).toEqual(['failed', 'failed']);
      await db.pool.query('DELETE FROM dualrun.batch_runs');
    });
  }

  it('a query giving the window column NULL (a column it does not produce) no longer leaves rows no re-run replaces', async () => {
    await db.pool.query('CREATE TABLE public.nul_batch (id int, day date)');
    const q = { 'q.sql': 'SELECT id FROM public.src WHERE day >= :window_start AND day < :window_end' };
    const r = await run('nul', { batch: { output: 'public.nul_batch', query: 'q.sql' } }, q, '2026-11-19');
    expect(r.code, r.stderr).toBe(3);
    expect(JSON.parse(r.stdout).error.message).toMatch(/10 rows of the batch query are outside window 2026-11-19 by window.column day \(10 of them NULL\)/);
    expect(await perDay('public.nul_batch')).toEqual({});
  });

  it('a timestamptz window cut in another zone fails naming the rows outside, and one cut in the window zone loads', async () => {
    await db.pool.query('CREATE TABLE public.tz_batch (id int, at timestamptz)');
    const spec = { batch: { output: 'public.tz_batch', query: 'q.sql' }, window: { column: 'at', timezone: 'America/New_York' } };
    // The legacy job's day is the UTC day of `at`: its early-UTC rows are the previous New York day.
    const utc = await run('tz', spec, { 'q.sql': 'SELECT id, at FROM public.src WHERE day >= :window_start AND day < :window_end' }, '2026-11-19');
    expect(utc.code, utc.stderr).toBe(3);
    expect(JSON.parse(utc.stdout).error.message).toMatch(/rows of the batch query are outside window 2026-11-19 by window.column at/);
    const ny = await run('tz', spec, { 'q.sql': 'SELECT id, at FROM public.src WHERE at >= :window_start AND at < :window_end' }, '2026-11-19');
    expect(ny.code, ny.stderr).toBe(0);
    const want = (await db.pool.query(`SELECT count(*)::int AS n FROM public.src WHERE (at AT TIME ZONE 'America/New_York')::date = '2026-11-19'`)).rows[0].n;
    expect(JSON.parse(ny.stdout)).toMatchObject({ status: 'succeeded', rows: want });
  });
});

describe('window columns that cannot hold the bounds', () => {
  it("a text window column no longer makes the load of the 19th delete the 20th's rows and double its own", async () => {
    await db.pool.query('CREATE TABLE public.txt_batch (id int, label text); INSERT INTO public.txt_batch SELECT id, label FROM public.src');
    const r = await run('txt', { batch: { output: 'public.txt_batch', query: 'q.sql' }, window: { column: 'label' } },
      { 'q.sql': 'SELECT id, label FROM public.src WHERE day >= :window_start AND day < :window_end' }, '2026-11-19');
    // Before: succeeded; 2026-11-19 held 20 rows and 2026-11-20 none. A config mistake: exit 2.
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(/window.column label of batch.output public.txt_batch is of type text: a window column must be a date, timestamp or timestamptz/);
    expect(await perDay('public.txt_batch', 'label')).toEqual({ '2026-11-18': 10, '2026-11-19': 10, '2026-11-20': 10 });
  });

  it("an hour window on a date column no longer deletes the day's other hours", async () => {
    await db.pool.query('CREATE TABLE public.hr_batch (id int, day date); INSERT INTO public.hr_batch SELECT id, day FROM public.src');
    const r = await run('hr', { batch: { output: 'public.hr_batch', query: 'q.sql' }, window: { column: 'day', grain: 'hour' } },
      { 'q.sql': 'SELECT id, day FROM public.src WHERE at >= :window_start AND at < :window_end' }, '2026-11-19T23');
    // Before: succeeded with 0 rows, and the day's 10 rows were gone. A config mistake: exit 2.
    expect(r.code, r.stderr).toBe(2);
    expect(JSON.parse(r.stdout).error.message).toMatch(/window.column day of batch.output public.hr_batch is of type date: a date cannot be cut into hour windows/);
    expect(await perDay('public.hr_batch')).toEqual({ '2026-11-18': 10, '2026-11-19': 10, '2026-11-20': 10 });
  });
});
