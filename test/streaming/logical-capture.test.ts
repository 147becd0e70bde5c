/**
 * Change capture from the write-ahead log (`capture: logical`): no trigger and no
 * DDL on the source table; types survive exactly as with the trigger's to_jsonb;
 * the worker (the real CLI) is SIGKILLed ≥ 10 times while 4 writers change the
 * source, and the output still equals the source; the slot's confirmed LSN never
 * passes the position the sink committed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { BIN, runCli } from '../support/cli.ts';
import { logicalNames } from '../../streaming/capture/logical-slot.ts';
import { parseLsn } from '../../streaming/capture/pgoutput-messages.ts';
import { generateChanges } from './change-generator.ts';
import { prng } from './debezium-events.ts';
import { ORDERS_DDL, ORDER_COLUMNS, ordersStreamDatabase, setStage, symmetricDifference, tableChecksum, writeConfig } from './support.ts';

let db: TestDatabase;

beforeAll(async () => {
  db = await ordersStreamDatabase('logical');
});
afterAll(async () => {
  // A database with a logical slot cannot be dropped: remove what the tests made first.
  await db?.pool.query(`SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE database = current_database() AND NOT active`).catch(() => undefined);
  await db?.drop();
});

function config(dataset: string, source: string, output: string, key = 'order_id', extra: Record<string, unknown> = {}) {
  return writeConfig({
    database: { url: db.url },
    datasets: { [dataset]: { key: [key], batch: { output: `${output}_batch` }, stream: { output, source: { table: source, capture: 'logical', ...extra } } } },
  });
}

function startWorker(file: string, cwd: string): ChildProcess {
  return spawn(process.execPath, [BIN, '--config', file, 'stream'], { cwd, env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn' }, stdio: ['ignore', 'ignore', 'pipe'] });
}

describe('logical capture', () => {
  it('regression: a worker restarted while the killed one\'s backend still holds the slot waits for it (it exited 3: "replication slot is active for PID")', { timeout: 120_000 }, async () => {
    await db.pool.query(`CREATE TABLE public.busy_src (id int PRIMARY KEY, v text)`);
    await db.pool.query(`CREATE TABLE analytics.busy_out (id int PRIMARY KEY, v text)`);
    await db.pool.query(`INSERT INTO public.busy_src VALUES (1, 'a')`);
    await setStage(db.pool, 'busy', 'shadow');
    const { file, dir } = config('busy', 'public.busy_src', 'analytics.busy_out', 'id');
    const cap = await runCli(['--config', file, 'capture'], { cwd: dir });
    expect(cap.code, cap.stderr).toBe(0);
    await db.pool.query(`INSERT INTO public.busy_src VALUES (2, 'b')`);
    // Another backend holds the slot (as a killed worker's does until its last call ends); it never confirms anything.
    const names = logicalNames('busy');
    const holder = new pg.Client({ connectionString: db.url, replication: 'database' } as pg.ClientConfig);
    await holder.connect();
    holder.on('error', () => undefined);
    holder.query(`START_REPLICATION SLOT ${names.slot} LOGICAL 0/0 (proto_version '1', publication_names '${names.publication}')`).catch(() => undefined);
    const active = async () => (await db.pool.query<{ pid: number | null }>('SELECT active_pid AS pid FROM pg_replication_slots WHERE slot_name = $1', [names.slot])).rows[0]?.pid;
    for (let i = 0; i < 100 && !(await active()); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await active()).toBeTruthy();
    const run = runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir, timeoutMs: 60_000 });
    await new Promise((r) => setTimeout(r, 2000));
    (holder as unknown as { connection: { stream: { destroy(): void } } }).connection.stream.destroy();
    const r = await run;
    expect(r.code, r.stderr).toBe(0);
    const out = await db.pool.query<{ id: number; v: string }>('SELECT id, v FROM analytics.busy_out ORDER BY id');
    expect(out.rows).toEqual([{ id: 1, v: 'a' }, { id: 2, v: 'b' }]);
  });

  it('needs no trigger or DDL on the source table and keeps every type exact', { timeout: 120_000 }, async () => {
    await db.pool.query(`CREATE TABLE public.typed_src (id bigint PRIMARY KEY, big bigint, amount numeric(12,2), tags text[], meta jsonb, doc json, at timestamptz, day date, flag boolean, note text)`);
    await db.pool.query(`CREATE TABLE analytics.typed_out (LIKE public.typed_src)`);
    await db.pool.query(`ALTER TABLE analytics.typed_out ADD PRIMARY KEY (id)`);
    await db.pool.query(`INSERT INTO public.typed_src VALUES (1, 9007199254740993, 10.50, '{a,"b c"}', '{"k": [1, 2.50]}', '{"z": 1, "a": 2}', '2026-11-20 10:00:00+01', '2026-11-20', true, 'snap')`);
    await setStage(db.pool, 'typed', 'shadow');
    const ddlBefore = await db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_trigger WHERE tgrelid = 'public.typed_src'::regclass`);
    const { file, dir } = config('typed', 'public.typed_src', 'analytics.typed_out', 'id');
    const cap = await runCli(['--config', file, 'capture', '--format', 'json'], { cwd: dir });
    expect(cap.code, cap.stderr).toBe(0);
    expect(JSON.parse(cap.stdout).installed[0]).toMatchObject({ table: 'public.typed_src', installed: true, snapshotRows: 1, slot: logicalNames('typed').slot });
    const again = await runCli(['--config', file, 'capture', '--format', 'json'], { cwd: dir });
    expect(JSON.parse(again.stdout).installed[0]).toMatchObject({ installed: false });
    await db.pool.query(`INSERT INTO public.typed_src VALUES (2, -9223372036854775808, 0.01, '{}', '[null]', '[]', '2000-01-01 00:00:00.000001+00', '2000-02-29', false, E'tab\\there "q" \\\\ ü')`);
    await db.pool.query(`UPDATE public.typed_src SET note = NULL, amount = 99.99 WHERE id = 1`);
    await db.pool.query(`INSERT INTO public.typed_src VALUES (3, 3, 3, NULL, NULL, NULL, NULL, NULL, NULL, 'gone')`);
    await db.pool.query(`DELETE FROM public.typed_src WHERE id = 3`);
    const r = await runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    const cols = ['id', 'big', 'amount', 'tags', 'meta', 'at', 'day', 'flag', 'note'];
    expect(await symmetricDifference(db.pool, 'public.typed_src', 'analytics.typed_out', cols)).toBe(0);
    // json keeps its value, not its text (to_jsonb of the row image, as with triggers).
    const docs = await db.pool.query<{ same: boolean }>(`SELECT bool_and(s.doc::jsonb IS NOT DISTINCT FROM o.doc::jsonb) AS same FROM public.typed_src s JOIN analytics.typed_out o USING (id)`);
    expect(docs.rows[0].same).toBe(true);
    const ddlAfter = await db.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM pg_trigger WHERE tgrelid = 'public.typed_src'::regclass`);
    expect(ddlAfter.rows[0].n).toBe(ddlBefore.rows[0].n);
    // A slot that holds back more WAL than allowed is a warning in `dualrun datasets`.
    const strict = config('typed', 'public.typed_src', 'analytics.typed_out', 'id', { maxRetainedWal: '1kB' });
    await db.pool.query(`INSERT INTO public.typed_src SELECT g, g, 1, NULL, NULL, NULL, NULL, NULL, NULL, repeat('x', 100) FROM generate_series(10, 200) g`);
    const ds = await runCli(['--config', strict.file, 'datasets', '--format', 'json'], { cwd: strict.dir });
    expect(ds.code, ds.stderr).toBe(0);
    expect(JSON.parse(ds.stdout)[0].slot).toMatchObject({ name: logicalNames('typed').slot, exists: true, warning: expect.stringMatching(/retains .* of WAL \(limit 1 kB\)/) });
    expect(ds.stderr).toMatch(/typed: replication slot dualrun_typed retains/);
    const removed = await runCli(['--config', file, 'capture', '--remove', '--format', 'json'], { cwd: dir });
    expect(removed.code, removed.stderr).toBe(0);
    const slots = await db.pool.query(`SELECT 1 FROM pg_replication_slots WHERE slot_name = $1`, [logicalNames('typed').slot]);
    expect(slots.rowCount).toBe(0);
  });

  it('survives ≥ 10 SIGKILLs of the worker during 4 concurrent writers; the slot never passes what the sink committed', { timeout: 300_000 }, async () => {
    await db.pool.query(ORDERS_DDL('public.orders_src'));
    await setStage(db.pool, 'orders', 'shadow');
    const { file, dir } = config('orders', 'public.orders_src', 'analytics.orders_stream');
    await db.pool.query(`INSERT INTO public.orders_src SELECT g, g % 500, 1, 'snap', date '2026-11-01' FROM generate_series(100001, 102000) g`);
    const cap = await runCli(['--config', file, 'capture'], { cwd: dir });
    expect(cap.code, cap.stderr).toBe(0);
    const rnd = prng(Number(process.env.CRASH_SEED ?? Date.now() % 100000));
    let generating = true;
    const gen = generateChanges(db.pool, 'public.orders_src', { keys: 10_000, rounds: 4, writers: 4 }).finally(() => { generating = false; });
    const applied = async () => Number((await db.pool.query<{ n: string }>(`SELECT coalesce(sum(records_applied), 0)::text AS n FROM dualrun.stream_positions WHERE dataset = 'orders'`)).rows[0].n);
    const { slot } = logicalNames('orders');
    let kills = 0;
    let stderr = '';
    for (let round = 0; round < 40 && (generating || kills < 10); round++) {
      const before = await applied();
      const child = startWorker(file, dir);
      child.stderr!.on('data', (d) => (stderr += d));
      for (let i = 0; i < 300 && child.exitCode === null && (await applied()) === before; i++) await new Promise((r) => setTimeout(r, 50));
      await new Promise((r) => setTimeout(r, rnd() * 700));
      expect(child.exitCode, stderr).toBe(null);
      child.kill('SIGKILL');
      await new Promise((r) => child.once('close', r));
      kills++;
      const s = await db.pool.query<{ confirmed: string; position: string | null }>(
        `SELECT confirmed_flush_lsn::text AS confirmed,
                (SELECT position::text FROM dualrun.stream_positions WHERE dataset = 'orders' AND source = 'logical:public.orders_src' AND partition = 0) AS position
           FROM pg_replication_slots WHERE slot_name = $1`, [slot]);
      const { confirmed, position } = s.rows[0];
      if (position !== null) expect(parseLsn(confirmed) <= BigInt(position), `slot confirmed ${confirmed} past the sink's ${position}`).toBe(true);
    }
    await gen;
    expect(kills).toBeGreaterThanOrEqual(10);
    const last = await runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir, timeoutMs: 200_000 });
    expect(last.code, last.stderr).toBe(0);
    expect(await symmetricDifference(db.pool, 'public.orders_src', 'analytics.orders_stream', ORDER_COLUMNS)).toBe(0);
    expect(await tableChecksum(db.pool, 'analytics.orders_stream', ORDER_COLUMNS)).toEqual(await tableChecksum(db.pool, 'public.orders_src', ORDER_COLUMNS));
  });
});
