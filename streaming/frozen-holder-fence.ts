/**
 * Waiting for a partition lock whose holder may be frozen.
 *
 * A partition lock held by a frozen worker (SIGSTOP, a VM paused, a process stuck
 * outside Node's event loop) is never released: its transaction stays open on a live
 * socket, and neither idle_in_transaction_session_timeout (an open COPY counts as
 * active) nor TCP keepalives end it. The partition's new owner then waited on it
 * for as long as the freeze lasted, applying nothing of that partition (and, behind
 * it in kafkajs, nothing of its other partitions).
 *
 * So the waiter queues on the lock in Postgres's own lock queue, which is FIFO (a
 * waiter polling pg_try_advisory_xact_lock instead starved behind a busy holder that
 * takes the lock back right after each commit), but for at most frozenAfterMs at a
 * time: inside a savepoint with lock_timeout set, so a timeout (55P03) rolls back
 * only the lock attempt. Then it fences a frozen holder and queues again. (A lock_timeout
 * the role sets no longer fails this wait: a previous owner may rightly hold the lock for
 * seconds. It applies again once the lock is taken.)
 *
 * The fence: a stream worker's transaction waits on its client for at most a few
 * seconds (a collected transaction commits after 2 s without a batch, after 5 s, and
 * at once when its partition is revoked). So a `dualrun stream <dataset>` backend
 * holding the lock while waiting on its client (ClientRead) for longer than
 * FROZEN_AFTER_MS is frozen: the waiter terminates it. That is exact: terminating a
 * backend rolls its open transaction back, so none of its records, dead letters or
 * position exist, and the new owner applies from the stored position (the zombie,
 * once continued, finds its connection gone and resumes from the stored positions
 * too). Were a live worker ever that slow, it would lose that transaction the same
 * way (work redone, never doubled). Other holders (a replay, a dead-letter retry,
 * anything not waiting on its client) are waited for, never terminated. Only the
 * collecting sink's sessions carry that application_name (dataset-stream.ts); a
 * batch-by-batch worker's (the main pool, `dualrun`) is waited for too.
 */
import type { PoolClient } from '../src/core/db/connect.ts';

/** DUALRUN_FROZEN_HOLDER_MS overrides it (the fault suite shortens it). */
export const FROZEN_AFTER_MS = Number(process.env.DUALRUN_FROZEN_HOLDER_MS) || 10_000;

const SAVEPOINT = 'dualrun_partition_lock';

/**
 * Takes the transaction advisory lock `key` (hashed as the sink does), fair in the
 * lock queue, fencing a frozen stream holder every frozenAfterMs waited. Must run
 * inside a transaction. The session's lock_timeout is as before when it returns.
 */
export async function queueForLockFencingFrozen(c: PoolClient, key: string, dataset: string, frozenAfterMs = FROZEN_AFTER_MS): Promise<void> {
  const set = await c.query<{ prev: string }>(`SELECT current_setting('lock_timeout') AS prev, set_config('lock_timeout', $1, true)`, [`${Math.max(1, Math.round(frozenAfterMs))}ms`]);
  for (;;) {
    if (await queueOnce(c, key)) break;
    await fenceFrozenHolder(c, key, dataset, frozenAfterMs);
  }
  // Set locally to the value it had: the transaction's end restores the session's own.
  await c.query(`SELECT set_config('lock_timeout', $1, true)`, [set.rows[0].prev]);
}

/** One bounded wait in the lock queue: true when granted, false when lock_timeout ran out. */
async function queueOnce(c: PoolClient, key: string): Promise<boolean> {
  await c.query(`SAVEPOINT ${SAVEPOINT}`);
  try {
    await c.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);
  } catch (e) {
    if ((e as { code?: string }).code !== '55P03') throw e;
    await c.query(`ROLLBACK TO SAVEPOINT ${SAVEPOINT}; RELEASE SAVEPOINT ${SAVEPOINT}`);
    return false;
  }
  await c.query(`RELEASE SAVEPOINT ${SAVEPOINT}`); // the lock stays with the transaction
  return true;
}

/**
 * Terminates a frozen stream backend holding the lock `key`; returns the pids ended.
 * The candidates are chosen in a MATERIALIZED CTE and only those reach
 * pg_terminate_backend: as one WHERE clause the planner ran pg_terminate_backend
 * before the other conditions and ended every active backend of the server, the
 * waiter's own included. The activity snapshot is cleared first: Postgres keeps the
 * first one read in a transaction, and a live holder would look frozen in a stale one.
 */
export async function fenceFrozenHolder(c: PoolClient, key: string, dataset: string, frozenAfterMs = FROZEN_AFTER_MS): Promise<number[]> {
  await c.query('SELECT pg_stat_clear_snapshot()');
  const r = await c.query<{ pid: number }>(
    `WITH frozen AS MATERIALIZED (
       SELECT s.pid FROM pg_locks l JOIN pg_stat_activity s ON s.pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
          AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtextextended($1, 0)
          AND s.pid <> pg_backend_pid() AND s.application_name = $2
          AND s.wait_event = 'ClientRead' AND s.state IN ('active', 'idle in transaction')
          AND s.state_change < clock_timestamp() - make_interval(secs => $3))
     SELECT pid FROM frozen WHERE pg_terminate_backend(pid)`,
    [key, `dualrun stream ${dataset}`, frozenAfterMs / 1000]);
  return r.rows.map((x) => x.pid);
}
