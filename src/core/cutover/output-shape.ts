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
  /**
   * A view's query (md5 of pg_get_viewdef): `CREATE OR REPLACE VIEW` keeps the oid and the
   * columns but may compute other values. Absent for tables, and in shapes recorded before it.
   */
  readonly query?: string;
}

/** The table's shape now; null when it does not exist. */
export async function readOutputShape(db: Pool | PoolClient, table: TableRef): Promise<OutputShape | null> {
  const r = await db.query<{ oid: string; columns: string; query: string | null }>(
    `SELECT c.oid::text AS oid,
            md5(coalesce(string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY a.attname), '')) AS columns,
            CASE WHEN c.relkind = 'v' THEN md5(pg_get_viewdef(c.oid)) END AS query
       FROM pg_class c
       LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.oid = to_regclass($1)
      GROUP BY c.oid`, [table.sql]);
  const row = r.rows[0];
  if (!row) return null;
  return { oid: row.oid, columns: row.columns, ...(row.query ? { query: row.query } : {}) };
}

/** How a shape changed, for people; null when it did not. */
export function shapeChange(was: OutputShape, now: OutputShape | null): string | null {
  if (!now) return 'no longer exists';
  if (now.oid !== was.oid) return 'was dropped and created again';
  if (now.columns !== was.columns) return 'has gained, lost or retyped a column';
  if (was.query !== undefined && now.query !== was.query) return 'is a view whose query was replaced';
  return null;
}
