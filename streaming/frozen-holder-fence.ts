/**
 * A partition lock held by a frozen worker (SIGSTOP, a VM paused, a process stuck
 * outside Node's event loop) is never released: its transaction stays open on a live
 * socket, and neither idle_in_transaction_session_timeout (an open COPY counts as
 * active) nor TCP keepalives end it. The partition's new owner then waited on it
 * for as long as the freeze lasted, applying nothing of that partition (and, behind
 * it in kafkajs, nothing of its other partitions).
 *
 * A stream worker's transaction waits on its client for at most a few seconds (a
 * collected transaction commits after 2 s without a batch, after 5 s, and at once
 * when its partition is revoked). So a `dualrun stream <dataset>` backend holding the
 * partition lock while waiting on its client for longer than FROZEN_AFTER_MS is
 * frozen: the waiter terminates it. Its transaction rolls back (nothing of it
 * exists), so the fence stays exact: the new owner applies from the stored position.
 * Other holders (a replay, a retry, anything not waiting on its client) are waited for.
 */
import type { PoolClient } from '../src/core/db/connect.ts';

export const FROZEN_AFTER_MS = 10_000;

/** Terminates a frozen stream backend holding the lock `key`; returns the pids ended. */
export async function fenceFrozenHolder(c: PoolClient, key: string, dataset: string, frozenAfterMs = FROZEN_AFTER_MS): Promise<number[]> {
  const r = await c.query<{ pid: number }>(
    `SELECT s.pid FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)
        AND s.pid <> pg_backend_pid() AND s.application_name = $2
        AND s.wait_event = 'ClientRead' AND s.state IN ('active', 'idle in transaction')
        AND s.state_change < clock_timestamp() - make_interval(secs => $3)
        AND pg_terminate_backend(s.pid)`,
    [key, `dualrun stream ${dataset}`, frozenAfterMs / 1000]);
  return r.rows.map((x) => x.pid);
}
