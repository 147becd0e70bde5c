/**
 * Which transactions wrote a window's batch rows, as one number: the sum of the rows'
 * `xmin` (extended to 64 bits). The reconciler records it with each verdict (in the same
 * scan as its fingerprint); the gate reads it again with its row counts (rule 4.6,
 * `rows-rewritten`, docs/cutover.md). An adopted legacy job that rewrites a window
 * (DELETE + INSERT, UPDATE) without telling dualrun keeps the row count, so a re-count
 * still matched and the old `match` counted; every row it writes has a newer xmin, so
 * the sum moves. Values are never read: the check costs what counting costs (a heap scan
 * of the window instead of an index-only one).
 *
 * `age(xmin)` is an int4 computed without converting the xid to text (xmin::text::bigint
 * costs about twice a count); the transaction's reference xid X is recovered as the snapshot's
 * xmax plus its age, so sum(xmin) = rows × X − sum(age(xmin)) exactly. Freezing keeps the raw
 * xmin (Postgres 9.4+), so VACUUM does not move it; anything that writes the rows again does
 * (a no-op UPDATE too: the verdict then stops counting, the safe direction).
 */
import type { Pool, PoolClient } from '../db/connect.ts';
import type { TableRef } from '../identifiers.ts';

/**
 * The transaction's reference xid (the one age() counts from), as a numeric: the snapshot's xmax
 * (64-bit) plus its age. The txid_* functions exist on every supported server (pg_current_snapshot only from 13).
 */
const SNAPSHOT_XMAX = 'txid_snapshot_xmax(txid_current_snapshot())';
const REFERENCE_XID = `(${SNAPSHOT_XMAX}::numeric + age((${SNAPSHOT_XMAX} % 4294967296)::text::xid))`;

/** Per-row term to sum (an int4: the row's xmin's age). */
export const ROW_AGE_SQL = 'age(xmin)';

/** The rows' xmin sum from their count and their age sum (SQL expressions), as text. */
export function xminSumSql(rows: string, ageSum: string): string {
  return `((${rows})::numeric * ${REFERENCE_XID} - coalesce(${ageSum}, 0))::text`;
}

/**
 * Tables whose rows have an xmin this session can read: plain, partitioned (and inheritance)
 * tables, materialized views, with SELECT on the table (a role granted only some columns may
 * not read a system column). Not views or foreign tables.
 */
export async function hasRowVersions(db: Pool | PoolClient, table: TableRef): Promise<boolean> {
  const r = await db.query<{ ok: boolean }>(
    `SELECT relkind IN ('r', 'p', 'm') AND has_table_privilege(oid, 'SELECT') AS ok FROM pg_class WHERE oid = to_regclass($1)`, [table.sql]);
  return r.rows[0]?.ok === true;
}
