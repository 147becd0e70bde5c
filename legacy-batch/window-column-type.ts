/**
 * The window DELETE compares batch.output's window column with the window's bounds, so the
 * column must hold instants or days the way the reconciler reads them. A text column compares
 * the bounds as strings ('2026-11-20' sorts before '2026-11-20 00:00:00+00:00': the load of the
 * 19th deleted the 20th's rows), and a `date` cannot be cut into hours (the last hour's bounds
 * span the whole day: its load deleted every other hour). Both are refused before the DELETE.
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Pool, PoolClient } from '../src/core/db/connect.ts';
import { windowColumnProblem } from '../src/core/window-column-rule.ts';
import { configMistake } from '../src/core/config/config-mistake.ts';

/**
 * Throws (the run fails, nothing deleted) when batch.output's window column cannot hold the window's
 * bounds: a config mistake naming datasets.<ds>.window.column (exit 2, as adopt and the reconciler say).
 */
export async function assertWindowColumnType(client: PoolClient, ds: DatasetConfig, file: string | null): Promise<void> {
  const problem = await windowColumnTypeProblem(client, ds, 'nothing was deleted');
  if (problem) throw configMistake(file, [{ at: `datasets.${ds.name}.window.column`, message: problem }], { dataset: ds.name });
}

/**
 * Why batch.output's window column cannot hold the window's bounds, or null; `outcome` ends the
 * message, saying what the refusal left undone.
 */
export async function windowColumnTypeProblem(client: Pool | PoolClient, ds: DatasetConfig, outcome: string): Promise<string | null> {
  if (!ds.window) return null;
  // A domain compares as its base type. A missing table or column is left to the DELETE's own error.
  const r = await client.query<{ type: string; base: string }>(
    `SELECT b.oid::regtype::text AS type, b.typname AS base
     FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
     JOIN pg_catalog.pg_type b ON b.oid = (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END)
     WHERE a.attrelid = pg_catalog.to_regclass($1) AND a.attname = $2 AND a.attnum > 0 AND NOT a.attisdropped`,
    [ds.batch.output.sql, ds.window.column],
  );
  if (r.rows.length === 0) return null;
  const { type, base } = r.rows[0];
  const where = `window.column ${ds.window.column} of batch.output ${ds.batch.output.text} is of type ${type}`;
  const problem = windowColumnProblem(base, ds.window.grain);
  if (problem === 'not-a-time') return `${where}: a window column must be a date, timestamp or timestamptz (its rows are selected by comparing it with the window's bounds); ${outcome}`;
  if (problem === 'date-in-hours') return `${where}: a date cannot be cut into hour windows (the last hour's bounds span the whole day, so its load would delete the other hours' rows); use window.grain day, or a timestamp column; ${outcome}`;
  return null;
}
