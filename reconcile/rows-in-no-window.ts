/**
 * Rows no window can hold: a NULL or ±infinite window column lies in no day or hour, so no
 * reconciliation ever reads such a row, while the serving view (`SELECT ... FROM output`)
 * serves it. Every window would then be a `match` on tables that differ there, so the
 * dataset fails before any window, naming the side, column and row count.
 * One bounded count per run and side, not per window: `IS NULL` and `= '±infinity'` use an
 * index on the window column (a window's own scan needs one too), and `IS NULL` is left out
 * of a NOT NULL column.
 */
import { DualrunError } from '../src/core/errors.ts';
import type { Pool } from '../src/core/db/connect.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { ColumnInfo, TableShape } from './table-columns.ts';
import { quoteColumnName } from './canonical-row-sql.ts';
import { onSide } from './side-error.ts';

/** Counted up to this many: enough to tell one stray row from a broken transform. */
const COUNT_LIMIT = 1000;

async function rowsInNoWindow(pool: Pool, shape: TableShape, col: ColumnInfo): Promise<number> {
  const c = quoteColumnName(col.name);
  const nulls = shape.notNull.has(col.name) ? '' : `${c} IS NULL OR `;
  // Qualified: a role's search_path may list a schema of look-alikes before pg_catalog. The bounds
  // are of the base type (date, timestamp, timestamptz: assertWindowColumns ran first), not a domain
  // the column may have, whose CHECK (isfinite(VALUE)) would refuse them.
  const eq = 'OPERATOR(pg_catalog.=)';
  const inf = (sign: string) => `'${sign}infinity'::pg_catalog.${col.type}`;
  const r = await pool.query<{ n: number }>(
    `SELECT pg_catalog.count(*)::pg_catalog.int4 AS n FROM (SELECT 1 FROM ${shape.table.sql} WHERE ${nulls}${c} ${eq} ${inf('')} OR ${c} ${eq} ${inf('-')} LIMIT ${COUNT_LIMIT}) x`);
  return r.rows[0].n;
}

export async function assertEveryRowInAWindow(ds: DatasetConfig, sides: [string, Pool, TableShape, ColumnInfo | null][]): Promise<void> {
  if (!ds.window) return;
  for (const [field, pool, shape, col] of sides) {
    if (!col) continue;
    const n = await onSide(field, shape.table, rowsInNoWindow(pool, shape, col));
    if (n === 0) continue;
    const count = n >= COUNT_LIMIT ? `${COUNT_LIMIT} or more rows have` : n === 1 ? '1 row has' : `${n} rows have`;
    throw new DualrunError('DUALRUN_RECONCILE_FAILED',
      `dataset ${ds.name}: ${field} ${shape.table.text}: ${count} window.column ${col.name} NULL or infinite; such rows fall in no window, so no reconciliation compares them, yet readers are served them: give them a time, or delete them`,
      { details: { dataset: ds.name, table: shape.table.text, column: col.name, rows: n } });
  }
}
