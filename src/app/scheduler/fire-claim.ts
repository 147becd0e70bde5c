/**
 * Runs each (job, scheduled fire time) once across any number of schedulers.
 * Two guards, because schedulers' clocks and start-up differ:
 * - a session advisory lock on (job, fire time), held while the job runs, so two
 *   schedulers firing at the same moment cannot both get in;
 * - a row in dualrun.scheduler_fires keyed by (job, fire time), so a scheduler
 *   that fires a little later, after the first released its lock, sees the fire
 *   was taken and skips it.
 */
import type { Pool, PoolClient } from '../../core/db/connect.ts';

export type FireOutcome = 'succeeded' | 'failed' | 'skipped' | 'abandoned';

export interface FireClaim {
  /** Records how the fire ended and releases the lock. */
  finish(outcome: FireOutcome, detail?: string): Promise<void>;
}

/** Fire times are keyed to the second (the minute, for 5-field expressions). */
export function fireKey(fireAt: Date): Date {
  return new Date(Math.floor(fireAt.getTime() / 1000) * 1000);
}

export async function claimFire(db: Pool, job: string, fireAt: Date, owner: string): Promise<FireClaim | null> {
  const at = fireKey(fireAt);
  const client = await db.connect();
  const lockArgs = fireLockArgs(job, at);
  let locked = false;
  try {
    locked = (await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS ok', lockArgs)).rows[0].ok;
    if (!locked) { client.release(); return null; }
    const inserted = await client.query(
      'INSERT INTO dualrun.scheduler_fires (job, fire_at, claimed_by) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [job, at, owner],
    );
    if (inserted.rowCount === 0) { await unlock(client, lockArgs); client.release(); return null; }
  } catch (e) {
    if (locked) await unlock(client, lockArgs).catch(() => undefined);
    client.release();
    throw e;
  }
  return {
    async finish(outcome, detail) {
      try {
        await client.query('UPDATE dualrun.scheduler_fires SET finished_at = clock_timestamp(), outcome = $3, detail = $4 WHERE job = $1 AND fire_at = $2',
          [job, at, outcome, detail ?? null]);
        await unlock(client, lockArgs);
      } finally {
        client.release();
      }
    },
  };
}

/** The (job, fire time) session advisory lock's two keys (hashed with hashtext). */
export function fireLockArgs(job: string, fireAt: Date): string[] {
  return [`dualrun.schedule.${job}`, fireKey(fireAt).toISOString()];
}

async function unlock(client: PoolClient, args: string[]): Promise<void> {
  await client.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', args);
}

/**
 * Where the windows a fire handles begin (fire-windows.ts): the job's latest fire before this
 * one that was not `abandoned` (any scheduler; one still running counts, it handles its
 * windows). Abandoned fires after it did not load their windows, so those windows are handled
 * again: counting an abandoned (or killed) fire as the previous fire lost its window for good.
 * `firstAbandoned`: the earliest abandoned fire when no fire before it counts (it was the
 * job's first), so its newest window is handled too. Call abandonOrphanedFires first.
 */
export async function previousFires(db: Pool, job: string, fireAt: Date): Promise<{ previous: Date | null; firstAbandoned: Date | null }> {
  const r = await db.query<{ previous: Date | null; first_abandoned: Date | null }>(
    `WITH prev AS (SELECT max(fire_at) AS at FROM dualrun.scheduler_fires WHERE job = $1 AND fire_at < $2 AND outcome IS DISTINCT FROM 'abandoned')
     SELECT (SELECT at FROM prev) AS previous,
            (SELECT min(fire_at) FROM dualrun.scheduler_fires WHERE job = $1 AND fire_at < $2 AND outcome = 'abandoned'
               AND (SELECT at FROM prev) IS NULL) AS first_abandoned`, [job, fireKey(fireAt)]);
  return { previous: r.rows[0]?.previous ?? null, firstAbandoned: r.rows[0]?.first_abandoned ?? null };
}
