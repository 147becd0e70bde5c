/**
 * Crash safety: the real CLI worker (`dualrun stream`, a child process) is killed
 * with SIGKILL at random moments, at least 5 times, while ~200k captured changes
 * flow; after a final run to idle the output equals the source table, and the
 * keyed state of a stateful transform (events and running totals per customer)
 * equals what the changelog says: nothing lost, nothing counted twice.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { BIN, runCli } from '../support/cli.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { generateChanges } from './change-generator.ts';
import { prng } from './debezium-events.ts';
import { FIXTURES, ORDERS_DDL, ORDER_COLUMNS, setStage, ordersStreamDatabase, symmetricDifference, tableChecksum, writeConfig } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await ordersStreamDatabase('stream_crash');
  await db.pool.query(ORDERS_DDL('public.orders_src'));
  await db.pool.query('CREATE TABLE analytics.customer_counts (customer_id integer PRIMARY KEY, events integer NOT NULL, total_cents bigint NOT NULL)');
  await installCapture(db.pool, parseTableRef('public.orders_src')!);
  for (const d of ['orders', 'customer_counts']) await setStage(db.pool, d, 'shadow');
});
afterAll(async () => { await db?.drop(); });

function startWorker(file: string, cwd: string): ChildProcess {
  return spawn(process.execPath, [BIN, '--config', file, 'stream'], { cwd, env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
}

describe('crash safety', () => {
  it('survives repeated SIGKILLs while 200k changes flow, keyed state included', { timeout: 300_000 }, async () => {
    const { file, dir } = writeConfig({
      database: { url: db.url },
      datasets: {
        orders: { key: ['order_id'], batch: { output: 'analytics.orders_batch' }, stream: { output: 'analytics.orders_stream', source: { table: 'public.orders_src', changelogRetention: 'forever' } } }, // the checks read the whole changelog
        customer_counts: {
          key: ['customer_id'], batch: { output: 'analytics.customer_counts_batch' },
          stream: { output: 'analytics.customer_counts', source: { table: 'public.orders_src', changelogRetention: 'forever' }, transform: `${FIXTURES}/customer-counts.ts` },
        },
      },
    });
    const rnd = prng(Number(process.env.CRASH_SEED ?? Date.now() % 100000));
    let generating = true;
    const gen = generateChanges(db.pool, 'public.orders_src', { keys: 50_000, rounds: 6, writers: 3 }).finally(() => { generating = false; });
    // Each kill lands while the worker is applying: wait until its committed
    // progress moves (start-up under load takes a while), then kill at a random
    // moment within the next second.
    const appliedSoFar = async () => Number((await db.pool.query<{ n: string }>(`SELECT coalesce(sum(records_applied), 0)::text AS n FROM dualrun.stream_positions`)).rows[0].n);
    let kills = 0;
    let killsWhileApplying = 0;
    let stderr = '';
    for (let round = 0; round < 15 && (generating || killsWhileApplying < 5); round++) {
      const before = await appliedSoFar();
      const child = startWorker(file, dir);
      child.stderr!.on('data', (d) => (stderr += d));
      let moved = false;
      for (let i = 0; i < 300 && !moved && child.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 100));
        moved = (await appliedSoFar()) > before;
      }
      await new Promise((r) => setTimeout(r, rnd() * 1000));
      const exited = child.exitCode !== null;
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      expect(exited, stderr).toBe(false); // it was still running when killed
      kills++;
      if (moved) killsWhileApplying++;
    }
    const events = await gen;
    expect(killsWhileApplying).toBeGreaterThanOrEqual(5);
    expect(events).toBeGreaterThanOrEqual(200_000);

    const last = await runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir, timeoutMs: 200_000 });
    expect(last.stderr).toBe('');
    expect(last.code).toBe(0);

    expect(await symmetricDifference(db.pool, 'public.orders_src', 'analytics.orders_stream', ORDER_COLUMNS)).toBe(0);
    expect(await tableChecksum(db.pool, 'analytics.orders_stream', ORDER_COLUMNS)).toEqual(await tableChecksum(db.pool, 'public.orders_src', ORDER_COLUMNS));
    // Keyed state: one count per change event of the customer, and the live total.
    await db.pool.query(`CREATE TABLE analytics.expected_counts AS
      SELECT e.customer_id, e.events, coalesce((SELECT sum(round(s.amount * 100))::bigint FROM public.orders_src s WHERE s.customer_id = e.customer_id), 0) AS total_cents
        FROM (SELECT (coalesce(after, before)->>'customer_id')::int AS customer_id, count(*)::int AS events FROM dualrun.changelog GROUP BY 1) e`);
    const cols = ['customer_id', 'events', 'total_cents'];
    expect(await symmetricDifference(db.pool, 'analytics.expected_counts', 'analytics.customer_counts', cols)).toBe(0);
    const state = await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM dualrun.keyed_state k JOIN analytics.expected_counts e
        ON k.state_key = e.customer_id::text AND (k.value->>'events')::int = e.events AND (k.value->>'total')::bigint = e.total_cents WHERE k.dataset = 'customer_counts'`);
    const customers = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM analytics.expected_counts');
    expect(state.rows[0].n).toBe(customers.rows[0].n);
    const counters = await db.pool.query<{ dataset: string; n: string }>(`SELECT dataset, sum(records_applied + records_dead)::text AS n FROM dualrun.stream_positions GROUP BY dataset ORDER BY dataset`);
    const logged = await db.pool.query<{ n: string }>('SELECT count(*)::text AS n FROM dualrun.changelog');
    expect(counters.rows.map((r) => [r.dataset, Number(r.n)])).toEqual([['customer_counts', Number(logged.rows[0].n)], ['orders', Number(logged.rows[0].n)]]);
  });

  it('stops cleanly on SIGTERM (exit 0) with what it applied committed', { timeout: 60_000 }, async () => {
    await db.pool.query(ORDERS_DDL('public.term_src'));
    await db.pool.query(ORDERS_DDL('public.term_out'));
    await installCapture(db.pool, parseTableRef('public.term_src')!);
    await setStage(db.pool, 'term', 'shadow');
    const { file, dir } = writeConfig({
      database: { url: db.url },
      datasets: { term: { key: ['order_id'], batch: { output: 'public.term_batch' }, stream: { output: 'public.term_out', source: { table: 'public.term_src' } } } },
    });
    const child = startWorker(file, dir);
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    await db.pool.query(`INSERT INTO public.term_src SELECT g, 1, 1.00, 'new', '2026-11-01' FROM generate_series(1, 2000) g`);
    for (let i = 0; i < 300; i++) {
      if ((await db.pool.query('SELECT 1 FROM public.term_out')).rowCount === 2000) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('close', (c) => r(c)));
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/stopping at the next safe point/);
    expect(await symmetricDifference(db.pool, 'public.term_src', 'public.term_out', ORDER_COLUMNS)).toBe(0);
  });
});
