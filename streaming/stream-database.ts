/**
 * Where a dataset's streaming state lives. Exactly-once needs the position in the
 * same transaction as the rows, so positions, dead letters, tombstones, keyed
 * state and the watermark live in the database of `stream.output`: the toolkit
 * database by default, or `stream.database` (which then gets the dualrun schema).
 */
import type { Pool } from '../src/core/db/connect.ts';
import { isCurrent, migrate } from '../src/core/db/migrate.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Runtime } from '../src/core/runtime.ts';

export async function streamDatabase(rt: Runtime, ds: DatasetConfig): Promise<Pool> {
  if (!ds.stream.database) return rt.db();
  const pool = await rt.pool(ds.stream.database);
  if (!(await isCurrent(pool))) await migrate(pool);
  return pool;
}
