/**
 * What the fault suite needs besides the streaming test helpers: a worker process
 * to kill, a Postgres of its own to restart, a broker of its own to stop, and the
 * checks every scenario ends with (expected table key by key, checksum, counters,
 * dead letters with reason and payload). Sizes come from env so CI runs smaller.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { createPool, type Pool } from '../../src/core/db/connect.ts';
import { acquireEmbeddedPostgres, type EmbeddedHandle } from '../../src/core/db/embedded-postgres.ts';
import { BIN } from '../support/cli.ts';
import { ORDER_COLUMNS, symmetricDifference, tableChecksum } from '../streaming/support.ts';
import type { OrderRow } from '../streaming/debezium-events.ts';

const run = promisify(execFile);
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');

/** FAULTS_<NAME> from env, else the default (the local size; CI sets smaller ones). */
export function size(name: string, dflt: number): number {
  const v = process.env[`FAULTS_${name}`];
  return v ? Number(v) : dflt;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until check() holds; on timeout the error carries the worker's last stderr (when given). */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 200, worker?: Worker): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(everyMs);
  }
  const tail = worker ? `\nworker (exit ${worker.child.exitCode}) stderr:\n${worker.stderr().slice(-4000)}` : '';
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${tail}`);
}

export interface Worker {
  readonly child: ChildProcess;
  stderr(): string;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The real CLI (`dualrun ...`) as a child process. */
export function startCli(args: string[], cwd: string, env: Record<string, string> = {}): Worker {
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...process.env, DUALRUN_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.once('close', (code, signal) => r({ code, signal })));
  return { child, stderr: () => err, exited: () => done };
}

/** applied + dead over the dataset's stored positions (what the worker committed). */
export async function committedCount(pool: Pool, dataset: string): Promise<number> {
  const r = await pool.query<{ n: string }>('SELECT coalesce(sum(records_applied + records_dead), 0)::text AS n FROM dualrun.stream_positions WHERE dataset = $1', [dataset]);
  return Number(r.rows[0].n);
}

/** No raw Node stack and no unhandled error in a worker's stderr. */
export function expectNoRawStack(stderr: string): void {
  expect(stderr).not.toMatch(/Unhandled 'error' event|UnhandledPromiseRejection|^\s+at .+\(.+:\d+:\d+\)$/m);
}

export async function loadExpected(pool: Pool, table: string, rows: Iterable<OrderRow>): Promise<void> {
  const all = [...rows];
  await pool.query(`CREATE TABLE ${table} (order_id integer PRIMARY KEY, customer_id integer NOT NULL, amount numeric(12,2) NOT NULL, status text NOT NULL, order_date date NOT NULL)`);
  await pool.query(`INSERT INTO ${table} SELECT * FROM unnest($1::int[], $2::int[], $3::numeric[], $4::text[], $5::date[])`,
    [all.map((r) => r.order_id), all.map((r) => r.customer_id), all.map((r) => r.amount), all.map((r) => r.status), all.map((r) => r.order_date)]);
}

/** The output equals the expected table: same count, same checksum, no key differs. */
export async function expectExact(pool: Pool, expected: string, output: string): Promise<void> {
  const keyDiff = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${expected} e FULL JOIN ${output} o USING (order_id)
      WHERE e.order_id IS NULL OR o.order_id IS NULL OR row(e.customer_id, e.amount, e.status, e.order_date) IS DISTINCT FROM row(o.customer_id, o.amount, o.status, o.order_date)`);
  expect(keyDiff.rows[0].n, 'keys lost, extra or wrong').toBe(0);
  expect(await symmetricDifference(pool, expected, output, ORDER_COLUMNS)).toBe(0);
  expect(await tableChecksum(pool, output, ORDER_COLUMNS)).toEqual(await tableChecksum(pool, expected, ORDER_COLUMNS));
}

/** Every dead letter carries its stage, a reason and the raw payload (Kafka tombstones aside). */
export async function expectDeadLettersComplete(pool: Pool, dataset: string): Promise<Record<string, number>> {
  const bad = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM dualrun.dead_letters WHERE dataset = $1 AND (coalesce(reason, '') = '' OR payload IS NULL OR length(payload) = 0)`, [dataset]);
  expect(bad.rows[0].n, 'dead letters without reason or payload').toBe(0);
  const by = await pool.query<{ stage: string; n: number }>('SELECT stage, count(*)::int AS n FROM dualrun.dead_letters WHERE dataset = $1 GROUP BY stage', [dataset]);
  return Object.fromEntries(by.rows.map((r) => [r.stage, r.n]));
}

// ---- a Postgres of the test's own, to restart -------------------------------------------

export interface OwnPostgres {
  readonly url: string;
  readonly pool: Pool;
  /** A fast restart: pg_ctl stop -m fast, then start. */
  restartFast(): Promise<void>;
  /** pg_ctl stop -m immediate (no shutdown checkpoint, clients cut). */
  stopImmediate(): Promise<void>;
  start(): Promise<void>;
  release(): Promise<void>;
}

interface Binaries { pg_ctl: string }

export async function ownPostgres(): Promise<OwnPostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-faults-pg-'));
  fs.chmodSync(dir, 0o755);
  const handle: EmbeddedHandle = await acquireEmbeddedPostgres({ dir, settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '100' } });
  const bin = (await import(`@embedded-postgres/${os.platform()}-${os.arch()}`)) as Binaries;
  const user = process.getuid?.() === 0 ? { uid: Number((await run('id', ['-u', 'postgres'])).stdout), gid: Number((await run('id', ['-g', 'postgres'])).stdout) } : {};
  const data = path.join(dir, 'data');
  const pgctl = (args: string[]) => run(bin.pg_ctl, args, { ...user, cwd: dir, env: { ...process.env, LC_ALL: 'C' }, timeout: 120_000 });
  const pool = createPool(handle.url, { max: 5 });
  const start = async () => {
    const o = `-p ${handle.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c max_connections=100`;
    await pgctl(['start', '-D', data, '-l', path.join(dir, 'postgres.log'), '-w', '-t', '60', '-o', o]);
  };
  return {
    url: handle.url,
    pool,
    // Not `pg_ctl restart`: it cannot take -l, so the new server held pg_ctl's stdout and
    // execFile waited for it until its 120 s timeout (each restart test took 2 minutes more).
    restartFast: async () => { await pgctl(['stop', '-D', data, '-m', 'fast', '-w', '-t', '60']); await start(); },
    stopImmediate: async () => { await pgctl(['stop', '-D', data, '-m', 'immediate', '-w', '-t', '60']); },
    start,
    release: async () => {
      await pool.end().catch(() => undefined);
      await handle.release();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

// ---- a broker of the test's own, to stop (never the shared one on 9092) -----------------

export interface OwnBroker {
  readonly brokers: string[];
  stop(): Promise<void>;
  start(): Promise<void>;
  remove(): Promise<void>;
}

/** The folder holding the downloaded Kafka jars (`<version>/libs`): this checkout's, or the one node_modules comes from. */
function kafkaJarsHome(): string {
  const candidates = [process.env.KAFKA_HOME_DIR, path.join(ROOT, '.cache', 'kafka'), path.join(fs.realpathSync(path.join(ROOT, 'node_modules')), '..', '.cache', 'kafka')];
  const version = process.env.KAFKA_VERSION ?? '4.1.1';
  const found = candidates.find((c) => c && fs.existsSync(path.join(c, version, 'libs')));
  if (!found) throw new Error(`no Kafka jars found (tried ${candidates.filter(Boolean).join(', ')}): run npm run kafka:start once`);
  return path.join(found, version);
}

export async function ownBroker(port: number, controllerPort: number): Promise<OwnBroker> {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-faults-kafka-'));
  fs.symlinkSync(kafkaJarsHome(), path.join(home, process.env.KAFKA_VERSION ?? '4.1.1'));
  const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(controllerPort), KAFKA_HOME_DIR: home };
  const script = (cmd: string) => run('bash', [path.join(ROOT, 'scripts', 'kafka.sh'), cmd], { cwd: ROOT, env, timeout: 120_000 });
  const b: OwnBroker = {
    brokers: [`127.0.0.1:${port}`],
    start: async () => { await script('start'); },
    stop: async () => { await script('stop'); },
    remove: async () => { await script('stop').catch(() => undefined); fs.rmSync(home, { recursive: true, force: true }); },
  };
  await b.start();
  return b;
}
