/**
 * What the legacy batch output misses because the batch path was retired
 * (`streaming-only`) for a while. The scheduler only ever runs the newest due window,
 * so windows that fell due while retired stay unloaded after any rollback until they
 * are backfilled: a rollback to `shadow` or `batch` then serves a batch output that
 * lacks them, also when it passes through `streaming` first (the warning used to be
 * given only when leaving `streaming-only` itself). Read from the audit (when each
 * retired period began and ended) and the run ledger (which of those windows the batch
 * has loaded since).
 */
import type { Pool, PoolClient } from '../db/connect.ts';
import type { DatasetConfig } from '../config/types.ts';
import { windowOf, type Window } from '../windows.ts';

export interface RetiredGaps {
  /** When the earliest retired period with an unloaded window began. */
  readonly since: Date;
  /** Windows due while retired whose newest finished load is not a `succeeded` one (none, or partial; whole table: the one `null`). */
  readonly count: number;
  readonly first: string | null;
  readonly last: string | null;
  /** More windows than were enumerated (count is a lower bound). */
  readonly more: boolean;
}

/** Windows enumerated at most (two years of hours); beyond, `more`. */
const MAX_WINDOWS = 20_000;

interface Period { readonly from: Date; readonly to: Date }

/** Null: the batch output holds every window that fell due while the batch path was retired (or it never was). */
export async function batchMissedWhileRetired(db: Pool | PoolClient, ds: DatasetConfig, now = new Date()): Promise<RetiredGaps | null> {
  const periods = await retiredPeriods(db, ds.name, now);
  if (periods.length === 0) return null;
  return ds.window ? missingWindows(db, ds, periods) : staleWholeTable(db, ds.name, periods);
}

async function retiredPeriods(db: Pool | PoolClient, dataset: string, now: Date): Promise<Period[]> {
  const r = await db.query<{ at: Date; to_stage: string; left_at: Date | null }>(
    `SELECT at, to_stage, lead(at) OVER (ORDER BY id) AS left_at FROM dualrun.cutover_audit WHERE dataset = $1 ORDER BY id`, [dataset]);
  return r.rows.filter((x) => x.to_stage === 'streaming-only').map((x) => ({ from: x.at, to: x.left_at ?? now }));
}

/** Windows that fell due (end + settle) inside a retired period, or were the newest due when it began, that no complete load holds. */
async function missingWindows(db: Pool | PoolClient, ds: DatasetConfig, periods: readonly Period[]): Promise<RetiredGaps | null> {
  const { grain, timezone } = ds.window!;
  const settle = ds.reconcile.settleMs;
  const due: { w: Window; period: Period }[] = [];
  const seen = new Set<number>();
  let more = false;
  for (const p of periods) {
    // From the newest window due when the batch was retired: the scheduler may not have run it yet.
    const first = windowOf(new Date(windowOf(new Date(p.from.getTime() - settle), grain, timezone).start.getTime() - 1), grain, timezone);
    for (let w = first; w.end.getTime() + settle <= p.to.getTime(); w = windowOf(w.end, grain, timezone)) {
      if (due.length >= MAX_WINDOWS) { more = true; break; }
      if (w.end.getTime() <= w.start.getTime()) break; // never loop on an empty window
      if (!seen.has(w.start.getTime())) due.push({ w, period: p });
      seen.add(w.start.getTime());
    }
  }
  if (due.length === 0) return null;
  const r = await db.query<{ window_start: Date; status: string }>(
    // The newest finished load (a failed or abandoned run rolls back and leaves the one before it).
    `SELECT DISTINCT ON (window_start) window_start, status FROM dualrun.batch_runs
      WHERE dataset = $1 AND window_start = ANY($2::timestamptz[]) AND status IN ('succeeded', 'partial') ORDER BY window_start, id DESC`,
    [ds.name, due.map((d) => d.w.start.toISOString())]);
  const loaded = new Set(r.rows.filter((x) => x.status === 'succeeded').map((x) => x.window_start.getTime()));
  const missing = due.filter((d) => !loaded.has(d.w.start.getTime()));
  if (missing.length === 0) return null;
  return { since: missing[0].period.from, count: missing.length, first: missing[0].w.label, last: missing.at(-1)!.w.label, more };
}

/** A whole table: stale unless its newest finished load succeeded and began after the last retirement began. */
async function staleWholeTable(db: Pool | PoolClient, dataset: string, periods: readonly Period[]): Promise<RetiredGaps | null> {
  const last = periods.at(-1)!;
  const r = await db.query<{ status: string; started_at: Date }>(
    `SELECT status, started_at FROM dualrun.batch_runs WHERE dataset = $1 AND window_start IS NULL AND status IN ('succeeded', 'partial') ORDER BY id DESC LIMIT 1`, [dataset]);
  const run = r.rows[0];
  if (run && run.status === 'succeeded' && run.started_at >= last.from) return null;
  return { since: last.from, count: 1, first: null, last: null, more: false };
}
