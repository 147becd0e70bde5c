/**
 * The database's clock. Evidence times are compared with each other and with "now":
 * batch runs and verdicts finish by Postgres's clock (`now()` defaults), so a verdict's
 * start, the gate's "now" and the reconciler's "has the window ended" must be read from
 * the same clock. A node clock minutes ahead made a reconciliation seem to start after
 * the batch load that replaced its data (so its verdict counted); one behind made stale
 * evidence look fresh (docs/cutover.md, "Clocks").
 */
import type { Pool, PoolClient } from './connect.ts';

/** The database's current time (clock_timestamp: not frozen at a transaction's start). */
export async function databaseNow(db: Pool | PoolClient): Promise<Date> {
  return (await db.query<{ at: Date }>('SELECT clock_timestamp() AS at')).rows[0].at;
}
