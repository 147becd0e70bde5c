/**
 * What Postgres says about one side's output table: its columns with their
 * types, and whether a unique index guarantees one row per key. The canonical
 * encoding depends on each side's own column types, because the two sides may
 * store the same value differently (numeric(12,2) vs numeric, int4 vs int8).
 */
import { DualrunError } from '../src/errors.ts';
import type { Pool, PoolClient } from '../src/db/connect.ts';
import type { TableRef } from '../src/identifiers.ts';

export interface ColumnInfo {
  /** This side's column name (reconcile.map may give the stream side another name). */
  name: string;
  /** Base type name (domains resolved), e.g. `numeric`, `timestamptz`, `text`; for an expression, its result type. */
  type: string;
  /** A reconcile.expressions entry for this side, already planned by Postgres; read instead of the column. */
  expression?: string;
  /** The column's name in the config (the batch name) when this side's `name` differs or an expression stands in. */
  logical?: string;
}

/** The name results use for a column: the config's, the same on both sides. */
export function logicalName(col: ColumnInfo): string {
  return col.logical ?? col.name;
}

export interface TableShape {
  table: TableRef;
  columns: Map<string, ColumnInfo>;
  /** A non-partial unique index covers only key columns: duplicates are impossible. */
  keyUnique: boolean;
}

export async function readTableShape(db: Pool | PoolClient, table: TableRef, key: readonly string[]): Promise<TableShape> {
  const reg = await db.query<{ oid: number | null }>('SELECT to_regclass($1)::oid AS oid', [table.sql]);
  const oid = reg.rows[0].oid;
  if (oid === null) {
    throw new DualrunError('DUALRUN_RECONCILE_FAILED', `table ${table.text} does not exist`, { details: { table: table.text } });
  }
  const cols = await db.query<{ name: string; type: string }>(
    `SELECT a.attname AS name,
            coalesce(bt.typname, t.typname) AS type
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [oid],
  );
  const idx = await db.query<{ cols: string[] }>(
    `SELECT array_agg(a.attname::text) AS cols
       FROM pg_index i
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
      WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
      GROUP BY i.indexrelid`,
    [oid],
  );
  return {
    table,
    columns: new Map(cols.rows.map((c) => [c.name, { name: c.name, type: c.type }])),
    keyUnique: idx.rows.some((r) => r.cols.every((c) => key.includes(c))),
  };
}
