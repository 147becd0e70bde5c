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
