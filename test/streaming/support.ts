/** Helpers shared by the streaming tests: a config + runtime on a test database, checksums in SQL. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { compileConfig } from '../../src/core/config/compile-config.ts';
import type { DualrunConfig } from '../../src/core/config/types.ts';
import type { Pool } from '../../src/core/db/connect.ts';
import { migrate } from '../../src/core/db/migrate.ts';
import { createRuntime, type Runtime } from '../../src/core/runtime.ts';
import { parseTableRef, quoteIdent } from '../../src/core/identifiers.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';

export const FIXTURES = path.join(path.dirname(new URL(import.meta.url).pathname), 'fixtures');

/** Writes dualrun.yaml (as JSON) into a temp folder and compiles it. */
export function writeConfig(raw: Record<string, unknown>): { dir: string; file: string; config: DualrunConfig } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-stream-'));
  const file = path.join(dir, 'dualrun.json');
  fs.writeFileSync(file, JSON.stringify(raw, null, 2));
  return { dir, file, config: compileConfig(raw, { path: file, env: {} }) };
}

export function testRuntime(config: DualrunConfig, signal?: AbortSignal): Runtime {
  return createRuntime({ config, log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }), signal });
}

export async function setupToolkit(pool: Pool): Promise<void> {
  await migrate(pool);
}

/** A fresh database with the toolkit schema and an empty `analytics.orders_stream` output. */
export async function ordersStreamDatabase(prefix: string): Promise<TestDatabase> {
  const db = await createTestDatabase(prefix);
  await setupToolkit(db.pool);
  await db.pool.query('CREATE SCHEMA analytics');
  await db.pool.query(ORDERS_DDL('analytics.orders_stream'));
  return db;
}

/**
 * ordersStreamDatabase plus a captured source `public.orders_src` of `rows` orders (30 days,
 * 500 customers) and the `orders` dataset at `stage`: the replay tests' starting point.
 */
export async function capturedOrdersDatabase(prefix: string, rows: number, stage: string): Promise<TestDatabase> {
  const db = await ordersStreamDatabase(prefix);
  await db.pool.query(ORDERS_DDL('public.orders_src'));
  await db.pool.query(`INSERT INTO public.orders_src SELECT g, g % 500, (g % 1000) / 10.0, 'new', DATE '2026-11-01' + g % 30 FROM generate_series(1, ${rows}) g`);
  await installCapture(db.pool, parseTableRef('public.orders_src')!);
  await setStage(db.pool, 'orders', stage);
  return db;
}

export async function setStage(pool: Pool, dataset: string, stage: string): Promise<void> {
  await pool.query(`INSERT INTO dualrun.stages (dataset, stage) VALUES ($1, $2) ON CONFLICT (dataset) DO UPDATE SET stage = EXCLUDED.stage`, [dataset, stage]);
}

/** Row count and an order-independent checksum of the given columns, computed in Postgres. */
export async function tableChecksum(pool: Pool, table: string, columns: string[]): Promise<{ rows: number; checksum: string }> {
  const cols = columns.map(quoteIdent).join(', ');
  const r = await pool.query<{ rows: number; checksum: string | null }>(
    `SELECT count(*)::int AS rows, md5(string_agg(h, '' ORDER BY h)) AS checksum FROM (SELECT md5(row(${cols})::text) AS h FROM ${table}) x`);
  return { rows: r.rows[0].rows, checksum: r.rows[0].checksum ?? '' };
}

/** Rows in one table and not the other, both ways (the exact difference, not just the checksum). */
export async function symmetricDifference(pool: Pool, a: string, b: string, columns: string[]): Promise<number> {
  const cols = columns.map(quoteIdent).join(', ');
  const r = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ((SELECT ${cols} FROM ${a} EXCEPT ALL SELECT ${cols} FROM ${b}) UNION ALL (SELECT ${cols} FROM ${b} EXCEPT ALL SELECT ${cols} FROM ${a})) d`);
  return r.rows[0].n;
}

export const ORDER_COLUMNS = ['order_id', 'customer_id', 'amount', 'status', 'order_date'];

export const ORDERS_DDL = (table: string) => `CREATE TABLE ${table} (
  order_id integer PRIMARY KEY, customer_id integer NOT NULL, amount numeric(12,2) NOT NULL,
  status text NOT NULL, order_date date NOT NULL)`;

/** `analytics.expected` holding a generated stream's expected rows (the model the output must equal). */
export async function writeExpectedOrders(pool: Pool, rows: readonly { order_id: unknown; customer_id: unknown; amount: unknown; status: unknown; order_date: unknown }[]): Promise<void> {
  await pool.query(ORDERS_DDL('analytics.expected'));
  await pool.query(`INSERT INTO analytics.expected SELECT * FROM unnest($1::int[], $2::int[], $3::numeric[], $4::text[], $5::date[])`,
    [rows.map((r) => r.order_id), rows.map((r) => r.customer_id), rows.map((r) => r.amount), rows.map((r) => r.status), rows.map((r) => r.order_date)]);
}
