/**
 * Every row a load inserts must lie in the window it loads, by batch.output's window column
 * (the column the window's DELETE and the reconciler select on). A row outside it (a query
 * with `<= :window_end`, a date cut in another zone, a NULL) is not cleared by a re-run of
 * the window, which doubles it, and belongs to another window, whose load deletes it; both
 * loads said `succeeded`. The INSERT returns the window column of what it inserted, and
 * any row outside the window fails the load (rolled back: the window keeps its content).
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { PoolClient } from '../src/core/db/connect.ts';
import { quoteIdent } from '../src/core/identifiers.ts';
import type { WindowScope } from './window-scope.ts';

export interface WindowGuard {
  readonly column: string;
  readonly quoted: string;
  readonly label: string;
  /** The window's bounds, as the DELETE binds them. */
  readonly params: readonly string[];
}

/** null for a whole-table dataset: every row belongs to it. */
export function windowGuard(ds: DatasetConfig, scope: WindowScope): WindowGuard | null {
  if (!ds.window || !scope.window) return null;
  return { column: ds.window.column, quoted: quoteIdent(ds.window.column), label: scope.window.label, params: scope.params };
}

/** Runs an INSERT (without RETURNING) and returns its row count; throws when a row it inserted is outside the window. */
export async function guardedInsert(client: PoolClient, insertSql: string, params: readonly unknown[], guard: WindowGuard | null): Promise<number> {
  if (!guard) return (await client.query(insertSql, [...params])).rowCount ?? 0;
  const [lo, hi] = [`$${params.length + 1}`, `$${params.length + 2}`];
  const outside = `w IS NULL OR NOT (w >= ${lo} AND w < ${hi})`;
  const r = await client.query<{ n: string; outside: string; nulls: string; first: string | null; last: string | null }>(
    `WITH dualrun_inserted AS (${insertSql} RETURNING ${guard.quoted} AS w)
     SELECT count(*) AS n, count(*) FILTER (WHERE ${outside}) AS outside, count(*) FILTER (WHERE w IS NULL) AS nulls,
       (min(w) FILTER (WHERE ${outside}))::text AS first, (max(w) FILTER (WHERE ${outside}))::text AS last
     FROM dualrun_inserted`,
    [...params, ...guard.params],
  );
  const row = r.rows[0];
  if (Number(row.outside) > 0) throw new Error(outsideMessage(guard, row));
  return Number(row.n);
}

function outsideMessage(g: WindowGuard, row: { outside: string; nulls: string; first: string | null; last: string | null }): string {
  const nulls = Number(row.nulls) > 0 ? ` (${row.nulls} of them NULL)` : '';
  return `${row.outside} rows of the batch query are outside window ${g.label} by window.column ${g.column}${nulls}: ` +
    `those with a value run from ${row.first ?? 'NULL'} to ${row.last ?? 'NULL'}, the window is ${g.column} >= ${g.params[0]} and < ${g.params[1]}. ` +
    `A re-run of the window would not replace them (doubling them) and their own window's load would delete them, so nothing was loaded; ` +
    `make the query select exactly ${g.column} >= :window_start AND ${g.column} < :window_end`;
}
