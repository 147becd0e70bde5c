/**
 * Before a window is loaded or adopted: the batch output the config names is there, with the
 * window column. Without them the load's DELETE (or adopt's count) failed with Postgres's
 * `relation ... does not exist` as a failed run (exit 3, the code for a service that cannot be
 * reached), though only the config (or `dualrun migrate`) can fix it: a config mistake (exit 2)
 * naming the file, the field and the nearest name. A managed run is still recorded failed (and
 * alerted) with that error; adopt records nothing.
 */
import { configMistake } from '../src/core/config/config-mistake.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Pool, PoolClient } from '../src/core/db/connect.ts';
import { caseHint } from '../src/core/db/table-catalog.ts';
import { didYouMean } from '../src/core/nearest-name.ts';

export async function assertBatchOutput(db: Pool | PoolClient, ds: DatasetConfig, file: string | null): Promise<void> {
  const r = await db.query<{ oid: number | null; cols: string[] | null }>(
    `SELECT c.oid::int AS oid, (SELECT pg_catalog.array_agg(a.attname::pg_catalog.text) FROM pg_catalog.pg_attribute a
                            WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS cols
       FROM (SELECT pg_catalog.to_regclass($1)::pg_catalog.oid AS oid) c`, [ds.batch.output.sql]);
  const { oid, cols } = r.rows[0];
  const at = `datasets.${ds.name}`;
  if (oid === null) {
    throw configMistake(file, [{ at: `${at}.batch.output`, message: `table ${ds.batch.output.text} does not exist${await caseHint(db, ds.batch.output)}; correct the name, or create it (dualrun migrate creates missing outputs)` }], { dataset: ds.name });
  }
  const w = ds.window?.column;
  if (w !== undefined && !(cols ?? []).includes(w)) {
    throw configMistake(file, [{ at: `${at}.window.column`, message: `${w} is not a column of batch.output ${ds.batch.output.text}${didYouMean(w, cols ?? [])}; nothing was changed` }], { dataset: ds.name });
  }
}
