import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { EVENTS_SQL, seedEvents, writeProject } from './support.ts';

const QUERY = `-- one window of events
SELECT id, day, amount, at, note, now() AS loaded_at
FROM public.events
WHERE day >= :window_start AND day < :window_end;`;

let db: TestDatabase;
let dir: string;
const cfg = () => ['--config', path.join(dir, 'dualrun.yaml')];

beforeAll(async () => {
  db = await createTestDatabase('batch');
  await db.pool.query(EVENTS_SQL + seedEvents(['2026-11-18', '2026-11-19', '2026-11-20'], 500) + 'CREATE TABLE public.events_batch_b (LIKE public.events_batch);');
  dir = writeProject(db.url, {
    events: { batch: { output: 'public.events_batch', query: 'sql/events.sql' } },
    broken: { batch: { output: 'public.events_batch_b', query: 'sql/broken.sql' } },
    missing: { batch: { output: 'public.no_such_output', query: 'sql/events.sql' } },
  }, {
    'sql/events.sql': QUERY,
    'sql/broken.sql': 'SELEC id FROM public.events WHERE day >= :window_start',
  });
});
afterAll(async () => { await db?.drop(); });

const windowRows = async (day: string) => (await db.pool.query(
  'SELECT id, day::text, amount::text, at, note FROM public.events_batch WHERE day = $1 ORDER BY id', [day])).rows;

describe('managed batch run', () => {
  it('runs the same window twice with identical rows and count', async () => {
    const first = await runCli([...cfg(), 'batch', 'run', 'events', '--window', '2026-11-19', '--format', 'json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ dataset: 'events', window: '2026-11-19', status: 'succeeded', rows: 500 });
    const once = await windowRows('2026-11-19');
    const second = await runCli([...cfg(), 'batch', 'run', 'events', '--window', '2026-11-19', '--format', 'json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).rows).toBe(500);
    expect(await windowRows('2026-11-19')).toEqual(once);
    expect(once).toHaveLength(500);
    // microseconds and numeric scale survive
    expect(once[0].amount).toBe('1.37');
    const ledger = await db.pool.query(`SELECT status, rows, mode, snapshot_at IS NOT NULL AS snap FROM dualrun.batch_runs WHERE dataset = 'events' ORDER BY id`);
    expect(ledger.rows).toEqual([
      { status: 'succeeded', rows: '500', mode: 'managed', snap: true },
      { status: 'succeeded', rows: '500', mode: 'managed', snap: true },
    ]);
  });

  it('exits 3 naming dataset, window and the database message for bad SQL; a missing output is a config mistake (exit 2), still a failed run', async () => {
    const bad = await runCli([...cfg(), 'batch', 'run', 'broken', '--window', '2026-11-19']);
    expect(bad.code).toBe(3);
    expect(bad.stderr).toMatch(/DUALRUN_BATCH_FAILED: batch run of dataset broken, window 2026-11-19 failed: syntax error at or near "SELEC" \[SQLSTATE 42601\]/);
    const missing = await runCli([...cfg(), 'batch', 'run', 'missing', '--window', '2026-11-19']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/DUALRUN_CONFIG_INVALID: invalid config \S+: datasets\.missing\.batch\.output: table public\.no_such_output does not exist/);
    const ledger = await db.pool.query(`SELECT dataset, status, error_code, error->>'message' AS m FROM dualrun.batch_runs WHERE dataset IN ('broken', 'missing') ORDER BY id`);
    expect(ledger.rows).toEqual([
      { dataset: 'broken', status: 'failed', error_code: '42601', m: 'syntax error at or near "SELEC"' },
      { dataset: 'missing', status: 'failed', error_code: null, m: expect.stringContaining('datasets.missing.batch.output: table public.no_such_output does not exist') },
    ]);
  });
});

describe('failure, backfill and adoption', () => {
  it('a query failing half-way leaves the window untouched and a failed ledger row with the SQLSTATE', async () => {
    await runCli([...cfg(), 'batch', 'run', 'events', '--window', '2026-11-20']);
    const before = await windowRows('2026-11-20');
    expect(before).toHaveLength(500);
    // Same dataset, now with a query that divides by zero on the 300th row of the window.
    const failing = writeProject(db.url, { events: { batch: { output: 'public.events_batch', query: 'q.sql' } } }, {
      'q.sql': `SELECT id, day, amount / (id % 1000000 - 300) * 0 + amount AS amount, at, note FROM public.events
                WHERE day >= :window_start AND day < :window_end ORDER BY id`,
    });
    const r = await runCli(['--config', path.join(failing, 'dualrun.yaml'), 'batch', 'run', 'events', '--window', '2026-11-20']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/dataset events, window 2026-11-20 failed: division by zero \[SQLSTATE 22012\]/);
    expect(await windowRows('2026-11-20')).toEqual(before);
    const last = await db.pool.query(`SELECT status, error_code, error_message, error->>'severity' AS severity, rows, finished_at IS NOT NULL AS finished
      FROM dualrun.batch_runs WHERE dataset = 'events' AND window_label = '2026-11-20' ORDER BY id DESC LIMIT 1`);
    expect(last.rows[0]).toEqual({ status: 'failed', error_code: '22012', error_message: 'division by zero', severity: 'ERROR', rows: null, finished: true });
  });

  it('backfills in order, resumes after a failure and reruns only with --rerun', async () => {
    const bf = writeProject(db.url, { backfilled: { batch: { output: 'public.events_bf', query: 'q.sql' } } }, {
      // 2026-11-19 fails until the guard row is removed.
      'q.sql': `SELECT id, day, amount / CASE WHEN EXISTS (SELECT 1 FROM public.guard g WHERE g.day = e.day) THEN 0 ELSE 1 END AS amount
                FROM public.events e WHERE day >= :window_start AND day < :window_end`,
    });
    await db.pool.query(`CREATE TABLE public.events_bf (id bigint PRIMARY KEY, day date NOT NULL, amount numeric);
                         CREATE TABLE public.guard (day date); INSERT INTO public.guard VALUES ('2026-11-19')`);
    const c = ['--config', path.join(bf, 'dualrun.yaml'), 'batch', 'run', 'backfilled', '--from', '2026-11-18', '--to', '2026-11-20', '--format', 'json'];
    const first = await runCli(c);
    expect(first.code).toBe(3);
    expect(JSON.parse(first.stdout).map((x: { status: string }) => x.status)).toEqual(['succeeded', 'failed', 'not-run']);
    await db.pool.query('DELETE FROM public.guard');
    const second = await runCli(c);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).map((x: { status: string }) => x.status)).toEqual(['skipped', 'succeeded', 'succeeded']);
    const third = await runCli([...c, '--rerun']);
    expect(JSON.parse(third.stdout).map((x: { status: string }) => x.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.events_bf')).rows[0].n).toBe(1500);
  });

  it('a window that has not ended is refused (exit 2, saying when it can run) unless --partial, which is never complete (a window loaded before it ended read as complete forever)', async () => {
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const statuses = async () => (await db.pool.query(`SELECT status FROM dualrun.batch_runs WHERE dataset = 'events' AND window_label = $1 ORDER BY id`, [today])).rows.map((r) => r.status);
    const early = await runCli([...cfg(), 'batch', 'run', 'events', '--window', today]);
    expect(early.code).toBe(2);
    expect(early.stderr).toMatch(new RegExp(`DUALRUN_WINDOW_NOT_DUE: dataset events, window ${today} cannot be loaded as complete yet: it ends \\S+ and the settle allowance \\(datasets\\.events\\.reconcile\\.settle\\) runs until \\S+; run it then, or pass --partial`));
    // A backfill reaching into it refuses before loading anything.
    const range = await runCli([...cfg(), 'batch', 'run', 'events', '--from', yesterday, '--to', today]);
    expect(range.code).toBe(2);
    expect(await statuses()).toEqual([]);
    const partial = await runCli([...cfg(), 'batch', 'run', 'events', '--window', today, '--partial', '--format', 'json']);
    expect(partial.code, partial.stderr).toBe(0);
    expect(JSON.parse(partial.stdout)).toMatchObject({ window: today, status: 'partial' });
    // Never complete: a backfill over it loads it again instead of skipping it as done.
    const again = await runCli([...cfg(), 'batch', 'run', 'events', '--from', today, '--to', today, '--partial', '--format', 'json']);
    expect(JSON.parse(again.stdout).map((x: { status: string }) => x.status)).toEqual(['partial']);
    expect(await statuses()).toEqual(['partial', 'partial']);
    const adopt = await runCli([...cfg(), 'batch', 'adopt', 'events', '--window', today]);
    expect(adopt.code).toBe(2);
    expect(adopt.stderr).toContain(`window ${today} cannot be adopted as complete yet`);
  });

  it('adopts a window written by an external job, with the rows seen now', async () => {
    const ad = writeProject(db.url, { legacy: { batch: { output: 'public.events' } } });
    const r = await runCli(['--config', path.join(ad, 'dualrun.yaml'), 'batch', 'adopt', 'legacy', '--window', '2026-11-18', '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ dataset: 'legacy', window: '2026-11-18', rows: 500 });
    const row = (await db.pool.query(`SELECT mode, status, rows::int, snapshot_at IS NOT NULL AS snap FROM dualrun.batch_runs WHERE dataset = 'legacy'`)).rows;
    expect(row).toEqual([{ mode: 'adopted', status: 'succeeded', rows: 500, snap: true }]);
    const noQuery = await runCli(['--config', path.join(ad, 'dualrun.yaml'), 'batch', 'run', 'legacy', '--window', '2026-11-18']);
    expect(noQuery.code).toBe(2);
    expect(noQuery.stderr).toMatch(/no batch.query.*batch adopt/);
  });
});
