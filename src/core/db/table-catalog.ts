/**
 * What the Postgres catalog says about a user's table: its columns with their
 * exact types (`format_type`, typmod included), nullability, and primary key
 * (else a unique, non-partial index over NOT NULL columns). Used to scaffold a
 * dataset from a source table and to create output tables in its shape.
 */
import type { Pool, PoolClient } from './connect.ts';
import type { TableRef } from '../identifiers.ts';

export interface CatalogColumn {
  readonly name: string;
  /** e.g. `numeric(12,2)`, `timestamp with time zone`: valid in a CREATE TABLE. */
  readonly type: string;
  /** Base type name, domains resolved: `numeric`, `timestamptz`, `jsonb`. */
  readonly base: string;
  /** pg_type.typcategory: `A` array, `N` numeric, `S` string, `D` date/time... */
  readonly category: string;
  readonly notNull: boolean;
}

export interface TableCatalog {
  readonly table: TableRef;
  /** `r` table, `v` view, `m` materialized view, `p` partitioned table, `f` foreign table. */
  readonly kind: string;
  readonly columns: readonly CatalogColumn[];
  /** Primary key (or the first unique NOT NULL index) columns in index order; null when none. */
  readonly key: readonly string[] | null;
}

/** null when the table does not exist. */
export async function readTableCatalog(db: Pool | PoolClient, table: TableRef): Promise<TableCatalog | null> {
  const rel = await db.query<{ oid: number; kind: string }>(`SELECT c.oid::int AS oid, c.relkind::text AS kind FROM pg_class c WHERE c.oid = to_regclass($1)`, [table.sql]);
  if (!rel.rows[0]) return null;
  const { oid, kind } = rel.rows[0];
  const cols = await db.query<CatalogColumn>(
    `SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS type,
            coalesce(bt.typname, t.typname)::text AS base, coalesce(bt.typcategory, t.typcategory)::text AS category, a.attnotnull AS "notNull"
       FROM pg_attribute a
       JOIN pg_type t ON t.oid = a.atttypid
       LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype
      WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`, [oid]);
  const keys = await db.query<{ cols: string[] }>(
    `SELECT array_agg(a.attname::text ORDER BY k.ord) AS cols
       FROM pg_index i
       CROSS JOIN LATERAL unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
      WHERE i.indrelid = $1 AND i.indisunique AND i.indpred IS NULL AND i.indexprs IS NULL
      GROUP BY i.indexrelid, i.indisprimary
     HAVING bool_and(a.attnotnull)
      ORDER BY i.indisprimary DESC, count(*), i.indexrelid
      LIMIT 1`, [oid]);
  return { table, kind, columns: cols.rows, key: keys.rows[0]?.cols ?? null };
}

/**
 * For a table that does not exist: the tables whose names differ from it only in case, as
 * ` (names are case-sensitive ...: the database has analytics.orders)`, else ''. Config names are
 * used exactly as written (as if quoted), while an unquoted `CREATE TABLE Analytics.Orders`
 * made `analytics.orders`.
 */
export async function caseHint(db: Pool | PoolClient, table: TableRef): Promise<string> {
  const r = await db.query<{ name: string }>(
    `SELECT n.nspname::text || '.' || c.relname::text AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
      WHERE pg_catalog.lower(n.nspname) = pg_catalog.lower($1) AND pg_catalog.lower(c.relname) = pg_catalog.lower($2) AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
      ORDER BY 1 LIMIT 3`, [table.schema, table.name]);
  if (r.rows.length === 0) return '';
  return ` (names are case-sensitive, used exactly as written in the config: the database has ${r.rows.map((x) => x.name).join(', ')})`;
}
