/**
 * Serialises loads of one (dataset, window) inside the load transaction. Without
 * it two concurrent runs would both DELETE (the second finding nothing once the
 * first commits) and both INSERT: a doubled window. The lock is transaction-scoped,
 * so it is released by COMMIT or ROLLBACK, never leaked.
 */
import type { PoolClient } from '../src/core/db/connect.ts';
import type { WindowScope } from './window-scope.ts';

/** Waits for the window's lock; returns the transaction's start (`now()`), the load's snapshot time. */
export async function lockWindow(client: PoolClient, scope: WindowScope): Promise<Date> {
  const r = await client.query<{ at: Date }>('SELECT now() AS at FROM (SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))) AS locked',
    [`dualrun.batch.${scope.dataset}`, scope.window?.label ?? '']);
  return r.rows[0].at;
}

/** Deletes the window's rows (the whole table without a window); the caller's transaction makes it atomic. */
export async function clearWindow(client: PoolClient, table: string, scope: WindowScope): Promise<number> {
  // Under row-level security the DELETE would remove only the rows the role sees, and the load
  // would then double the rest of the window: with row_security off Postgres refuses instead
  // ("query would be affected by row-level security policy"). Only for this statement: the
  // batch query that follows reads as the role always has.
  const saved = (await client.query<{ v: string }>(`SELECT pg_catalog.current_setting('row_security') AS v, pg_catalog.set_config('row_security', 'off', true)`)).rows[0].v;
  // DELETE rather than TRUNCATE for whole tables: readers keep seeing the old rows until COMMIT.
  const r = await client.query(`DELETE FROM ${table} ${scope.where}`, [...scope.params]);
  await client.query(`SELECT pg_catalog.set_config('row_security', $1, true)`, [saved]);
  return r.rowCount ?? 0;
}
