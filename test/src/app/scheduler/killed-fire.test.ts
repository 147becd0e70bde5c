/**
 * A `dualrun schedule` SIGKILLed while a fire loads its window. The fire's row in
 * dualrun.scheduler_fires kept `outcome` NULL forever, and the next fire counted it as the
 * job's previous fire: it handled only windows due after it, so the killed fire's window was
 * never loaded by any later fire (no alert either: the run was `abandoned`, not `failed`).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { spawn } from 'node:child_process';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createLogger } from '../../../../src/core/logger.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { plannedJobs } from '../../../../src/app/scheduler/planned-jobs.ts';
import { createScheduler } from '../../../../src/app/scheduler/scheduler.ts';

const RUN_TS = fileURLToPath(new URL('../../../../bin/run-ts.js', import.meta.url));
const CHILD = fileURLToPath(new URL('./fire-once-child.ts', import.meta.url));
const GATE = 4343; // the batch query waits on this lock while the test holds it
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
let db: TestDatabase;
let file: string;
let rt: Runtime;

beforeAll(async () => {
  db = await createTestDatabase('sched_killed');
  await db.pool.query(`CREATE TABLE public.src (id int, day date); CREATE TABLE public.ev_batch (LIKE public.src);
    INSERT INTO public.src SELECT g, DATE '${day(-2)}' FROM generate_series(1, 20) g;
    INSERT INTO public.src SELECT 100 + g, DATE '${day(-1)}' FROM generate_series(1, 5) g;`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-schedkill-'));
  fs.writeFileSync(path.join(dir, 'ev.sql'), `SELECT id, day FROM public.src, pg_advisory_xact_lock_shared(${GATE}) WHERE day >= :window_start AND day < :window_end`);
  file = path.join(dir, 'dualrun.yaml');
  fs.writeFileSync(file, JSON.stringify({ database: { url: db.url, poolSize: 4 }, datasets: {
    ev: { key: ['id'], window: { column: 'day' }, batch: { output: 'public.ev_batch', query: 'ev.sql', schedule: '0 2 * * *' },
      stream: { output: 'public.ev_stream', source: { table: 'public.src' } } },
  } }));
  rt = createRuntime({ config: compileConfig(JSON.parse(fs.readFileSync(file, 'utf8')), { path: file }), log: createLogger('silent') });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

it("a fire whose scheduler was SIGKILLed mid-load no longer loses its window: the next fire loads it and the fire row is marked abandoned", { timeout: 60_000 }, async () => {
  const gate = await db.pool.connect();
  await gate.query('SELECT pg_advisory_lock($1)', [GATE]);
  // Yesterday's 02:00 fire (it loads the day before yesterday), in a process SIGKILLed mid-load.
  const killedAt = new Date(`${day(-1)}T02:00:00Z`);
  const child = spawn(process.execPath, [RUN_TS, CHILD, file, 'batch:ev', killedAt.toISOString()], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    const deadline = Date.now() + 30_000;
    let running = 0;
    while (Date.now() < deadline && running === 0) {
      running = (await db.pool.query(`SELECT 1 FROM dualrun.batch_runs WHERE status = 'running'`).catch(() => ({ rowCount: 0 }))).rowCount ?? 0;
      if (!running) await new Promise((r) => setTimeout(r, 100));
    }
    expect(running, stderr).toBe(1);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
  } finally {
    await gate.query('SELECT pg_advisory_unlock($1)', [GATE]);
    gate.release();
  }
  // A scheduler starting afterwards marks the dead fire, so no fire row stays without an outcome.
  const starting = createScheduler({ rt, jobs: plannedJobs(rt.config).jobs, graceMs: 1000 });
  await starting.start();
  await starting.stop();
  expect((await db.pool.query('SELECT outcome, detail FROM dualrun.scheduler_fires')).rows)
    .toEqual([{ outcome: 'abandoned', detail: expect.stringMatching(/ended without recording an outcome/) }]);
  // Today's 02:00 fire, by a scheduler started afterwards.
  const s = createScheduler({ rt, jobs: plannedJobs(rt.config).jobs, graceMs: 1000 });
  const next = await s.fire('batch:ev', new Date(`${day(0)}T02:00:00Z`));
  expect(next.outcome, next.detail).toBe('succeeded');
  // Before: only the day after was loaded; the killed fire's window never was.
  expect(next.detail).toMatch(new RegExp(`^window ${day(-2)}: succeeded, 20 rows .*; window ${day(-1)}: succeeded, 5 rows`));
  expect((await db.pool.query('SELECT count(*)::int AS n FROM public.ev_batch')).rows[0].n).toBe(25);
  // No fire row without an outcome forever.
  const fires = (await db.pool.query<{ outcome: string | null }>('SELECT outcome FROM dualrun.scheduler_fires ORDER BY fire_at')).rows.map((r) => r.outcome);
  expect(fires).toEqual(['abandoned', 'succeeded']);
  const ledger = (await db.pool.query<{ status: string }>('SELECT status FROM dualrun.batch_runs ORDER BY id')).rows.map((r) => r.status);
  expect(ledger).toEqual(['abandoned', 'succeeded', 'succeeded']);
});
