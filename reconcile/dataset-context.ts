/**
 * Everything a dataset's windows share: the two sides' pools and table shapes,
 * the compared columns, the bucket count. Prepared once per reconcile run.
 */
import type { Pool } from '../src/core/db/connect.ts';
import { DualrunError } from '../src/core/errors.ts';
import type { TableRef } from '../src/core/identifiers.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { readTableShape, type ColumnInfo } from './table-columns.ts';
import { comparedColumns, type ComparedColumns } from './compared-columns.ts';
import { sideExpressions } from './column-expressions.ts';
import type { SideSpec } from './window-fingerprint.ts';
import { INTEGER_TYPES, type Bucketing } from './canonical-row-sql.ts';
import { recordHashUsable } from './row-hash-sql.ts';
import { assertDistinctOutputs } from './same-source.ts';
import { assertWindowColumns } from './window-bounds.ts';
import { assertEveryRowInAWindow } from './rows-in-no-window.ts';
import { onSide } from './side-error.ts';
import { hasRowVersions } from '../src/core/cutover/row-versions.ts';

export interface DatasetContext {
  ds: DatasetConfig;
  batchPool: Pool;
  streamPool: Pool;
  /** Both outputs in one database: drill-down joins in SQL, sessions share a snapshot. */
  sameDatabase: boolean;
  /** The batch rows' xmin sum is read with each window's fingerprint (rule rows-rewritten: windows only). */
  batchRowVersions: boolean;
  /** The same for the stream rows (rule stream-rewritten: windows only). */
  streamRowVersions: boolean;
  columns: ComparedColumns;
  batch: SideSpec;
  stream: SideSpec;
  buckets: Bucketing;
}

/**
 * Rows per bucket the automatic bucket count aims at. Drill-down reads whole
 * mismatched buckets, so its cost grows with this; fewer buckets make the
 * fingerprint's hash aggregate only slightly cheaper (measured: 1 024 per
 * bucket cost more in drill-down than it saved at 1M rows with 100 differences).
 */
const ROWS_PER_BUCKET = 256;

export async function prepareDataset(rt: Runtime, ds: DatasetConfig, bucketsOverride?: number): Promise<DatasetContext> {
  const [batchPool, streamPool] = await Promise.all([rt.pool(ds.batch.database), rt.pool(ds.stream.database)]);
  // The stream side's key under its own names (reconcile.map may rename it on an adopted output).
  const streamKey = ds.key.map((k) => ds.reconcile.map[k] ?? k);
  const [bShape, sShape] = await Promise.all([
    onSide('batch.output', ds.batch.output, readTableShape(batchPool, ds.batch.output, ds.key, { file: rt.config.path, at: `datasets.${ds.name}.batch.output` })),
    onSide('stream.output', ds.stream.output, readTableShape(streamPool, ds.stream.output, streamKey, { file: rt.config.path, at: `datasets.${ds.name}.stream.output` })),
  ]);
  await assertDistinctOutputs(ds, batchPool, streamPool);
  const exprs = await sideExpressions(rt, ds, batchPool, streamPool);
  const columns = comparedColumns(ds, bShape, sShape, exprs, rt.config.path);
  assertWindowColumns(ds, columns.windows, rt.config.path);
  await assertEveryRowInAWindow(ds, [['batch.output', batchPool, bShape, columns.windows?.batch ?? null], ['stream.output', streamPool, sShape, columns.windows?.stream ?? null]]);
  await Promise.all([
    requireReadable(batchPool, 'batch.output', bShape.table, [...columns.batch.key, ...columns.batch.compared, columns.windows?.batch ?? null]),
    requireReadable(streamPool, 'stream.output', sShape.table, [...columns.stream.key, ...columns.stream.compared, columns.windows?.stream ?? null]),
  ]);
  const count = bucketsOverride ?? ds.reconcile.buckets ?? (await autoBuckets([[batchPool, ds.batch.output.sql], [streamPool, ds.stream.output.sql]]));
  const integerKey = columns.key.length === 1 && INTEGER_TYPES.has(columns.batch.key[0].type) && INTEGER_TYPES.has(columns.stream.key[0].type);
  const sameDatabase = ds.batch.database === ds.stream.database;
  const [bServer, sServer, batchRowVersions, streamRowVersions] = await Promise.all([serverFacts(batchPool), serverFacts(streamPool),
    ds.window !== null && hasRowVersions(batchPool, bShape.table), ds.window !== null && hasRowVersions(streamPool, sShape.table)]);
  const utf8Hash = !sameDatabase && bServer.encoding !== sServer.encoding;
  const recordHash = recordHashUsable(bServer.versionNum, sServer.versionNum, sameDatabase);
  const buckets: Bucketing = { count, mode: integerKey ? 'integer' : 'hash', ...(utf8Hash ? { utf8Hash } : {}), ...(recordHash ? { recordHash } : {}) };
  return {
    ds,
    batchPool,
    streamPool,
    sameDatabase,
    batchRowVersions,
    streamRowVersions,
    columns,
    batch: { shape: bShape, key: columns.batch.key, compared: columns.batch.compared, windowColumn: columns.windows?.batch ?? null },
    stream: { shape: sShape, key: columns.stream.key, compared: columns.stream.compared, windowColumn: columns.windows?.stream ?? null },
    buckets,
  };
}

/** The server encoding (the bytes hashtextextended hashes) and version (which hash functions exist). */
async function serverFacts(pool: Pool): Promise<{ encoding: string; versionNum: number }> {
  const r = await pool.query<{ e: string; v: string }>(`SELECT current_setting('server_encoding') AS e, current_setting('server_version_num') AS v`);
  return { encoding: r.rows[0].e, versionNum: Number(r.rows[0].v) };
}

/**
 * A column the role may not read (column-level GRANTs) would fail the scan with Postgres's
 * `permission denied for table x`, which does not say which column: named here instead.
 */
async function requireReadable(pool: Pool, field: string, table: TableRef, cols: readonly (ColumnInfo | null)[]): Promise<void> {
  const names = [...new Set(cols.filter((c): c is ColumnInfo => c !== null && c.expression === undefined).map((c) => c.name))];
  const r = await pool.query<{ name: string; role: string }>(
    `SELECT n AS name, current_user::text AS role FROM pg_catalog.unnest($2::pg_catalog.text[]) AS n
      WHERE NOT pg_catalog.has_column_privilege($1::pg_catalog.regclass, n, 'SELECT')`, [table.sql, names]);
  if (r.rows.length === 0) return;
  const which = r.rows.map((x) => x.name).join(', ');
  throw new DualrunError('DUALRUN_RECONCILE_FAILED',
    `${field} ${table.text}: role ${r.rows[0].role} may not read column(s) ${which}; grant SELECT on them, or list them in reconcile.ignore`,
    { details: { table: table.text, columns: r.rows.map((x) => x.name) } });
}

/**
 * From the planner's row estimate, without scanning: EXPLAIN's, which also knows a
 * partitioned table (its partitions' rows), an inheritance parent with its children, and a view;
 * pg_class holds no rows for those, and 17 buckets for a billion rows would make the cross-database
 * drill-down hold a huge bucket in memory.
 */
async function autoBuckets(tables: [Pool, string][]): Promise<number> {
  const estimates = await Promise.all(tables.map(async ([pool, sql]) => {
    const r = await pool.query<{ 'QUERY PLAN': [{ Plan: { 'Plan Rows': number } }] }>(`EXPLAIN (FORMAT JSON) SELECT 1 FROM ${sql}`);
    return Number(r.rows[0]?.['QUERY PLAN']?.[0]?.Plan?.['Plan Rows'] ?? 0);
  }));
  const rows = Math.max(...estimates, 0);
  return nextPrime(Math.min(65536, Math.max(16, Math.ceil(rows / ROWS_PER_BUCKET))));
}

/** A prime bucket count keeps integer keys with a common stride (every 10th id...) spread evenly. */
export function nextPrime(n: number): number {
  const isPrime = (x: number) => { for (let d = 2; d * d <= x; d++) if (x % d === 0) return false; return x > 1; };
  let p = n;
  while (!isPrime(p)) p++;
  return p;
}
