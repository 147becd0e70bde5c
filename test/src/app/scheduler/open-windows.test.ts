/**
 * Windows a batch fire could not settle were never handled again. Each fire looked only at its
 * newest due window and those due since the previous fire, so:
 * - an adopted window whose external job had not finished at its fire (no completion row yet)
 *   was never adopted, though the job finished it an hour later: the reconciler answered
 *   `pending` for it forever and the gate only listed it among its `gaps`;
 * - a managed window whose load failed (a transient error) was never retried by later fires.
 * Now such windows stay open (dualrun.batch_open_windows) and later fires handle them again:
 * waiting windows until the job finishes them, failed ones at most MAX_FIRE_ATTEMPTS fires.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createLogger } from '../../../../src/core/logger.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { plannedJobs } from '../../../../src/app/scheduler/planned-jobs.ts';
import { createScheduler, type FireResult, type Scheduler } from '../../../../src/app/scheduler/scheduler.ts';
import { datasetStatuses } from '../../../../src/app/dataset-status.ts';
import { runWindow } from '../../../../legacy-batch/run-window.ts';
import { parseWindow } from '../../../../src/core/windows.ts';
import { withOpenWindows } from '../../../../src/app/scheduler/fire-open-windows.ts';
import { markOpen, MAX_FIRE_ATTEMPTS, openWindows } from '../../../../legacy-batch/open-windows.ts';

let db: TestDatabase;
let rt: Runtime;
let s: Scheduler;

const COMPLETION = 'SELECT finished_at FROM public.etl_log WHERE day >= :window_start AND day < :window_end';
const DATASETS = {
  legacy: { key: ['id'], window: { column: 'day' }, batch: { output: 'public.legacy_batch', completion: COMPLETION, schedule: '0 2 * * *' },
    stream: { output: 'public.legacy_stream', source: { table: 'public.src' } } },
  flaky: { key: ['id'], window: { column: 'day' }, batch: { output: 'public.flaky_batch', query: 'flaky.sql', schedule: '0 3 * * *' },
    stream: { output: 'public.flaky_stream', source: { table: 'public.src' } } },
  // Its completion check waits while the test holds the GATE lock, so two fires can be held at one point.
  racy: { key: ['id'], window: { column: 'day' }, batch: { output: 'public.racy_batch', completion: `SELECT finished_at FROM public.racy_log, pg_advisory_xact_lock_shared(${4545}) WHERE day >= :window_start AND day < :window_end`, schedule: '0 1 * * *' },
    stream: { output: 'public.racy_stream', source: { table: 'public.src' } } },
  brittle: { key: ['id'], window: { column: 'day' }, batch: { output: 'public.brittle_batch', completion: 'SELECT finished_at FROM public.brittle_log WHERE day >= :window_start AND day < :window_end', schedule: '0 6 * * *' },
    stream: { output: 'public.brittle_stream', source: { table: 'public.src' } } },
  chancy: { key: ['id'], window: { column: 'day' }, batch: { output: 'public.chancy_batch', query: 'chancy.sql', schedule: '0 5 * * *' },
    stream: { output: 'public.chancy_stream', source: { table: 'public.src' } } },
  broken: { key: ['id'], window: { column: 'day' }, batch: { output: 'public.broken_batch', query: 'broken.sql', schedule: '0 4 * * *' },
    stream: { output: 'public.broken_stream', source: { table: 'public.src' } } },
};

// Days of October 2026 (past: adoption checks that a window is due by the real clock).
const day = (n: number) => `2026-10-${String(n).padStart(2, '0')}`;
const fireOn = (n: number, hour: number) => new Date(`${day(n)}T0${hour}:00:00Z`);

beforeAll(async () => {
  db = await createTestDatabase('sched_open');
  await db.pool.query(`CREATE TABLE public.src (id int, day date);
    INSERT INTO public.src SELECT g, DATE '2026-10-01' + (g % 28) FROM generate_series(0, 279) g;
    CREATE TABLE public.legacy_batch (LIKE public.src); CREATE TABLE public.flaky_batch (LIKE public.src); CREATE TABLE public.broken_batch (LIKE public.src); CREATE TABLE public.racy_batch (LIKE public.src); CREATE TABLE public.chancy_batch (LIKE public.src);
    CREATE TABLE public.failing (day date);
    CREATE TABLE public.brittle_batch (LIKE public.src); CREATE TABLE public.brittle_log (day date, finished_at timestamptz); CREATE TABLE public.fault_on (on_ boolean);
    CREATE TABLE public.racy_log (day date, finished_at timestamptz);
    CREATE TABLE public.etl_log (day date, finished_at timestamptz);
    CREATE TABLE public.knob (divisor int); INSERT INTO public.knob VALUES (0);`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-schedopen-'));
  // Fails with division by zero while knob.divisor is 0 (a transient fault the test can lift).
  fs.writeFileSync(path.join(dir, 'flaky.sql'), 'SELECT id / (SELECT divisor FROM public.knob) * id AS id, day FROM public.src WHERE day >= :window_start AND day < :window_end');
  fs.writeFileSync(path.join(dir, 'broken.sql'), 'SELECT id, day FROM public.src WHERE day >= :window_start AND day < :window_end AND 1 / 0 = 1');
  // Fails (division by zero) for the windows listed in public.failing.
  fs.writeFileSync(path.join(dir, 'chancy.sql'), 'SELECT id, day FROM public.src WHERE day >= :window_start AND day < :window_end AND 1 / (CASE WHEN day IN (SELECT day FROM public.failing) THEN 0 ELSE 1 END) = 1');
  const file = path.join(dir, 'dualrun.yaml');
  fs.writeFileSync(file, JSON.stringify({ database: { url: db.url, poolSize: 8 }, datasets: DATASETS }));
  rt = createRuntime({ config: compileConfig(JSON.parse(fs.readFileSync(file, 'utf8')), { path: file }), log: createLogger('silent') });
  s = createScheduler({ rt, jobs: plannedJobs(rt.config).jobs, graceMs: 1000 });
  await rt.db(); // migrates: the property clears dualrun's tables before its first fire
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

const runs = async (dataset: string) => (await db.pool.query<{ w: string; status: string; rows: number | null }>(
  `SELECT window_label AS w, status, rows::int FROM dualrun.batch_runs WHERE dataset = $1 ORDER BY id`, [dataset])).rows;
const finish = (n: number) => db.pool.query(`INSERT INTO public.etl_log VALUES ($1, now())`, [day(n)]);
// As a fire on 2026-10-25 would judge `retried` (its lookback reaches back to 2026-09-25).
const status = async (dataset: string) => (await datasetStatuses(await rt.db(), rt.config, undefined, new Date('2026-10-25T00:00:00Z'))).find((d) => d.dataset === dataset)!;

describe('adopted windows the external job finished after their fire', () => {
  it('a window with no completion row at its fire is adopted by a later fire once the job finishes it, once, and shown waiting until then', async () => {
    await db.pool.query(`INSERT INTO public.legacy_batch SELECT * FROM public.src WHERE day BETWEEN '2026-10-03' AND '2026-10-05'`);
    expect((await s.fire('batch:legacy', fireOn(4, 2))).detail).toMatch(/^window 2026-10-03: external job not finished yet/);
    expect((await status('legacy')).openWindows).toEqual([expect.objectContaining({ window: day(3), state: 'waiting', attempts: 1, retried: true })]);
    await finish(3);
    const next = await s.fire('batch:legacy', fireOn(5, 2));
    // Before: only 2026-10-04 was looked at; 2026-10-03 was never adopted.
    expect(next.detail).toMatch(/^adopted 2026-10-03: 10 rows .*; window 2026-10-04: external job not finished yet/);
    expect((await status('legacy')).openWindows.map((o) => [o.window, o.state])).toEqual([[day(4), 'waiting']]);
    await finish(4);
    await finish(5);
    expect((await s.fire('batch:legacy', fireOn(6, 2))).detail).toMatch(/^adopted 2026-10-04: 10 rows .*; adopted 2026-10-05: 10 rows/);
    expect(await s.fire('batch:legacy', fireOn(7, 2))).toMatchObject({ detail: 'window 2026-10-06: external job not finished yet (checked again at later fires)' });
    expect((await runs('legacy')).filter((r) => r.status === 'succeeded').map((r) => r.w)).toEqual([day(3), day(4), day(5)]);
    // A manual adoption closes the open window too.
    await finish(6);
    const { adoptWindow } = await import('../../../../legacy-batch/adopt.ts');
    await adoptWindow(rt, rt.dataset('legacy'), parseWindow(day(6), 'day'), 'cli');
    expect((await status('legacy')).openWindows).toEqual([]);
  });
});

describe('a fire that ends before recording its windows', () => {
  it('loses none of them: a fire that threw after its first window still counted as the previous fire, and its later windows were never handled', async () => {
    // A fault the fire cannot handle per window: recording a waiting window fails (a terminated connection, say).
    await db.pool.query(`CREATE FUNCTION public.refuse_waiting() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN IF NEW.state = 'waiting' AND EXISTS (SELECT 1 FROM public.fault_on) THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$;
      CREATE TRIGGER refuse_waiting BEFORE INSERT OR UPDATE ON dualrun.batch_open_windows FOR EACH ROW EXECUTE FUNCTION public.refuse_waiting();
      INSERT INTO public.brittle_batch SELECT * FROM public.src WHERE day BETWEEN '2026-10-21' AND '2026-10-24';
      INSERT INTO public.brittle_log VALUES ('2026-10-21', now()), ('2026-10-23', now())`);
    try {
      expect((await s.fire('batch:brittle', fireOn(22, 6))).detail).toMatch(/^adopted 2026-10-21: 10 rows/);
      await db.pool.query('INSERT INTO public.fault_on VALUES (true)');
      // The 23rd's fire never came; the 24th's handles 2026-10-22 (not finished: the fault) and 2026-10-23.
      expect(await s.fire('batch:brittle', fireOn(24, 6))).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/injected fault/) });
      await db.pool.query('DELETE FROM public.fault_on; INSERT INTO public.brittle_log VALUES (\'2026-10-22\', now()), (\'2026-10-24\', now())');
      const next = await s.fire('batch:brittle', fireOn(25, 6));
      // Before: only 2026-10-24 was adopted; 2026-10-22 and 2026-10-23 never were.
      expect(next.detail).toMatch(/^adopted 2026-10-22: 10 rows .*; adopted 2026-10-23: 10 rows .*; adopted 2026-10-24: 10 rows/);
      expect((await runs('brittle')).map((r) => r.w)).toEqual([day(21), day(22), day(23), day(24)]);
      expect((await status('brittle')).openWindows).toEqual([]);
    } finally {
      await db.pool.query('DROP TRIGGER refuse_waiting ON dualrun.batch_open_windows; DROP FUNCTION public.refuse_waiting(); DELETE FROM public.fault_on');
    }
  });
});

describe('two fires of an adopted job at once', () => {
  it('a window both fires find finished is recorded adopted once, not twice', { timeout: 30_000 }, async () => {
    await db.pool.query(`INSERT INTO public.racy_log VALUES ('2026-10-20', now()); INSERT INTO public.racy_batch SELECT * FROM public.src WHERE day = '2026-10-20'`);
    const gate = await db.pool.connect();
    await gate.query('SELECT pg_advisory_lock(4545)');
    let fires: Promise<FireResult>[] = [];
    try {
      // Two schedulers' fires of different times (02:00 and 02:10 ticks) both handle the newest window 2026-10-20.
      fires = [s.fire('batch:racy', new Date('2026-10-21T02:00:00Z')), s.fire('batch:racy', new Date('2026-10-21T02:10:00Z'))];
      const deadline = Date.now() + 20_000;
      const waiting = async () => (await db.pool.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = 4545`)).rowCount ?? 0;
      while ((await waiting()) < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(await waiting()).toBe(2);
    } finally {
      await gate.query('SELECT pg_advisory_unlock(4545)');
      gate.release();
    }
    const details = (await Promise.all(fires)).map((f) => f.detail).sort();
    expect(details).toEqual([expect.stringMatching(/^adopted 2026-10-20: 10 rows/), expect.stringMatching(/^window 2026-10-20 already succeeded \(run \d+\)/)]);
    // Before: two adopted runs of one window, the second making every verdict judged between them stop counting.
    expect((await runs('racy')).map((r) => `${r.w} ${r.status}`)).toEqual(['2026-10-20 succeeded']);
  });
});

describe('a window the scheduler settles late', () => {
  it('is judged by the nightly reconciliation though it started more than its 7-day look-back ago', async () => {
    // 2026-10-20 was adopted by the fire above, weeks after it ended (by the clock of this run).
    await db.pool.query(`CREATE TABLE public.racy_stream AS SELECT * FROM public.racy_batch;
      INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ('racy', '2100-01-01T00:00:00Z')`);
    const { reconcileSettledWindows } = await import('../../../../reconcile/nightly.ts');
    // Before: windows were chosen by their start only, so this one was never judged and stayed a gap for the gate.
    expect((await reconcileSettledWindows(rt, 'racy')).map((r) => [r.window, r.verdict])).toEqual([[day(20), 'match']]);
    expect(await reconcileSettledWindows(rt, 'racy')).toEqual([]);
  });
});

describe('managed windows whose load failed', () => {
  it('a failed window is retried by the next fire and shown failed until it succeeds', async () => {
    const first = await s.fire('batch:flaky', fireOn(11, 3));
    expect(first).toMatchObject({ outcome: 'failed', detail: expect.stringMatching(/^window 2026-10-10: failed \(run \d+\): .*division by zero.* \(attempt 1 of 3, retried at the next fire\)$/) });
    // A newer window's success does not hide it.
    await db.pool.query('UPDATE public.knob SET divisor = 1');
    expect(await runWindow(rt, rt.dataset('flaky'), parseWindow(day(12), 'day'), { trigger: 'cli' })).toMatchObject({ status: 'succeeded' });
    expect((await status('flaky')).lastBatchRun).toMatchObject({ window: day(12), status: 'succeeded' });
    expect((await status('flaky')).openWindows).toEqual([expect.objectContaining({ window: day(10), state: 'failed', attempts: 1, retried: true })]);
    const next = await s.fire('batch:flaky', fireOn(12, 3));
    // Before: only 2026-10-11 was loaded; 2026-10-10 stayed failed for good.
    expect(next.outcome, next.detail).toBe('succeeded');
    expect(next.detail).toMatch(/^window 2026-10-10: succeeded, 10 rows .*; window 2026-10-11: succeeded, 10 rows/);
    expect((await status('flaky')).openWindows).toEqual([]);
    expect((await runs('flaky')).map((r) => `${r.w} ${r.status}`)).toEqual([`${day(10)} failed`, `${day(12)} succeeded`, `${day(10)} succeeded`, `${day(11)} succeeded`]);
  });

  it('a fire that failed a window a manual run has since loaded does not mark it open (it showed failed until the next fire)', async () => {
    await db.pool.query('UPDATE public.knob SET divisor = 1');
    const w = parseWindow(day(14), 'day');
    expect(await runWindow(rt, rt.dataset('flaky'), w, { trigger: 'cli' })).toMatchObject({ status: 'succeeded' });
    // The fire's failure is recorded after the manual run's success.
    expect(await markOpen(db.pool, 'flaky', w, 'failed', fireOn(15, 3), 'window 2026-10-14: failed')).toBe(0);
    expect((await status('flaky')).openWindows).toEqual([]);
  });

  it('a window that keeps failing is tried by 3 fires, then left failed and shown as not retried', async () => {
    const fires = [];
    for (const n of [16, 17, 18, 19]) fires.push(await s.fire('batch:broken', fireOn(n, 4)));
    const tried = (await runs('broken')).filter((r) => r.w === day(15)).map((r) => r.status);
    expect(tried).toEqual(['failed', 'failed', 'failed']);
    const open = (await status('broken')).openWindows;
    expect(open.map((o) => [o.window, o.attempts, o.retried])).toEqual([[day(15), 3, false], [day(16), 3, false], [day(17), 2, true], [day(18), 1, true]]);
    expect(fires[2].detail).toMatch(/^window 2026-10-15: failed .*\(attempt 3 of 3, not retried by fires: dualrun batch run broken --window 2026-10-15\); window 2026-10-16: failed .*\(attempt 2 of 3, retried at the next fire\)/);
    expect(fires[3].detail).toMatch(/^window 2026-10-16: failed .*\(attempt 3 of 3, not retried/);
    expect(open[0].detail).toMatch(/division by zero/);
    // Past the lookback (the fire's newest window and the 30 before it) fires no longer handle them.
    const ds = rt.dataset('broken');
    const rows = await openWindows(db.pool, ['broken']);
    const at = (iso: string) => withOpenWindows(ds, new Date(iso), [], rows).map((w) => w?.label);
    expect([at('2026-11-17T04:00:00Z'), at('2026-11-18T04:00:00Z'), at('2026-11-19T04:00:00Z')]).toEqual([[day(17), day(18)], [day(18)], []]);
    const late = (await datasetStatuses(await rt.db(), rt.config, undefined, new Date('2026-11-19T04:00:00Z'))).find((d) => d.dataset === 'broken')!;
    expect(late.openWindows.map((o) => o.retried)).toEqual([false, false, false, false]);
    // The gate's evidence rule reads the ledger: none of these windows has a succeeded newest run.
    const settled = await db.pool.query(`SELECT 1 FROM dualrun.batch_runs WHERE dataset = 'broken' AND status = 'succeeded'`);
    expect(settled.rowCount).toBe(0);
  });
});

describe('property: every adopted window whose completion appears is adopted exactly once, whatever the fire times', () => {
  it('random fire days (some skipped) and completion times', { timeout: 240_000 }, async () => {
    const DAYS = 8; // windows 2026-10-01 .. 2026-10-08
    await fc.assert(fc.asyncProperty(
      fc.uniqueArray(fc.integer({ min: 2, max: DAYS + 1 }), { minLength: 1, maxLength: DAYS }).map((a) => [...a].sort((x, y) => x - y)),
      // Per window, the index of the fire before which the job finishes it (>= fires: never).
      fc.array(fc.integer({ min: 0, max: DAYS + 1 }), { minLength: DAYS, maxLength: DAYS }),
      async (fireDays, finishBefore) => {
        await db.pool.query(`DELETE FROM dualrun.batch_runs WHERE dataset = 'legacy'; DELETE FROM dualrun.scheduler_fires WHERE job = 'batch:legacy';
          DELETE FROM dualrun.batch_open_windows WHERE dataset = 'legacy'; DELETE FROM public.etl_log`);
        for (let i = 0; i < fireDays.length; i++) {
          for (let w = 1; w <= DAYS; w++) if (finishBefore[w - 1] === i) await finish(w);
          await s.fire('batch:legacy', fireOn(fireDays[i], 2));
        }
        const adopted = (await runs('legacy')).filter((r) => r.status === 'succeeded').map((r) => r.w).sort();
        // A fire on day f handles windows up to f - 1; the job's first fire starts at its newest window.
        const firstWindow = fireDays[0] - 1;
        const expected: string[] = [];
        for (let w = firstWindow; w <= DAYS; w++) {
          if (fireDays.some((f, i) => f - 1 >= w && finishBefore[w - 1] <= i)) expected.push(day(w));
        }
        expect(adopted).toEqual(expected);
        const waiting = (await status('legacy')).openWindows.map((o) => o.window);
        const lastWindow = fireDays.at(-1)! - 1;
        expect(waiting).toEqual(Array.from({ length: lastWindow - firstWindow + 1 }, (_, k) => day(firstWindow + k)).filter((w) => !expected.includes(w)));
      },
    ), { numRuns: 60 });
  });
});

describe('property: a failed managed window is retried by every later fire until it succeeds, at most 3 attempts, and loaded once', () => {
  it('random fire days and random failures per fire and window', { timeout: 240_000 }, async () => {
    const DAYS = 7;
    await fc.assert(fc.asyncProperty(
      fc.uniqueArray(fc.integer({ min: 2, max: DAYS + 1 }), { minLength: 1, maxLength: DAYS }).map((a) => [...a].sort((x, y) => x - y)),
      // fails[i][w - 1]: the load of window w fails at fire i.
      fc.array(fc.array(fc.boolean(), { minLength: DAYS, maxLength: DAYS }), { minLength: DAYS, maxLength: DAYS }),
      async (fireDays, fails) => {
        await db.pool.query(`DELETE FROM dualrun.batch_runs WHERE dataset = 'chancy'; DELETE FROM dualrun.scheduler_fires WHERE job = 'batch:chancy';
          DELETE FROM dualrun.batch_open_windows WHERE dataset = 'chancy'`);
        for (let i = 0; i < fireDays.length; i++) {
          await db.pool.query('DELETE FROM public.failing');
          for (let w = 1; w <= DAYS; w++) if (fails[i][w - 1]) await db.pool.query('INSERT INTO public.failing VALUES ($1)', [day(w)]);
          await s.fire('batch:chancy', fireOn(fireDays[i], 5));
        }
        const ledger = await runs('chancy');
        const open = new Map((await status('chancy')).openWindows.map((o) => [o.window, o]));
        const firstWindow = fireDays[0] - 1;
        for (let w = 1; w <= DAYS; w++) {
          // Every fire whose newest window is w or later tries w, from the job's first window on, until it succeeds or failed 3 times.
          const tries = w < firstWindow ? [] : fireDays.flatMap((f, i) => (f - 1 >= w ? [fails[i][w - 1]] : []));
          const firstOk = tries.indexOf(false);
          const succeeded = firstOk !== -1 && firstOk < MAX_FIRE_ATTEMPTS;
          const failedRuns = succeeded ? firstOk : Math.min(tries.length, MAX_FIRE_ATTEMPTS);
          const mine = ledger.filter((r) => r.w === day(w)).map((r) => r.status);
          expect(mine, `window ${day(w)}, tries ${JSON.stringify(tries)}`).toEqual([...Array(failedRuns).fill('failed'), ...(succeeded ? ['succeeded'] : [])]);
          expect(open.get(day(w))?.attempts ?? 0).toBe(succeeded ? 0 : failedRuns);
          if (!succeeded && failedRuns > 0) expect(open.get(day(w))?.retried).toBe(failedRuns < MAX_FIRE_ATTEMPTS);
        }
      },
    ), { numRuns: 30 });
  });
});
