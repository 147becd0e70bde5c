/**
 * Every row a load inserts must lie in the window it loads, by batch.output's window column
 * (the column the window's DELETE and the reconciler select on). A row outside it (a query
 * with `<= :window_end`, a date cut in another zone, a NULL) is not cleared by a re-run of
 * the window, which doubles it, and belongs to another window, whose load deletes it; both
 * loads said `succeeded`. After the load, in its transaction (the window was just cleared
 * under its lock), the window must hold at least the rows inserted; otherwise the load fails
 * (rolled back: the window keeps its content). One count over the window, the DELETE's scan
 * again: returning every inserted row's window column cost 30-80% more on 1M rows.
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { PoolClient } from '../src/core/db/connect.ts';
import { quoteIdent } from '../src/core/identifiers.ts';
import type { WindowScope } from './window-scope.ts';

export async function assertLoadedInWindow(client: PoolClient, ds: DatasetConfig, scope: WindowScope, inserted: number): Promise<void> {
  if (!ds.window || !scope.window || inserted === 0) return;
  const table = ds.batch.output.sql;
  const n = Number((await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table} ${scope.where}`, [...scope.params])).rows[0].n);
  if (n >= inserted) return;
  // Only now, to name them: the rows this transaction inserted outside the window.
  const col = quoteIdent(ds.window.column);
  const outside = `xmin = pg_catalog.pg_current_xact_id()::xid AND (${col} IS NULL OR NOT (${col} >= $1 AND ${col} < $2))`;
  const r = (await client.query<{ n: string; nulls: string; first: string | null; last: string | null }>(
    `SELECT count(*) AS n, count(*) FILTER (WHERE ${col} IS NULL) AS nulls, min(${col})::text AS first, max(${col})::text AS last
     FROM ${table} WHERE ${outside}`, [...scope.params])).rows[0];
  const count = Number(r.n) || inserted - n;
  const nulls = Number(r.nulls) > 0 ? ` (${r.nulls} of them NULL)` : '';
  throw new Error(`${count} rows of the batch query are outside window ${scope.window.label} by window.column ${ds.window.column}${nulls}: ` +
    `those with a value run from ${r.first ?? 'NULL'} to ${r.last ?? 'NULL'}, the window is ${ds.window.column} >= ${scope.params[0]} and < ${scope.params[1]}. ` +
    'A re-run of the window would not replace them (doubling them) and their own window\'s load would delete them, so nothing was loaded; ' +
    `make the query select exactly ${ds.window.column} >= :window_start AND ${ds.window.column} < :window_end`);
}
