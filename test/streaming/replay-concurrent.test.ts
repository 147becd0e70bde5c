/**
 * Regression: two replays of one dataset at once. The second dropped the first's
 * rebuild table and state as a "leftover of an interrupted replay" while the first
 * was filling it; the first then swapped a half-built table into the output
 * (probe: the serving view went from 200000 rows to 40176, `rowsDeleted: 135000`).
 * A replay now holds a per-dataset advisory lock from before the rebuild is prepared
 * until after the swap: the second one is refused (exit 2, DUALRUN_REPLAY_RUNNING)
 * and touches nothing; the first completes with every row.
 * (The test holds A by locking the output table, which A reads first.)
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { startCli } from '../support/long-running-cli.ts';
import { capturedOrdersDatabase, writeConfig } from './support.ts';

const ROWS = 20_000;
let db: TestDatabase;

beforeAll(async () => {
  db = await capturedOrdersDatabase('replay_concurrent', ROWS, 'streaming');
});
afterAll(async () => { await db?.drop(); });

async function until(check: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 50));
  }
}

it('regression: a second replay of a dataset while one runs is refused and cannot make the first swap in a half-built table', { timeout: 180_000 }, async () => {
  const { file, dir } = writeConfig({
    database: { url: db.url },
    datasets: { orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { table: 'public.orders_src', changelogRetention: 'forever' } } } },
  });
  const args = ['--config', file, 'stream', '--dataset', 'orders', '--from-beginning', '--reset-output', '--until-idle', '--format', 'json'];
  expect((await runCli(['--config', file, 'stream', '--dataset', 'orders', '--until-idle'], { cwd: dir })).code).toBe(0);
  expect((await db.pool.query('SELECT count(*)::int AS n FROM analytics.orders_stream')).rows[0].n).toBe(ROWS);

  // Replay A is held once it has started: the test locks the output, which A reads before preparing its rebuild.
  const blocker = new pg.Client({ connectionString: db.url });
  await blocker.connect();
  await blocker.query('BEGIN');
  await blocker.query('LOCK TABLE analytics.orders_stream IN ACCESS EXCLUSIVE MODE');
  const first = startCli(args, { cwd: dir, env: { DUALRUN_LOG_LEVEL: 'warn' } });
  await until(async () => {
    if (first.child.exitCode !== null) throw new Error(`replay ended before it could be held: ${first.stdout()} ${first.stderr()}`);
    return (await db.pool.query(`SELECT 1 FROM pg_locks WHERE NOT granted AND relation = 'analytics.orders_stream'::regclass`)).rowCount === 1;
  });

  // Replay B meanwhile (before the fix it queued on the same lock and then raced A).
  const secondRun = runCli(args, { cwd: dir, timeoutMs: 60_000 });
  await Promise.race([secondRun, new Promise((r) => setTimeout(r, 15_000))]);
  await blocker.query('COMMIT');
  await blocker.end();
  const second = await secondRun;
  expect(second.code, second.stderr).toBe(2);
  expect(second.stdout).toContain('DUALRUN_REPLAY_RUNNING');

  const code = await new Promise<number | null>((r) => (first.child.exitCode !== null ? r(first.child.exitCode) : first.child.on('close', (c) => r(c))));
  expect(code, first.stderr()).toBe(0);
  expect(JSON.parse(first.stdout()).replays[0]).toMatchObject({ swapped: true, rebuiltRows: ROWS, rowsDeleted: 0 });
  expect((await db.pool.query('SELECT count(*)::int AS n FROM analytics.orders_stream')).rows[0].n).toBe(ROWS);
  expect((await db.pool.query(`SELECT to_regclass('dualrun.rebuild_orders') IS NULL AS gone`)).rows[0].gone).toBe(true);

  // The lock is released after the swap: the next replay runs.
  const again = await runCli(args, { cwd: dir, timeoutMs: 60_000 });
  expect(again.code, again.stderr).toBe(0);
  expect(JSON.parse(again.stdout).replays[0]).toMatchObject({ swapped: true, rebuiltRows: ROWS });
});
