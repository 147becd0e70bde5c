/**
 * `dualrun schedule --grace 15s` sent SIGTERM during a 7 s load was cut short by the
 * CLI's 4 s stop deadline: exit 143, the load rolled back, the ledger left `running`
 * and the fire without an outcome — whatever the grace (30 s by default), though
 * docs/batch.md promises running jobs the grace and exit 0. The grace now extends
 * the deadline: the job finishes (or, past the grace, is abandoned and recorded) and
 * the scheduler exits 0.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import { eventually, startCli } from '../../../support/long-running-cli.ts';
import { setupToolkit, writeConfig } from '../../../streaming/support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase('sched_grace_deadline');
  await setupToolkit(db.pool);
  await db.pool.query('CREATE TABLE public.slow_batch (id int, loaded_at timestamptz); CREATE TABLE public.src (id int, day date)');
});
beforeEach(async () => { await db.pool.query('TRUNCATE dualrun.batch_runs; DELETE FROM dualrun.scheduler_fires; TRUNCATE public.slow_batch'); });
afterAll(async () => { await db?.drop(); });

/** A scheduler whose every-second job loads 100 rows in `sleep` seconds; SIGTERM once a load runs. */
async function stopDuringLoad(sleep: number, grace: string) {
  const { dir, file } = writeConfig({ database: { url: db.url }, datasets: {} });
  fs.writeFileSync(path.join(dir, 'slow.sql'), `SELECT g AS id, now() AS loaded_at FROM generate_series(1, 100) g, pg_sleep(${sleep})`);
  fs.writeFileSync(file, JSON.stringify({ database: { url: db.url }, datasets: { slow: {
    key: ['id'], batch: { output: 'public.slow_batch', query: 'slow.sql', schedule: '* * * * * *' },
    stream: { output: 'public.slow_stream', source: { table: 'public.src' } },
  } } }));
  const c = startCli(['--config', file, 'schedule', '--grace', grace]);
  await eventually(async () => ((await db.pool.query(`SELECT 1 FROM dualrun.batch_runs WHERE status = 'running'`)).rowCount ? true : undefined), 30_000, 'a running load');
  const t0 = Date.now();
  const code = await c.stop();
  return {
    code, ms: Date.now() - t0, stderr: c.stderr(),
    runs: (await db.pool.query('SELECT status FROM dualrun.batch_runs')).rows.map((r) => r.status),
    fires: (await db.pool.query('SELECT outcome FROM dualrun.scheduler_fires')).rows.map((r) => r.outcome),
    rows: (await db.pool.query('SELECT count(*)::int AS n FROM public.slow_batch')).rows[0].n,
  };
}

describe('schedule --grace longer than the 4 s stop deadline', () => {
  it('a 7 s load under --grace 15s finishes and commits; exit 0', { timeout: 60_000 }, async () => {
    const r = await stopDuringLoad(7, '15s');
    expect({ code: r.code, runs: r.runs, fires: r.fires, rows: r.rows }, r.stderr).toEqual({ code: 0, runs: ['succeeded'], fires: ['succeeded'], rows: 100 });
    expect(r.stderr).not.toContain('did not reach a safe point');
  });

  it('a 60 s load under --grace 6s is cancelled after the grace and recorded abandoned; exit 0', { timeout: 60_000 }, async () => {
    const r = await stopDuringLoad(60, '6s');
    expect({ code: r.code, runs: r.runs, fires: r.fires, rows: r.rows }, r.stderr).toEqual({ code: 0, runs: ['abandoned'], fires: ['abandoned'], rows: 0 });
    expect(r.ms).toBeGreaterThanOrEqual(5_500);
    expect(r.ms).toBeLessThan(12_000);
  });
});
