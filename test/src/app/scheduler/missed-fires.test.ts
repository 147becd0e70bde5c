/**
 * A batch fire loads the newest due window and every window that became due since the job's
 * previous fire. Before, each fire loaded only its newest window, so a fire that never came
 * left a window unloaded for good: node-cron skips a wall-clock time the clocks jump over
 * (`30 2 * * *` in Europe/Paris fires 2026-03-28T01:30Z, then 2026-03-30T00:30Z: nothing on
 * the spring-forward night), skips a tick while the previous run still goes (noOverlap), and a
 * scheduler that is down fires nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createLogger } from '../../../../src/core/logger.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { plannedJobs } from '../../../../src/app/scheduler/planned-jobs.ts';
import { createScheduler, type Scheduler } from '../../../../src/app/scheduler/scheduler.ts';
import { fireWindows } from '../../../../src/app/scheduler/fire-windows.ts';

let db: TestDatabase;
let rt: Runtime;
let s: Scheduler;

const DATASETS = {
  paris: { key: ['id'], window: { column: 'at', timezone: 'Europe/Paris' }, batch: { output: 'public.paris_batch', query: 'paris.sql', schedule: '30 2 * * *' },
    stream: { output: 'public.paris_stream', source: { table: 'public.src' } } },
  hourly: { key: ['id'], window: { column: 'at', grain: 'hour' }, batch: { output: 'public.hourly_batch', query: 'hourly.sql', schedule: '5 * * * *' },
    stream: { output: 'public.hourly_stream', source: { table: 'public.src' } } },
};

beforeAll(async () => {
  db = await createTestDatabase('schedmiss');
  // One row an hour from 2026-03-26 to 2026-03-31 (UTC).
  await db.pool.query(`CREATE TABLE public.src (id int, at timestamptz);
    INSERT INTO public.src SELECT g, TIMESTAMPTZ '2026-03-26 00:00Z' + g * interval '1 hour' FROM generate_series(0, 143) g;
    CREATE TABLE public.paris_batch (LIKE public.src); CREATE TABLE public.hourly_batch (LIKE public.src);`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-schedmiss-'));
  for (const n of ['paris', 'hourly']) fs.writeFileSync(path.join(dir, `${n}.sql`), 'SELECT id, at FROM public.src WHERE at >= :window_start AND at < :window_end');
  const file = path.join(dir, 'dualrun.yaml');
  fs.writeFileSync(file, JSON.stringify({ database: { url: db.url, poolSize: 4 }, datasets: DATASETS }));
  rt = createRuntime({ config: compileConfig(JSON.parse(fs.readFileSync(file, 'utf8')), { path: file }), log: createLogger('silent') });
  s = createScheduler({ rt, jobs: plannedJobs(rt.config).jobs, graceMs: 1000 });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

const loaded = async (dataset: string) => (await db.pool.query<{ w: string; rows: number }>(
  `SELECT window_label AS w, rows::int FROM dualrun.batch_runs WHERE dataset = $1 AND status = 'succeeded' ORDER BY window_start`, [dataset])).rows;

describe('windows of fires that never came', () => {
  it("a daily 02:30 schedule in Europe/Paris no longer leaves the day before the spring-forward night unloaded", async () => {
    // The fire times node-cron 4 produces for '30 2 * * *' in Europe/Paris around 2026-03-29.
    expect((await s.fire('batch:paris', new Date('2026-03-28T01:30:00Z'))).detail).toMatch(/^window 2026-03-27: succeeded, 24 rows/);
    const after = await s.fire('batch:paris', new Date('2026-03-30T00:30:00Z'));
    expect(after.outcome, after.detail).toBe('succeeded');
    // Before: only 2026-03-29 was loaded; 2026-03-28 never was.
    expect(after.detail).toMatch(/^window 2026-03-28: succeeded, 24 rows .*; window 2026-03-29: succeeded, 23 rows/);
    expect(await loaded('paris')).toEqual([{ w: '2026-03-27', rows: 24 }, { w: '2026-03-28', rows: 24 }, { w: '2026-03-29', rows: 23 }]);
    // The next fire has nothing new.
    expect(await s.fire('batch:paris', new Date('2026-03-31T00:30:00Z'))).toMatchObject({ outcome: 'succeeded', detail: expect.stringMatching(/^window 2026-03-30: succeeded, 24 rows/) });
  });

  it('an hourly tick skipped while the previous load still ran (noOverlap) no longer loses its hour; windows already loaded are not redone', async () => {
    await s.fire('batch:hourly', new Date('2026-03-27T10:05:00Z'));
    // 11:05 was skipped by node-cron; 12:05 comes.
    const r = await s.fire('batch:hourly', new Date('2026-03-27T12:05:00Z'));
    expect(r.detail).toMatch(/^window 2026-03-27T10: succeeded, 1 rows .*; window 2026-03-27T11: succeeded, 1 rows/);
    expect((await loaded('hourly')).map((x) => x.w)).toEqual(['2026-03-27T09', '2026-03-27T10', '2026-03-27T11']);
    const again = await s.fire('batch:hourly', new Date('2026-03-27T12:06:00Z'));
    expect(again).toMatchObject({ outcome: 'skipped', detail: 'window 2026-03-27T11 already succeeded' });
  });

  it('a scheduler down for days loads at most 31 windows a fire, the newest, and names the older ones for a backfill', () => {
    const ds = rt.dataset('hourly');
    const w = fireWindows(ds, new Date('2026-03-30T00:05:00Z'), new Date('2026-03-27T12:05:00Z'));
    expect(w.windows.map((x) => x?.label)).toHaveLength(31);
    expect(w.windows[0]?.label).toBe('2026-03-28T17');
    expect(w.windows.at(-1)?.label).toBe('2026-03-29T23');
    expect(w.older).toEqual({ from: '2026-03-27T12', to: '2026-03-28T16', count: 29 });
    // The first fire of a job, and a whole-table dataset: the newest due window only.
    expect(fireWindows(ds, new Date('2026-03-30T00:05:00Z'), null).windows.map((x) => x?.label)).toEqual(['2026-03-29T23']);
  });
});
