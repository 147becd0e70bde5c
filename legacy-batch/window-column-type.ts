/**
 * The window DELETE compares batch.output's window column with the window's bounds, so the
 * column must hold instants or days the way the reconciler reads them. A text column compares
 * the bounds as strings ('2026-11-20' sorts before '2026-11-20 00:00:00+00:00': the load of the
 * 19th deleted the 20th's rows), and a `date` cannot be cut into hours (the last hour's bounds
 * span the whole day: its load deleted every other hour). Both are refused before the DELETE.
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { PoolClient } from '../src/core/db/connect.ts';

const WINDOW_TYPES = new Set(['date', 'timestamp without time zone', 'timestamp with time zone']);

/** Throws (the run fails, nothing deleted) when batch.output's window column cannot hold the window's bounds. */
export async function assertWindowColumnType(client: PoolClient, ds: DatasetConfig): Promise<void> {
  if (!ds.window) return;
  // A domain compares as its base type. A missing table or column is left to the DELETE's own error.
  const r = await client.query<{ type: string }>(
    `SELECT (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END)::regtype::text AS type
     FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
     WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [ds.batch.output.sql, ds.window.column],
  );
  const type = r.rows[0]?.type;
  if (type === undefined) return;
  const where = `window.column ${ds.window.column} of batch.output ${ds.batch.output.text} is of type ${type}`;
  if (!WINDOW_TYPES.has(type)) {
    throw new Error(`${where}: a window column must be a date, timestamp or timestamptz (its rows are selected by comparing it with the window's bounds); nothing was deleted`);
  }
  if (type === 'date' && ds.window.grain === 'hour') {
    throw new Error(`${where}: a date cannot be cut into hour windows (the last hour's bounds span the whole day, so its load would delete the other hours' rows); use window.grain day, or a timestamp column; nothing was deleted`);
  }
}
