/**
 * A running reconciliation and a promotion of the same dataset exclude each other.
 * The gate reads stored verdicts; a reconciliation still running has not stored its
 * own, so a promotion granted while it runs rests on evidence that a mismatch, seconds
 * later, contradicts. The reconciler holds a shared session advisory lock on the
 * dataset for its whole run (several reconciliations may run at once); a promotion
 * takes it exclusively inside its transaction, waiting at most its lock timeout, and
 * names the running reconciliation when it gives up. A reconciliation that starts
 * during a promotion waits for its commit, so it records the new stage.
 * docs/cutover.md ("A running reconciliation").
 */
import { connectPool, type Pool, type PoolClient } from '../db/connect.ts';
import { DualrunError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';

/** First key of the two-key advisory lock (the second is hashtext(dataset)): 'dRcn'. */
const RECONCILE_LOCK_CLASS = 0x6452636e;

/**
 * Runs `fn` holding the dataset's reconcile lock (shared) on a connection of its own:
 * not one of the pool's, which the reconciliation itself needs (a pool of 1 would wait forever).
 * `fn(false)`: the toolkit database could not be reached, no lock is held; store nothing.
 */
export async function whileReconciling<T>(rt: Pick<Runtime, 'databaseUrl' | 'db'>, dataset: string, fn: (locked: boolean) => Promise<T>): Promise<T> {
  let holder: Pool;
  try {
    await rt.db(); // migrated first, as every other toolkit connection is
    holder = await connectPool(await rt.databaseUrl(), { max: 1, applicationName: `dualrun reconcile ${dataset}`.slice(0, 63), role: 'the toolkit Postgres' });
  } catch {
    // The toolkit database is away: nothing can be stored, so run unlocked (and store nothing), failing as the reconciler does.
    return fn(false);
  }
  try {
    await holder.query('SELECT pg_advisory_lock_shared($1, hashtext($2))', [RECONCILE_LOCK_CLASS, dataset]);
    return await fn(true);
  } finally {
    // Ending the connection releases the lock, also when unlocking failed.
    await holder.end().catch(() => undefined);
  }
}

/**
 * Inside a promotion's transaction: no reconciliation of the dataset runs until it commits.
 * Waits for running ones at most the transaction's lock_timeout, then fails naming them.
 */
export async function excludeReconciliations(c: PoolClient, dataset: string, lockTimeoutMs: number): Promise<void> {
  const got = (await c.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1, hashtext($2)) AS ok', [RECONCILE_LOCK_CLASS, dataset])).rows[0].ok;
  if (got) return;
  const running = await runningReconciliations(c, dataset);
  try {
    await c.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [RECONCILE_LOCK_CLASS, dataset]);
  } catch (e) {
    if ((e as { code?: string }).code !== '55P03') throw e;
    throw new DualrunError('DUALRUN_LOCK_TIMEOUT',
      `${dataset}: a reconciliation of the dataset is running (${running || 'started by another session'}) and its verdicts are not stored yet; ` +
      `the promotion waited ${lockTimeoutMs}ms for it and gave up, nothing was changed. Retry once it finishes (dualrun cutover status shows its verdicts)`,
      { cause: e, details: { dataset, lockTimeoutMs, running } });
  }
}

/** The sessions holding the dataset's reconcile lock, for the message: pid, since when, which client. */
async function runningReconciliations(c: PoolClient, dataset: string): Promise<string> {
  const r = await c.query<{ pid: number; since: Date | null; app: string | null }>(
    `SELECT l.pid, a.backend_start AS since, a.application_name AS app
       FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
      WHERE l.locktype = 'advisory' AND l.granted AND l.classid = $1::oid AND l.objid = (hashtext($2)::bigint & 4294967295)::oid AND l.objsubid = 2
        AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
      ORDER BY a.backend_start`, [RECONCILE_LOCK_CLASS, dataset]);
  return r.rows.map((x) => `pid ${x.pid}${x.since ? ` since ${x.since.toISOString()}` : ''}`).join(', ');
}
