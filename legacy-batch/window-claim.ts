/**
 * Serialises loads of one (dataset, window) inside the load transaction. Without
 * it two concurrent runs would both DELETE (the second finding nothing once the
 * first commits) and both INSERT: a doubled window. The lock is transaction-scoped,
 * so it is released by COMMIT or ROLLBACK, never leaked.
 */
import type { PoolClient } from '../src/db/connect.ts';
import type { WindowScope } from './window-scope.ts';

export async function lockWindow(client: PoolClient, scope: WindowScope): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [`dualrun.batch.${scope.dataset}`, scope.window?.label ?? '']);
}

/** Deletes the window's rows (the whole table without a window); the caller's transaction makes it atomic. */
export async function clearWindow(client: PoolClient, table: string, scope: WindowScope): Promise<number> {
  // DELETE rather than TRUNCATE for whole tables: readers keep seeing the old rows until COMMIT.
  const r = await client.query(`DELETE FROM ${table} ${scope.where}`, [...scope.params]);
  return r.rowCount ?? 0;
}
