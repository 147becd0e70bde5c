/**
 * Reconciler test support: a runtime on a fresh test database (the toolkit
 * schema migrated into it) with datasets compiled from a raw config, as a user's
 * dualrun.yaml would be.
 */
import { compileConfig } from '../../src/core/config/compile-config.ts';
import { createLogger } from '../../src/core/logger.ts';
import { createRuntime, type Runtime } from '../../src/core/runtime.ts';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import type { WindowResult } from '../../reconcile/types.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { stringifyExact } from '../../src/core/exact-json.ts';

export interface RawDataset {
  key: string[];
  window?: { column: string; grain?: 'day' | 'hour'; timezone?: string };
  batch: { output: string; database?: string };
  stream: { output: string; database?: string };
  reconcile?: { columns?: string[]; ignore?: string[]; tolerance?: Record<string, number>; settle?: string; buckets?: number; map?: Record<string, string> };
}

export function dataset(d: Omit<RawDataset, 'stream'> & { stream: { output: string; database?: string } }): Record<string, unknown> {
  return { ...d, stream: { ...d.stream, source: { topic: 'test.topic', format: 'json' } } };
}

export function runtimeFor(db: TestDatabase, datasets: Record<string, Record<string, unknown>>, extra: Record<string, unknown> = {}): Runtime {
  const config = compileConfig({ database: { url: db.url }, datasets, ...extra }, { path: null });
  return createRuntime({ config, log: createLogger(process.env.TEST_LOG_LEVEL ?? 'silent') });
}

/** One whole-table reconciliation of `batch` against `stream` keyed by id (not stored), for checks that run before any window. */
export async function judgeOutputs(db: TestDatabase, batch: string, stream: string): Promise<WindowResult> {
  const rt = runtimeFor(db, { d: dataset({ key: ['id'], batch: { output: batch }, stream: { output: stream } }) });
  try { return (await reconcileDataset(rt, 'd', { assumeSettled: true, samples: 10, store: false }))[0]; } finally { await rt.close(); }
}

export async function freshDatabase(prefix = 'rc'): Promise<TestDatabase> {
  return createTestDatabase(prefix);
}

/** Marks a window batch-settled and moves the stream watermark past it. */
export async function settle(rt: Runtime, name: string, windowStart: string | null, opts: { snapshotAt?: string; watermark?: string } = {}): Promise<void> {
  const db = await rt.db();
  await db.query(
    `INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, finished_at, snapshot_at)
     VALUES ($1, $2::timestamptz, $2::timestamptz + interval '1 day', $3, 'adopted', 'succeeded', now(), $4)`,
    [name, windowStart, windowStart ? windowStart.slice(0, 10) : null, opts.snapshotAt ?? new Date().toISOString()],
  );
  await db.query(
    `INSERT INTO dualrun.watermarks (dataset, event_time) VALUES ($1, $2)
     ON CONFLICT (dataset) DO UPDATE SET event_time = excluded.event_time`,
    [name, opts.watermark ?? '2100-01-01T00:00:00Z'],
  );
}

/** A key's columns in jsonb's order (shorter names first), whatever order the sample lists them in (the dataset's key order). */
function jsonbKeyOrder(key: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(key).sort(([a], [b]) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0)));
}

/** Every failing difference as `kind key-json [columns]`, sorted: the exact set to assert. */
export function found(r: WindowResult, which: 'samples' | 'inFlightSamples' = 'samples'): string[] {
  return (r.diff?.[which] ?? []).map((s) => `${s.kind} ${stringifyExact(jsonbKeyOrder(s.key))}${s.columns ? ` ${Object.keys(s.columns).sort().join(',')}` : ''}`).sort();
}

/** SQL adding `<schema>.pk_b` and `pk_s`: copies of `b` and `s` with a primary key on `id` (so the keyed drill-down runs). */
export function keyedCopiesSql(schema: string): string {
  return ['b', 's'].map((t) => `CREATE TABLE ${schema}.pk_${t} (LIKE ${schema}.${t});
ALTER TABLE ${schema}.pk_${t} ADD PRIMARY KEY (id);
INSERT INTO ${schema}.pk_${t} SELECT * FROM ${schema}.${t};`).join('\n');
}

/** Two fresh databases holding the same SETUP: runtimes comparing within the first, and from the second (batch) to the first. */
export interface TwoDatabases { db: TestDatabase; other: TestDatabase; rt: Runtime; crossRt: Runtime; close(): Promise<void> }

export async function sameAndCrossDatabase(prefix: string, setup: string, datasets: (batchDb?: string) => Record<string, Record<string, unknown>>): Promise<TwoDatabases> {
  const [db, other] = await Promise.all([freshDatabase(prefix), freshDatabase(`${prefix}x`)]);
  await Promise.all([db.pool.query(setup), other.pool.query(setup)]);
  const rt = runtimeFor(db, datasets());
  const crossRt = runtimeFor(db, datasets(other.url));
  return {
    db, other, rt, crossRt,
    async close() { await rt.close(); await crossRt.close(); await db.drop(); await other.drop(); },
  };
}
