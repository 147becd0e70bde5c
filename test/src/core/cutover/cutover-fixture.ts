/**
 * A real Postgres database with two outputs that are easy to tell apart: the batch
 * output has 5 rows tagged 'batch'; the stream output has 7 rows tagged 'stream'
 * plus the streaming sink's `_dr_*` metadata columns and a looser `amount` type.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';
import type { Pool } from '../../../../src/core/db/connect.ts';
import { datasetDefinition } from '../../../../src/core/cutover/dataset-definition.ts';

export const BATCH_ROWS = 5;
export const STREAM_ROWS = 7;

export function rawConfig(url: string, cutover: Record<string, unknown> = {}): Record<string, unknown> {
  const base = { key: ['order_id'], stream: { output: 'analytics.orders_stream', source: { topic: 'shop.orders' } }, batch: { output: 'analytics.orders_batch' } };
  return {
    database: { url, poolSize: 4 },
    datasets: {
      orders: { ...base, window: { column: 'order_date', grain: 'day' }, cutover: { serve: 'analytics.orders', promoteAfter: 3, retireAfter: 2, maxEvidenceAge: '48h', ...cutover } },
      // No serving view: applications pick the table with readServing().
      plain: { key: ['id'], batch: { output: 'analytics.plain_batch' }, stream: { output: 'analytics.plain_stream', source: { topic: 'shop.plain' } }, cutover: { promoteAfter: 1 } },
    },
  };
}

export interface Fixture { db: TestDatabase; rt: Runtime; cleanup(): Promise<void> }

export async function createFixture(cutover: Record<string, unknown> = {}): Promise<Fixture> {
  const db = await createTestDatabase('cutover');
  await db.pool.query(`
    CREATE SCHEMA analytics;
    CREATE TABLE analytics.orders_batch (order_id int PRIMARY KEY, order_date date NOT NULL, amount numeric(12,2), side text NOT NULL);
    CREATE TABLE analytics.orders_stream (order_id int PRIMARY KEY, order_date date NOT NULL, amount numeric, side text NOT NULL,
      _dr_version bigint, _dr_source_ts timestamptz);
    INSERT INTO analytics.orders_batch SELECT g, date '2026-11-19', g * 10, 'batch' FROM generate_series(1, ${BATCH_ROWS}) g;
    INSERT INTO analytics.orders_stream SELECT g, date '2026-11-19', g * 10, 'stream', g, now() FROM generate_series(1, ${STREAM_ROWS}) g;`);
  const rt = createRuntime({ config: compileConfig(rawConfig(db.url, cutover), { path: null }), log: pino({ level: 'silent' }) });
  await rt.db(); // migrates
  await recordDefinitionsLongAgo(rt);
  return { db, rt, async cleanup() { await rt.close(); await db.drop(); } };
}

/** Each dataset's current definition, as if recorded 60 days ago (so seeded evidence is judged under it). */
export async function recordDefinitionsLongAgo(rt: Runtime): Promise<void> {
  const db = await rt.db();
  for (const ds of Object.values(rt.config.datasets)) {
    const def = datasetDefinition(ds);
    await db.query(`INSERT INTO dualrun.dataset_definitions (dataset, fingerprint, parts, seen_by, seen_at) VALUES ($1, $2, $3, 'test', now() - interval '60 days')`,
      [ds.name, def.fingerprint, JSON.stringify(def.parts)]);
  }
}

const H = 3_600_000;

export interface SeededVerdict {
  dataset?: string; day: string | null; verdict: 'match' | 'mismatch' | 'pending'; stage?: string; agoHours?: number;
  /** Rows on each side (default 10). */
  rows?: number; batchRows?: number; streamRows?: number;
  /** Default: the dataset's newest recorded definition. */
  definition?: string | null;
  result?: Record<string, unknown>;
  /** Make the outputs hold the seeded rows in the window (default: for orders' day windows), as the gate re-counts them. */
  fill?: boolean;
}

/** Seeded rows' keys start here; the fixture's own rows are below. */
const SEEDED_KEYS = 1_000_000;

/** Seeds a reconciliation result (the reconciler's output) for a day window; returns its id. */
export async function seedVerdict(pool: Pool, v: SeededVerdict): Promise<string> {
  const dataset = v.dataset ?? 'orders';
  const r = await pool.query<{ id: string }>(
    `INSERT INTO dualrun.reconciliations (dataset, window_start, window_end, window_label, verdict, stage, result, started_at, finished_at, batch_rows, stream_rows, definition)
     VALUES ($1, $2::date, $2::date + 1, $2, $3, $4, $9, $5, $5, $6, $7,
             CASE WHEN $10 THEN (SELECT fingerprint FROM dualrun.dataset_definitions WHERE dataset = $1 ORDER BY id DESC LIMIT 1) ELSE $8 END)
     RETURNING id::text`,
    [dataset, v.day, v.verdict, v.stage ?? 'shadow', new Date(Date.now() - (v.agoHours ?? 1) * H),
      v.batchRows ?? v.rows ?? 10, v.streamRows ?? v.rows ?? 10, v.definition ?? null, JSON.stringify(v.result ?? {}), v.definition === undefined]);
  if (v.day && (v.fill ?? dataset === 'orders')) await fillWindow(pool, v.day, v.batchRows ?? v.rows ?? 10, v.streamRows ?? v.rows ?? 10);
  return r.rows[0].id;
}

/** The orders outputs hold exactly `batch` and `stream` rows on `day` (seeded rows replaced; the fixture's kept). */
export async function fillWindow(pool: Pool, day: string, batch: number, stream: number): Promise<void> {
  for (const [table, n, extra] of [['analytics.orders_batch', batch, ''], ['analytics.orders_stream', stream, ', 1, now()']] as const) {
    await pool.query(`DELETE FROM ${table} WHERE order_date = $1::date AND order_id >= ${SEEDED_KEYS}`, [day]);
    await pool.query(
      `INSERT INTO ${table} SELECT k, $1::date, 1, '${table.endsWith('batch') ? 'batch' : 'stream'}'${extra}
         FROM generate_series(1, greatest(0, $2::int - (SELECT count(*)::int FROM ${table} WHERE order_date = $1::date))) g,
              LATERAL (SELECT coalesce(max(order_id), ${SEEDED_KEYS - 1}) + g AS k FROM ${table} WHERE order_id >= ${SEEDED_KEYS}) m`,
      [day, n]);
  }
}

/**
 * The day `n` days before today (UTC), as a window label, counted from 14 hours ago:
 * a verdict seeded up to 14 + 24(n-1) hours ago was judged after its window ended
 * whatever the time of day (the gate never counts a window judged before its end).
 */
export function daysAgo(n: number): string {
  return new Date(Date.now() - 14 * H - n * 24 * H).toISOString().slice(0, 10);
}

/** Which side the serving view reads, checking it returns that side's rows and nothing else. */
export async function servedSide(pool: Pool): Promise<'batch' | 'stream'> {
  const r = await pool.query<{ side: string; n: number; sides: number }>('SELECT min(side) AS side, count(*)::int AS n, count(DISTINCT side)::int AS sides FROM analytics.orders');
  const { side, n, sides } = r.rows[0];
  const total = (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM analytics.orders_${side}`)).rows[0]?.n;
  if (sides !== 1 || n !== total) throw new Error(`half-switched read: ${JSON.stringify(r.rows[0])}`);
  return side as 'batch' | 'stream';
}

export function tempDir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'dualrun-cutover-'));
  fs.chmodSync(d, 0o755);
  return d;
}
