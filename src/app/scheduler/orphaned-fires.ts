/**
 * Fires whose scheduler died mid-run (SIGKILL, a lost host): their row in
 * dualrun.scheduler_fires has no outcome and nobody holds their (job, fire time)
 * lock, which a running fire holds until it records its outcome. They are marked
 * `abandoned`, so no fire row stays unfinished forever and the next fire knows
 * their windows were not handled (fire-claim.ts windowsBoundAt).
 */
import type { Pool } from '../../core/db/connect.ts';
import { fireLockArgs } from './fire-claim.ts';

const ORPHAN_DETAIL = 'the scheduler running it ended without recording an outcome (its connection and lock are gone)';

export async function abandonOrphanedFires(db: Pool, job: string): Promise<number> {
  const open = await db.query<{ fire_at: Date }>('SELECT fire_at FROM dualrun.scheduler_fires WHERE job = $1 AND outcome IS NULL ORDER BY fire_at', [job]);
  if (open.rowCount === 0) return 0;
  const client = await db.connect();
  let marked = 0;
  try {
    for (const { fire_at: at } of open.rows) {
      const args = fireLockArgs(job, at);
      // Held by a live fire (this process's or another's): not ours to judge. Taken: nobody runs it.
      if (!(await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock(hashtext($1), hashtext($2)) AS ok', args)).rows[0].ok) continue;
      try {
        const r = await client.query(
          `UPDATE dualrun.scheduler_fires SET outcome = 'abandoned', finished_at = clock_timestamp(), detail = $3
            WHERE job = $1 AND fire_at = $2 AND outcome IS NULL`, [job, at, ORPHAN_DETAIL]);
        marked += r.rowCount ?? 0;
      } finally {
        await client.query('SELECT pg_advisory_unlock(hashtext($1), hashtext($2))', args);
      }
    }
  } finally {
    client.release();
  }
  return marked;
}
