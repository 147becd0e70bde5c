import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { BIN } from '../../../support/cli.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createLogger } from '../../../../src/core/logger.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { plannedJobs } from '../../../../src/app/scheduler/planned-jobs.ts';
import { createScheduler } from '../../../../src/app/scheduler/scheduler.ts';
import { parseWindow } from '../../../../src/core/windows.ts';
import { runWindow } from '../../../../legacy-batch/run-window.ts';

let db: TestDatabase;
let dir: string;
const runtimes: Runtime[] = [];

/** A whole-table dataset `slow` whose load takes ~sleep seconds, and a daily one `daily`. */
function project(sleep: number, cronExpr: string): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-sched-'));
  fs.writeFileSync(path.join(d, 'slow.sql'), `SELECT g AS id, now() AS loaded_at FROM generate_series(1, 100) g, pg_sleep(${sleep})`);
  fs.writeFileSync(path.join(d, 'daily.sql'), 'SELECT id, day FROM public.src WHERE day >= :window_start AND day < :window_end');
  const stream = (n: string) => ({ output: `public.${n}_stream`, source: { table: 'public.src' } });
  fs.writeFileSync(path.join(d, 'dualrun.yaml'), JSON.stringify({
    database: { url: db.url, poolSize: 4 },
    report: { schedule: '0 6 * * *', dir: 'reports' },
    datasets: {
      slow: { key: ['id'], batch: { output: 'public.slow_batch', query: 'slow.sql', schedule: cronExpr }, stream: stream('slow') },
      daily: { key: ['id'], window: { column: 'day' }, batch: { output: 'public.daily_batch', query: 'daily.sql', schedule: '0 2 * * *' }, stream: stream('daily'),
        reconcile: { schedule: '30 3 * * *' } },
      legacy: { key: ['id'], window: { column: 'day' }, stream: stream('legacy'), batch: {
        output: 'public.src', schedule: '*/10 * * * *',
        completion: 'SELECT 1 FROM public.legacy_done WHERE day >= :window_start AND day < :window_end' } },
    },
  }));
  return d;
}

function runtime(configDir: string): Runtime {
  const file = path.join(configDir, 'dualrun.yaml');
  const rt = createRuntime({ config: compileConfig(JSON.parse(fs.readFileSync(file, 'utf8')), { path: file }), log: createLogger('silent') });
  runtimes.push(rt);
  return rt;
}

beforeAll(async () => {
  db = await createTestDatabase('sched');
  await db.pool.query(`CREATE TABLE public.slow_batch (id int, loaded_at timestamptz);
    CREATE TABLE public.src (id int, day date); CREATE TABLE public.daily_stream (id int, day date); CREATE TABLE public.legacy_done (day date); CREATE TABLE public.daily_batch (id int, day date);
    INSERT INTO public.src SELECT g, DATE '2026-11-20' + (g % 3) FROM generate_series(1, 300) g`);
  dir = project(0.5, '0 * * * *');
});
afterAll(async () => {
  await Promise.all(runtimes.map((r) => r.close()));
  await db?.drop();
});

const runsOf = async (dataset: string) => (await db.pool.query(
  'SELECT window_label, status, trigger, rows::int FROM dualrun.batch_runs WHERE dataset = $1 ORDER BY id', [dataset])).rows;

describe('scheduler fires', () => {
  it('two schedulers firing the same job at once run it once; a later fire of the same time is skipped', async () => {
    const [a, b, late] = [runtime(dir), runtime(dir), runtime(dir)].map((rt) => createScheduler({ rt, jobs: plannedJobs(rt.config).jobs, graceMs: 1000 }));
    const at = new Date('2026-11-21T10:00:00Z');
    const results = await Promise.all([a.fire('batch:slow', at), b.fire('batch:slow', at)]);
    expect(results.map((r) => r.outcome).sort()).toEqual(['succeeded', 'taken']);
    // A scheduler whose clock is late fires after the first finished and released its lock.
    expect((await late.fire('batch:slow', new Date(at.getTime() + 400))).outcome).toBe('taken');
    expect(await runsOf('slow')).toEqual([{ window_label: null, status: 'succeeded', trigger: 'schedule', rows: 100 }]);
    const fires = await db.pool.query(`SELECT job, fire_at, outcome FROM dualrun.scheduler_fires WHERE job = 'batch:slow'`);
    expect(fires.rows).toEqual([{ job: 'batch:slow', fire_at: at, outcome: 'succeeded' }]);
  });

  it('runs the newest ended window, skips it once loaded, and respects the stage', async () => {
    const s = createScheduler({ rt: runtime(dir), jobs: plannedJobs(runtime(dir).config).jobs, graceMs: 1000 });
    expect((await s.fire('batch:daily', new Date('2026-11-22T02:00:00Z'))).detail).toMatch(/window 2026-11-21: succeeded, 100 rows/);
    expect((await s.fire('batch:daily', new Date('2026-11-22T03:00:00Z'))).outcome).toBe('skipped');
    await db.pool.query(`INSERT INTO dualrun.stages (dataset, stage) VALUES ('daily', 'streaming-only')`);
    const retired = await s.fire('batch:daily', new Date('2026-11-23T02:00:00Z'));
    expect(retired).toMatchObject({ outcome: 'skipped', detail: 'stage streaming-only: the legacy batch is retired' });
    expect((await runsOf('daily')).map((r) => r.window_label)).toEqual(['2026-11-21']);
  });

  it('reconciles only while both paths run, and writes the nightly report', async () => {
    const rt = runtime(dir);
    const s = createScheduler({ rt, jobs: plannedJobs(rt.config).jobs, graceMs: 1000 });
    await db.pool.query(`DELETE FROM dualrun.stages WHERE dataset = 'daily'`);
    expect(await s.fire('reconcile:daily', new Date('2026-11-22T03:30:00Z'))).toMatchObject({ outcome: 'skipped', detail: 'stage batch: nothing to reconcile (both paths must run)' });
    await db.pool.query(`INSERT INTO dualrun.stages (dataset, stage) VALUES ('daily', 'shadow')`);
    const judged = await s.fire('reconcile:daily', new Date('2026-11-22T03:31:00Z'));
    expect(judged.outcome, judged.detail).toBe('succeeded');
    const report = await s.fire('report', new Date('2026-11-22T06:00:00Z'));
    expect(report.outcome, report.detail).toBe('succeeded');
    expect(fs.readdirSync(path.join(dir, 'reports')).sort()).toEqual(['dualrun-report-2026-11-22.html', 'dualrun-report-2026-11-22.md']);
  });

  it('records an adopted window once batch.completion says the external job finished it', async () => {
    const s = createScheduler({ rt: runtime(dir), jobs: plannedJobs(runtime(dir).config).jobs, graceMs: 1000 });
    const waiting = await s.fire('batch:legacy', new Date('2026-11-22T01:00:00Z'));
    expect(waiting).toMatchObject({ outcome: 'skipped', detail: 'window 2026-11-21: external job not finished yet (checked again at later fires)' });
    await db.pool.query(`INSERT INTO public.legacy_done VALUES ('2026-11-21')`);
    expect((await s.fire('batch:legacy', new Date('2026-11-22T01:10:00Z'))).outcome).toBe('succeeded');
    expect((await s.fire('batch:legacy', new Date('2026-11-22T01:20:00Z'))).outcome).toBe('skipped');
    expect(await runsOf('legacy')).toEqual([{ window_label: '2026-11-21', status: 'succeeded', trigger: 'schedule', rows: 100 }]);
  });

  it('a window loaded before it ended is partial and loaded again once due (a partial load read as complete forever)', async () => {
    const rt = runtime(dir);
    await db.pool.query(`DELETE FROM dualrun.stages WHERE dataset = 'daily'`);
    const ds = rt.dataset('daily');
    const w = parseWindow('2026-11-20', 'day');
    const midday = new Date('2026-11-20T12:00:00Z');
    await expect(runWindow(rt, ds, w, { trigger: 'cli', now: midday })).rejects.toMatchObject({ code: 'DUALRUN_WINDOW_NOT_DUE', exitCode: 2 });
    expect(await runWindow(rt, ds, w, { trigger: 'cli', partial: true, now: midday })).toMatchObject({ status: 'partial', rows: 100 });
    const s = createScheduler({ rt, jobs: plannedJobs(rt.config).jobs, graceMs: 1000 });
    const fired = await s.fire('batch:daily', new Date('2026-11-21T02:00:00Z'));
    expect(fired.detail).toMatch(/^window 2026-11-20: succeeded, 100 rows/);
    expect((await s.fire('batch:daily', new Date('2026-11-21T03:00:00Z'))).outcome).toBe('skipped');
    expect((await runsOf('daily')).filter((r) => r.window_label === '2026-11-20').map((r) => r.status)).toEqual(['partial', 'succeeded']);
  });
});

interface Proc { child: ChildProcess; exit: Promise<number | null>; stderr: () => string }
function startScheduler(configDir: string, grace: string): Proc {
  const child = spawn(process.execPath, [BIN, '--config', path.join(configDir, 'dualrun.yaml'), 'schedule', '--grace', grace],
    { env: { ...process.env, DUALRUN_LOG_LEVEL: 'info' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  return { child, exit: new Promise((r) => child.on('exit', (code) => r(code))), stderr: () => err };
}
const until = async (cond: () => Promise<boolean>, ms = 30_000) => {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 200))) if (await cond()) return;
  throw new Error('timed out waiting');
};

describe('dualrun schedule processes', () => {
  it('two schedulers on a 2-second cron run each fire once, and stop cleanly on SIGTERM', async () => {
    await db.pool.query(`TRUNCATE dualrun.batch_runs; DELETE FROM dualrun.scheduler_fires`);
    const d = project(0.2, '*/2 * * * * *');
    const procs = [startScheduler(d, '10s'), startScheduler(d, '10s')];
    await until(async () => (await db.pool.query(`SELECT count(*)::int AS n FROM dualrun.scheduler_fires WHERE job = 'batch:slow' AND outcome IS NOT NULL`)).rows[0].n >= 3);
    for (const p of procs) p.child.kill('SIGTERM');
    expect(await Promise.all(procs.map((p) => p.exit))).toEqual([0, 0]);
    const fires = (await db.pool.query(`SELECT fire_at, claimed_by, outcome FROM dualrun.scheduler_fires WHERE job = 'batch:slow'`)).rows;
    const runs = await runsOf('slow');
    expect(runs.length).toBe(fires.length);
    expect(runs.every((r) => r.status === 'succeeded')).toBe(true);
    expect(fires.every((f) => f.outcome === 'succeeded')).toBe(true);
    // A whole-table dataset is replaced by each run, never appended to.
    expect((await db.pool.query('SELECT count(*)::int AS n FROM public.slow_batch')).rows[0].n).toBe(100);
    // Both processes had the job scheduled (so every fire was contested).
    expect(procs.every((p) => /"job":"batch:slow".*"job scheduled"/.test(p.stderr()))).toBe(true);
  }, 60_000);

  it('SIGTERM past the grace period cancels the running load and the ledger says abandoned', async () => {
    await db.pool.query(`TRUNCATE dualrun.batch_runs; DELETE FROM dualrun.scheduler_fires; TRUNCATE public.slow_batch; INSERT INTO public.slow_batch VALUES (-1, now())`);
    const d = project(30, '*/1 * * * * *');
    const p = startScheduler(d, '1s');
    await until(async () => (await runsOf('slow')).some((r) => r.status === 'running'));
    const t0 = Date.now();
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    expect(Date.now() - t0).toBeLessThan(10_000);
    const runs = await db.pool.query(`SELECT status, error_message FROM dualrun.batch_runs WHERE dataset = 'slow'`);
    expect(runs.rows).toHaveLength(1);
    expect(runs.rows[0].status).toBe('abandoned');
    expect(runs.rows[0].error_message).toMatch(/stopped by scheduler shutdown before the load committed/);
    expect((await db.pool.query(`SELECT outcome FROM dualrun.scheduler_fires WHERE job = 'batch:slow'`)).rows).toEqual([{ outcome: 'abandoned' }]);
    // The previous content is intact.
    expect((await db.pool.query('SELECT id FROM public.slow_batch')).rows).toEqual([{ id: -1 }]);
  }, 60_000);
});
