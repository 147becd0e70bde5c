/**
 * What an output table is, beyond its rows: which table object (its oid: a table
 * dropped and created again is another one) and its columns with their types.
 * The reconciler records both sides' shapes with each verdict; the gate reads them
 * again (rule 4.6, `table-changed`, docs/cutover.md): a verdict about a table that
 * was recreated, or that has gained, lost or retyped a column since (a column the
 * verdict never compared, a type that now rounds), no longer describes it.
 */
import type { Pool, PoolClient } from '../db/connect.ts';
import type { TableRef } from '../identifiers.ts';

export interface OutputShape {
  readonly oid: string;
  /** md5 of the columns as `name type` (format_type, with typmod), sorted by name. */
  readonly columns: string;
}

/** The table's shape now; null when it does not exist. */
export async function readOutputShape(db: Pool | PoolClient, table: TableRef): Promise<OutputShape | null> {
  const r = await db.query<{ oid: string; columns: string }>(
    `SELECT c.oid::text AS oid,
            md5(coalesce(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attname), '')) AS columns
       FROM pg_class c
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.oid = to_regclass($1)
      GROUP BY c.oid`, [table.sql]);
  return r.rows[0] ?? null;
}

/** How a shape changed, for people; null when it did not. */
export function shapeChange(was: OutputShape, now: OutputShape | null): string | null {
  if (!now) return 'no longer exists';
  if (now.oid !== was.oid) return 'was dropped and created again';
  if (now.columns !== was.columns) return 'has gained, lost or retyped a column';
  return null;
}
