import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { BIN, runCli } from '../support/cli.ts';
import { writeProject } from './support.ts';

let source: TestDatabase;
let target: TestDatabase;

const TYPED = `CREATE TABLE public.typed (
  id int PRIMARY KEY, day date, at timestamptz, amount numeric(20,6), note text, doc jsonb, tags text[], raw bytea, ok boolean, f float8)`;

beforeAll(async () => {
  [source, target] = await Promise.all([createTestDatabase('bsrc'), createTestDatabase('btgt')]);
  await source.pool.query(`${TYPED};
    INSERT INTO public.typed VALUES
      (1, '2026-11-20', '2026-11-20 10:00:00.123456+00', 12345678901234.123456, E'quote '' dq " back\\\\ comma, {brace}', '{"a": [1, 2.50]}', ARRAY['x', NULL, 'NULL', 'a"b', 'c,d'], '\\x00ff10', true, 0.1),
      (2, '2026-11-20', '2026-11-20 23:59:59.999999+00', -0.000001, NULL, NULL, NULL, NULL, NULL, 1e-300),
      (3, '2026-11-21', '2026-11-21 00:00:00+00', 1, 'next window', 'null', '{}', '\\x', false, 'NaN')`);
  await target.pool.query(TYPED.replace('public.typed', 'public.typed_batch'));
});
afterAll(async () => { await source?.drop(); await target?.drop(); });

const asText = async (db: TestDatabase, table: string) => (await db.pool.query(
  `SELECT id, day::text, at::text, amount::text, note, doc::text, tags::text, raw::text, ok::text, f::text FROM ${table} WHERE day = '2026-11-20' ORDER BY id`)).rows;

describe('cross-database managed load', () => {
  it('copies every type losslessly from batch.source.url, window rows only, idempotently', async () => {
    const dir = writeProject(target.url, { typed: { batch: { output: 'public.typed_batch', query: 'q.sql', source: { url: source.url } }, window: { column: 'day' } } }, {
      'q.sql': 'SELECT * FROM public.typed WHERE day >= :window_start AND day < :window_end',
    });
    for (let i = 0; i < 2; i++) {
      const r = await runCli(['--config', path.join(dir, 'dualrun.yaml'), 'batch', 'run', 'typed', '--window', '2026-11-20', '--format', 'json']);
      expect(r.stderr).toBe('');
      expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded', rows: 2 });
    }
    expect(await asText(target, 'public.typed_batch')).toEqual(await asText(source, 'public.typed'));
    expect((await target.pool.query('SELECT count(*)::int AS n FROM public.typed_batch')).rows[0].n).toBe(2);
  });

  it('runs a per-row transform module (drop, split, reshape) with bounded pages', async () => {
    await target.pool.query('CREATE TABLE public.split_batch (id int, day date, at timestamptz, part text)');
    await target.pool.query(TYPED.replace('public.typed', 'public.typed_src_same'));
    await target.pool.query(`INSERT INTO public.typed_src_same SELECT g, '2026-11-20', '2026-11-20 00:00:00.000001+00', g FROM generate_series(1, 2500) g`);
    const dir = writeProject(target.url, { split: { batch: { output: 'public.split_batch', query: 'q.sql', transform: 't.ts' } } }, {
      'q.sql': 'SELECT id, day, at FROM public.typed_src_same WHERE day >= :window_start AND day < :window_end',
      't.ts': `export default function (row: { id: number; day: string; at: string }) {
        if (row.id % 2 === 0) return null;
        return [{ ...row, part: 'a' }, { ...row, part: typeof row.at }];
      }`,
    });
    const r = await runCli(['--config', path.join(dir, 'dualrun.yaml'), 'batch', 'run', 'split', '--window', '2026-11-20', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({ status: 'succeeded', rows: 2500 });
    const parts = await target.pool.query(`SELECT part, count(*)::int AS n, min(at)::text AS at FROM public.split_batch GROUP BY part ORDER BY part`);
    expect(parts.rows).toEqual([{ part: 'a', n: 1250, at: '2026-11-20 00:00:00.000001+00' }, { part: 'string', n: 1250, at: '2026-11-20 00:00:00.000001+00' }]);
  });

  it('loads 1M rows from another database with the process peak RSS under 200 MB', async () => {
    await source.pool.query(`CREATE TABLE public.big (id bigint, day date, amount numeric(12,2), at timestamptz, note text);
      INSERT INTO public.big SELECT g, DATE '2026-11-20', g / 100.0, TIMESTAMPTZ '2026-11-20' + g * interval '1 ms', md5(g::text) FROM generate_series(1, 1000000) g`);
    await target.pool.query('CREATE TABLE public.big_batch (id bigint, day date, amount numeric(12,2), at timestamptz, note text)');
    const dir = writeProject(target.url, { big: { batch: { output: 'public.big_batch', query: 'q.sql', source: { url: source.url } } } }, {
      'q.sql': 'SELECT * FROM public.big WHERE day >= :window_start AND day < :window_end',
    });
    const { code, peakKb, stdout } = await runWithPeakRss(['--config', path.join(dir, 'dualrun.yaml'), 'batch', 'run', 'big', '--window', '2026-11-20', '--format', 'json']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ status: 'succeeded', rows: 1_000_000 });
    console.log(`cross-database 1M rows: peak RSS ${(peakKb / 1024).toFixed(0)} MB`);
    expect(peakKb).toBeGreaterThan(0);
    expect(peakKb / 1024).toBeLessThan(200);
    expect((await target.pool.query('SELECT count(*)::int AS n, sum(amount)::text AS s FROM public.big_batch')).rows[0])
      .toEqual((await source.pool.query('SELECT count(*)::int AS n, sum(amount)::text AS s FROM public.big')).rows[0]);
  }, 150_000);
});

/** Runs the CLI and samples VmHWM (the kernel's peak-RSS mark) of the child until it exits. */
function runWithPeakRss(args: string[]): Promise<{ code: number | null; peakKb: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    let peakKb = 0;
    child.stdout.on('data', (d) => (stdout += d));
    const sample = () => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peakKb = Math.max(peakKb, Number(m[1]));
      } catch { /* exited */ }
    };
    const timer = setInterval(sample, 100);
    child.on('error', reject);
    child.on('exit', (code) => { clearInterval(timer); resolve({ code, peakKb, stdout }); });
  });
}
