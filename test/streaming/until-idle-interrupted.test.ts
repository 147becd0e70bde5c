/**
 * Regression (issue 11.8): `stream --until-idle` interrupted before it was idle
 * exited 0, as if it had caught up. Now SIGTERM exits 143 and SIGINT 130, and the
 * log (and the JSON summary) says where it stopped: the stored position per
 * partition. The worker is held short of idle by an older open writing
 * transaction, whose later changes the changelog cannot read yet.
 */
import { spawn } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, serverUrl, type TestDatabase } from '../support/pg.ts';
import { BIN, runCli } from '../support/cli.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { ORDERS_DDL, setStage, setupToolkit, writeConfig } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('stream_interrupt');
  await setupToolkit(db.pool);
  await db.pool.query(`${ORDERS_DDL('public.src')}; ${ORDERS_DDL('public.out')}`);
  await installCapture(db.pool, parseTableRef('public.src')!);
  await setStage(db.pool, 'orders', 'shadow');
});
afterAll(async () => { await db?.drop(); });

/** Runs the worker until it has started and applied `applied` records (of `dataset`), then sends `signal`. */
function interruptAfter(file: string, dir: string, applied: number, signal: NodeJS.Signals, extra: string[] = [], dataset = 'orders'): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, '--config', file, 'stream', '--until-idle', '--format', 'json', ...extra], { cwd: dir, env: { ...process.env, DUALRUN_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    const poll = setInterval(() => {
      db.pool.query<{ n: number }>(`SELECT coalesce(sum(records_applied), 0)::int AS n FROM dualrun.stream_positions WHERE dataset = $1`, [dataset]).then((r) => {
        // Started (signal handlers in place) and past what it can read: it waits for the held-back changes.
        if (r.rows[0].n >= applied && stderr.includes('stream started')) { clearInterval(poll); setTimeout(() => child.kill(signal), 500); }
      }, reject);
    }, 200);
    setTimeout(() => { clearInterval(poll); child.kill('SIGKILL'); }, 90_000);
  });
}

it('regression: an interrupted --until-idle exits 143 (SIGTERM) or 130 (SIGINT), not 0, and says where it stopped', { timeout: 200_000 }, async () => {
  const { file, dir } = writeConfig({
    database: { url: db.url },
    datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.src', changelogRetention: 'forever' } } } }, // the replay below needs the history
  });
  await db.pool.query(`INSERT INTO public.src SELECT g, 1, 1.00, 'new', '2026-11-01' FROM generate_series(1, 20) g`);
  const holder = new pg.Client({ connectionString: serverUrl() });
  await holder.connect();
  await holder.query('BEGIN; CREATE TEMP TABLE hold (x int); INSERT INTO hold VALUES (1)');
  await db.pool.query(`INSERT INTO public.src SELECT g, 1, 1.00, 'new', '2026-11-01' FROM generate_series(21, 40) g`);
  try {
    const stored = async () => {
      const r = await db.pool.query<{ p: string }>(`SELECT position::text || '.' || sub_position::text AS p FROM dualrun.stream_positions WHERE dataset = 'orders' AND partition = 0`);
      return r.rows[0].p;
    };
    for (const [signal, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      const r = await interruptAfter(file, dir, 20, signal);
      expect(r.code, r.stderr).toBe(code);
      const at = await stored();
      expect(r.stderr).toContain('interrupted before idle');
      expect(r.stderr).toContain(`"0":"${at}"`);
      expect(JSON.parse(r.stdout)).toMatchObject({ interrupted: true, stoppedAt: [{ dataset: 'orders', source: 'changelog:public.src', partitions: { 0: at } }] });
    }
  } finally {
    await holder.query('COMMIT');
    await holder.end();
  }
  const done = await runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir });
  expect(done.code, done.stderr).toBe(0);
  expect((await db.pool.query('SELECT count(*)::int AS n FROM public.out')).rows[0].n).toBe(40);
});

it('a replay interrupted before its swap exits 143 and leaves the output as it was; the next replay swaps', { timeout: 200_000 }, async () => {
  const { file, dir } = writeConfig({
    database: { url: db.url },
    datasets: { orders: { key: ['order_id'], batch: { output: 'public.b' }, stream: { output: 'public.out', source: { table: 'public.src', changelogRetention: 'forever' } } } }, // the replay below needs the history
  });
  const before = (await db.pool.query('SELECT count(*)::int AS n FROM public.out')).rows[0].n;
  const holder = new pg.Client({ connectionString: serverUrl() });
  await holder.connect();
  await holder.query('BEGIN; CREATE TEMP TABLE hold (x int); INSERT INTO hold VALUES (1)');
  await db.pool.query(`INSERT INTO public.src SELECT g, 1, 1.00, 'new', '2026-11-01' FROM generate_series(1001, 1010) g`);
  try {
    // The rebuild reads what it can (the rows before the holder), then waits for the held-back ones.
    const r = await interruptAfter(file, dir, before, 'SIGTERM', ['--from-beginning', '--reset-output'], 'orders.rebuild');
    expect(r.code, r.stderr).toBe(143);
    expect(JSON.parse(r.stdout)).toMatchObject({ interrupted: true, replays: [{ swapped: false }] });
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.out')).rows[0].n).toBe(before);
  } finally {
    await holder.query('COMMIT');
    await holder.end();
  }
  const done = await runCli(['--config', file, 'stream', '--from-beginning', '--reset-output', '--until-idle', '--format', 'json'], { cwd: dir });
  expect(done.code, done.stderr).toBe(0);
  expect(JSON.parse(done.stdout).replays[0]).toMatchObject({ swapped: true, rebuiltRows: before + 10 });
  expect((await db.pool.query('SELECT count(*)::int AS n FROM public.out')).rows[0].n).toBe(before + 10);
  expect((await db.pool.query(`SELECT to_regclass('dualrun.rebuild_orders') AS t, (SELECT count(*)::int FROM dualrun.stream_positions WHERE dataset = 'orders.rebuild') AS side`)).rows[0]).toEqual({ t: null, side: 0 });
});
