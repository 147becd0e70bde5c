/**
 * Stops a long statement when the run is abandoned (SIGINT/SIGTERM): the
 * connection's backend is cancelled from another connection, its transaction
 * rolls back, and the window keeps its previous content.
 */
import type { Pool, PoolClient } from '../src/core/db/connect.ts';

export async function cancelOnAbort(pool: Pool, client: PoolClient, signal: AbortSignal | undefined): Promise<() => void> {
  if (!signal) return () => undefined;
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  const cancel = () => { pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined); };
  if (signal.aborted) cancel();
  signal.addEventListener('abort', cancel, { once: true });
  return () => signal.removeEventListener('abort', cancel);
}
