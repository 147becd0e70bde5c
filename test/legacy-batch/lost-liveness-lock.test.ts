/**
 * A run whose liveness connection is terminated (pg_terminate_backend, a network cut)
 * while its load is still going: another process's orphan check marks it `abandoned`.
 * The load then committed anyway and reported `succeeded`, while the ledger said
 * `abandoned` ("ended without recording an outcome"): the CLI and the ledger disagreed,
 * and finishRun's UPDATE … WHERE status = 'running' silently changed nothing.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { EVENTS_SQL, seedEvents, writeProject } from './support.ts';
import { compileConfig } from '../../src/core/config/compile-config.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createRuntime } from '../../src/core/runtime.ts';
import { parseWindow } from '../../src/core/windows.ts';
import { runWindow } from '../../legacy-batch/run-window.ts';
import { finishRun, startRun } from '../../legacy-batch/run-ledger.ts';

const GATE = 4242; // the batch query waits on this lock, so the test decides when the load goes on
let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase('batch_liveness');
  await db.pool.query(EVENTS_SQL + seedEvents(['2026-11-19'], 50));
  // What the window held before: one row of an earlier load.
  await db.pool.query(`INSERT INTO public.events_batch (id, day, note) VALUES (-1, '2026-11-19', 'before')`);
  dir = writeProject(db.url, { events: { batch: { output: 'public.events_batch', query: 'sql/gated.sql' } } }, {
    'sql/gated.sql': `SELECT id, day, amount, at, note, now() AS loaded_at FROM public.events, pg_advisory_xact_lock_shared(${GATE})
      WHERE day >= :window_start AND day < :window_end`,
  });
});
afterAll(async () => { await db?.drop(); });

const ledger = async () => (await db.pool.query<{ status: string; rows: string | null }>('SELECT status, rows FROM dualrun.batch_runs ORDER BY id')).rows;
const output = async () => (await db.pool.query<{ n: number; before: number }>(`SELECT count(*)::int AS n, count(*) FILTER (WHERE note = 'before')::int AS before FROM public.events_batch`)).rows[0];

it('a load whose liveness lock was lost and whose run another process marked abandoned no longer commits and reports succeeded', { timeout: 60_000 }, async () => {
  const file = path.join(dir, 'dualrun.yaml');
  const rt = createRuntime({ config: compileConfig(JSON.parse(fs.readFileSync(file, 'utf8')), { path: file }), log: createLogger('silent') });
  const gate = await db.pool.connect();
  try {
    await gate.query('SELECT pg_advisory_lock($1)', [GATE]);
    const live = runWindow(rt, rt.dataset('events'), parseWindow('2026-11-19', 'day'), { trigger: 'cli' });
    let pid: number | undefined;
    while (!pid) {
      // This database's only: pg_locks is the server's, and other tests' runs hold the same kind of lock in theirs.
      pid = (await db.pool.query<{ pid: number }>(`SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid::text::bigint = ${0x6452756e}
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows[0]?.pid;
      if (!pid) await new Promise((r) => setTimeout(r, 50));
    }
    await db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
    while ((await db.pool.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rowCount) await new Promise((r) => setTimeout(r, 50));
    // Another process (here `dualrun datasets`) finds the run without its lock.
    const other = await runCli(['--config', file, 'datasets', '--format', 'json']);
    expect(other.code, other.stderr).toBe(0);
    expect(JSON.parse(other.stdout)[0].lastBatchRun.status).toBe('abandoned');
    await gate.query('SELECT pg_advisory_unlock($1)', [GATE]);
    const res = await live;
    // Before the fix: `succeeded`, 50 new rows, ledger `abandoned`.
    expect(res.status).toBe('failed');
    expect(res.error?.message).toMatch(/liveness lock/);
    expect(await output()).toEqual({ n: 1, before: 1 });
    expect((await ledger()).map((r) => r.status)).toEqual(['abandoned']);
    // The next normal run recovers without manual SQL.
    const next = await runWindow(rt, rt.dataset('events'), parseWindow('2026-11-19', 'day'), { trigger: 'cli' });
    expect(next.status).toBe('succeeded');
    expect(await output()).toEqual({ n: 50, before: 0 });
    expect(await ledger()).toEqual([{ status: 'abandoned', rows: null }, { status: 'succeeded', rows: '50' }]);
  } finally {
    gate.release();
    await rt.close();
  }
});

it('recording the end of a run another process already ended throws instead of changing nothing', async () => {
  const id = await startRun(db.pool, { dataset: 'events', window: null, mode: 'managed', trigger: 'cli' });
  await db.pool.query(`UPDATE dualrun.batch_runs SET status = 'abandoned' WHERE id = $1`, [id]);
  await expect(finishRun(db.pool, id, { status: 'succeeded', rows: 3, snapshotAt: new Date() })).rejects.toThrow(/already says abandoned/);
  expect((await db.pool.query('SELECT status FROM dualrun.batch_runs WHERE id = $1', [id])).rows[0].status).toBe('abandoned');
});
