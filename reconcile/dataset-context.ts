/**
 * Everything a dataset's windows share: the two sides' pools and table shapes,
 * the compared columns, the bucket count. Prepared once per reconcile run.
 */
import type { Pool } from '../src/core/db/connect.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { readTableShape } from './table-columns.ts';
import { comparedColumns, type ComparedColumns } from './compared-columns.ts';
import { sideExpressions } from './column-expressions.ts';
import type { SideSpec } from './window-fingerprint.ts';
import { INTEGER_TYPES, type Bucketing } from './canonical-row-sql.ts';
import { recordHashUsable } from './row-hash-sql.ts';
import { assertDistinctOutputs } from './same-source.ts';

export interface DatasetContext {
  ds: DatasetConfig;
  batchPool: Pool;
  streamPool: Pool;
  /** Both outputs in one database: drill-down joins in SQL, sessions share a snapshot. */
  sameDatabase: boolean;
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
  const [bShape, sShape] = await Promise.all([readTableShape(batchPool, ds.batch.output, ds.key), readTableShape(streamPool, ds.stream.output, ds.key)]);
  await assertDistinctOutputs(ds, batchPool, streamPool);
  const exprs = await sideExpressions(rt, ds, batchPool, streamPool);
  const columns = comparedColumns(ds, bShape, sShape, exprs);
  const count = bucketsOverride ?? ds.reconcile.buckets ?? (await autoBuckets([[batchPool, ds.batch.output.sql], [streamPool, ds.stream.output.sql]]));
  const integerKey = columns.key.length === 1 && INTEGER_TYPES.has(columns.batch.key[0].type) && INTEGER_TYPES.has(columns.stream.key[0].type);
  const sameDatabase = ds.batch.database === ds.stream.database;
  const [bServer, sServer] = await Promise.all([serverFacts(batchPool), serverFacts(streamPool)]);
  const utf8Hash = !sameDatabase && bServer.encoding !== sServer.encoding;
  const recordHash = recordHashUsable(bServer.versionNum, sServer.versionNum, sameDatabase);
  const buckets: Bucketing = { count, mode: integerKey ? 'integer' : 'hash', ...(utf8Hash ? { utf8Hash } : {}), ...(recordHash ? { recordHash } : {}) };
  return {
    ds,
    batchPool,
    streamPool,
    sameDatabase,
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

/** From the planner's row estimate (or the table size when never analyzed), without scanning. */
async function autoBuckets(tables: [Pool, string][]): Promise<number> {
  const estimates = await Promise.all(tables.map(async ([pool, sql]) => {
    const r = await pool.query<{ est: string }>(
      `SELECT (CASE WHEN c.reltuples > 0 THEN c.reltuples ELSE pg_relation_size(c.oid) / 64 END)::bigint::text AS est
         FROM pg_class c WHERE c.oid = to_regclass($1)`, [sql]);
    return Number(r.rows[0]?.est ?? 0);
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
