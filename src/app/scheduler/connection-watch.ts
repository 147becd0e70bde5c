/**
 * The scheduler's side of the reconnect policy: jobs come and go, so between them
 * nothing would notice a lost Postgres. This watch pings it every few seconds under
 * the policy: a restart is ridden out (logged, health `reconnecting`), and a database
 * that stays away past database.reconnect.maxWait rejects, which ends `dualrun
 * schedule` with exit 3 naming the database.
 */
import { policyFor } from '../../core/reconnect-policy.ts';
import type { Runtime } from '../../core/runtime.ts';
import { isStopped } from '../../core/stopped.ts';

export async function watchPostgres(rt: Runtime, signal: AbortSignal, everyMs = 5000): Promise<void> {
  const policy = policyFor(rt, 'schedule', 'scheduler');
  await policy.run(async (session) => {
    while (!signal.aborted) {
      const db = await rt.db();
      await db.query('SELECT 1');
      session.connected('postgres');
      session.progressed();
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, everyMs);
        signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
      });
    }
  }, signal).catch((e: unknown) => {
    // Stopped while Postgres was away: the scheduler's normal stop, not the outage's failure.
    if (!isStopped(e, signal)) throw e;
  });
}
