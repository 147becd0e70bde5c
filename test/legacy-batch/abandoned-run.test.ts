/**
 * A SIGKILLed `batch run` cannot record its outcome. Its ledger row must not stay
 * `running` forever: the run's liveness lock vanished with its connection, so
 * `dualrun datasets` (and any later run) marks it `abandoned`.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { BIN, runCli } from '../support/cli.ts';
import { EVENTS_SQL, seedEvents, writeProject } from './support.ts';
import { compileConfig } from '../../src/core/config/compile-config.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createRuntime } from '../../src/core/runtime.ts';
import { parseWindow } from '../../src/core/windows.ts';
import { runWindow } from '../../legacy-batch/run-window.ts';
import { abandonOrphanedRuns } from '../../legacy-batch/run-ledger.ts';

let db: TestDatabase;
let dir: string;

beforeAll(async () => {
  db = await createTestDatabase('batch_abandon');
  await db.pool.query(EVENTS_SQL + seedEvents(['2026-11-19'], 50));
  dir = writeProject(db.url, { events: { batch: { output: 'public.events_batch', query: 'sql/slow.sql' } } }, {
    // Slow on purpose: the run is still loading when it is killed.
    'sql/slow.sql': 'SELECT id, day, amount, at, note, now() AS loaded_at FROM public.events, pg_sleep(30) WHERE day >= :window_start AND day < :window_end',
  });
});
afterAll(async () => { await db?.drop(); });

const runs = async () => (await db.pool.query<{ id: string; status: string; error_message: string | null }>('SELECT id::text, status, error_message FROM dualrun.batch_runs ORDER BY id')).rows;

it('a SIGKILLed batch run no longer stays `running` forever: datasets shows it abandoned', { timeout: 60_000 }, async () => {
  const cfg = path.join(dir, 'dualrun.yaml');
  const child = spawn(process.execPath, [BIN, '--config', cfg, 'batch', 'run', 'events', '--window', '2026-11-19'], { env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' }, stdio: 'ignore' });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !(await runs().catch(() => [])).some((r) => r.status === 'running')) await new Promise((r) => setTimeout(r, 100));
  expect((await runs()).map((r) => r.status)).toEqual(['running']);
  // While the run is alive, asking for status must not abandon it.
  const alive = await runCli(['--config', cfg, 'datasets', '--format', 'json']);
  expect(alive.code, alive.stderr).toBe(0);
  expect(JSON.parse(alive.stdout)[0].lastBatchRun.status).toBe('running');
  child.kill('SIGKILL');
  await new Promise((r) => child.once('close', r));
  // The killed client's backend ends when Postgres notices the closed socket (at once on localhost).
  let status = '';
  for (let i = 0; i < 50 && status !== 'abandoned'; i++) {
    const r = await runCli(['--config', cfg, 'datasets', '--format', 'json']);
    expect(r.code, r.stderr).toBe(0);
    status = JSON.parse(r.stdout)[0].lastBatchRun.status;
    if (status !== 'abandoned') await new Promise((res) => setTimeout(res, 200));
  }
  expect(status).toBe('abandoned');
  const [row] = await runs();
  expect(row).toMatchObject({ status: 'abandoned' });
  expect(row.error_message).toMatch(/ended without recording an outcome/);
});

it('a run left `running` by an earlier process with this host and pid (a restarted container is pid 1 again) no longer stays running forever; a run this process is doing is kept', { timeout: 60_000 }, async () => {
  const file = path.join(dir, 'dualrun.yaml');
  const rt = createRuntime({ config: compileConfig(JSON.parse(fs.readFileSync(file, 'utf8')), { path: file }), log: createLogger('silent') });
  try {
    const toolkit = await rt.db();
    await db.pool.query('DELETE FROM dualrun.batch_runs');
    const stop = new AbortController();
    const live = runWindow(rt, rt.dataset('events'), parseWindow('2026-11-19', 'day'), { trigger: 'schedule', signal: stop.signal });
    while (!(await runs()).some((r) => r.status === 'running')) await new Promise((r) => setTimeout(r, 100));
    // What the killed incarnation left: its row, no lock (its connections are gone).
    const dead = (await db.pool.query<{ id: string }>(`INSERT INTO dualrun.batch_runs (dataset, mode, status, trigger, host, pid)
      VALUES ('events', 'managed', 'running', 'schedule', $1, $2) RETURNING id`, [os.hostname(), process.pid])).rows[0].id;
    // Before: 0 (rows of this host and pid were skipped as this process's own).
    expect(await abandonOrphanedRuns(toolkit)).toBe(1);
    const rows = await runs();
    expect(rows.find((r) => r.id === dead)).toMatchObject({ status: 'abandoned', error_message: expect.stringMatching(/ended without recording an outcome/) });
    expect(rows.find((r) => r.id !== dead)).toMatchObject({ status: 'running' });
    stop.abort(new Error('test over'));
    expect((await live).status).toBe('abandoned');
  } finally {
    await rt.close();
  }
});
