/**
 * Open windows (`dualrun.batch_open_windows`): windows a batch fire handled but could not
 * settle — an adopted window whose external job had not finished (`waiting`), a load or an
 * adoption that failed (`failed`). Later fires handle them again; any succeeded run of the
 * window removes its row (run-ledger.ts, in the statement that records the success). Without
 * this record only the fire whose window it was ever looked at it: a window the job finished
 * after that fire was never adopted, a failed load never retried (docs/batch.md, "Open windows").
 */
import type { Pool, PoolClient } from '../src/core/db/connect.ts';
import type { Window } from '../src/core/windows.ts';

type Db = Pool | PoolClient;
/** `due`: a fire is to handle it and has not recorded how it ended (it threw, was stopped or killed). */
export type OpenState = 'due' | 'waiting' | 'failed';

/** Fires that try a `failed` window in all (the first one included); `waiting` windows have no such bound. */
export const MAX_FIRE_ATTEMPTS = 3;

export interface OpenWindow {
  readonly dataset: string;
  readonly label: string;
  readonly start: Date;
  readonly end: Date;
  readonly state: OpenState;
  /** Fires in a row that found it in this state. */
  readonly attempts: number;
  readonly firstFireAt: Date;
  readonly lastFireAt: Date;
  readonly detail: string | null;
}

/** Whether fires still handle it (within their lookback): a failed window only until its attempts are used up. */
export function retriedByFires(w: Pick<OpenWindow, 'state' | 'attempts'>): boolean {
  return w.state !== 'failed' || w.attempts < MAX_FIRE_ATTEMPTS;
}

/**
 * Before a fire handles its windows: each not open yet is recorded `due`, so a fire that ends
 * without recording a window's outcome (an error outside the window, a shutdown, SIGKILL) leaves
 * it for the next fire; before, such a fire could still count as the job's previous fire and its
 * later windows were never handled. Rows already open keep their state and attempts.
 */
export async function markDue(db: Db, dataset: string, windows: readonly Window[], fireAt: Date): Promise<void> {
  if (windows.length === 0) return;
  await db.query(
    `INSERT INTO dualrun.batch_open_windows (dataset, window_label, window_start, window_end, state, attempts, first_fire_at, last_fire_at, detail)
     SELECT $1, w.label, w.s, w.e, 'due', 0, $5, $5, NULL FROM unnest($2::text[], $3::timestamptz[], $4::timestamptz[]) AS w(label, s, e)
     ON CONFLICT (dataset, window_label) DO NOTHING`,
    [dataset, windows.map((w) => w.label), windows.map((w) => w.start), windows.map((w) => w.end), fireAt]);
}

/** The open windows of the datasets asked for, oldest first. */
export async function openWindows(db: Db, datasets: readonly string[]): Promise<OpenWindow[]> {
  const r = await db.query<{ dataset: string; window_label: string; window_start: Date; window_end: Date; state: OpenState; attempts: number;
    first_fire_at: Date; last_fire_at: Date; detail: string | null }>(
    `SELECT dataset, window_label, window_start, window_end, state, attempts, first_fire_at, last_fire_at, detail
       FROM dualrun.batch_open_windows WHERE dataset = ANY($1) ORDER BY dataset, window_start`, [datasets]);
  return r.rows.map((x) => ({ dataset: x.dataset, label: x.window_label, start: x.window_start, end: x.window_end, state: x.state,
    attempts: x.attempts, firstFireAt: x.first_fire_at, lastFireAt: x.last_fire_at, detail: x.detail }));
}

/**
 * Records that a fire left the window open; returns the attempts in this state so far (a new state
 * starts again at 1). Not when a run of the window succeeded meanwhile (a manual run racing the
 * fire): that run closed it, and an open row written after would show it failed (0 is returned).
 */
export async function markOpen(db: Db, dataset: string, window: Window, state: OpenState, fireAt: Date, detail: string): Promise<number> {
  const r = await db.query<{ attempts: number }>(
    `INSERT INTO dualrun.batch_open_windows AS o (dataset, window_label, window_start, window_end, state, attempts, first_fire_at, last_fire_at, detail)
     SELECT $1::text, $2::text, $3::timestamptz, $4::timestamptz, $5::text, 1, $6::timestamptz, $6::timestamptz, $7::text
      WHERE (SELECT status FROM dualrun.batch_runs WHERE dataset = $1 AND window_label = $2 AND status <> 'running' ORDER BY id DESC LIMIT 1)
            IS DISTINCT FROM 'succeeded'
     ON CONFLICT (dataset, window_label) DO UPDATE SET
       attempts = CASE WHEN o.state = EXCLUDED.state THEN o.attempts + 1 ELSE 1 END,
       state = EXCLUDED.state, window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
       last_fire_at = EXCLUDED.last_fire_at, detail = EXCLUDED.detail
     RETURNING attempts`, [dataset, window.label, window.start, window.end, state, fireAt, detail]);
  return r.rows[0]?.attempts ?? 0;
}

/** The window is settled (its newest run succeeded): it is no longer open. */
export async function closeOpenWindow(db: Db, dataset: string, label: string): Promise<void> {
  await db.query('DELETE FROM dualrun.batch_open_windows WHERE dataset = $1 AND window_label = $2', [dataset, label]);
}

/**
 * SQL that removes the open row of the succeeded run(s) in a CTE named `done` (columns dataset,
 * window_label, status): used in the statement recording the success, so the ledger and the open
 * windows never disagree.
 */
export const CLOSE_SUCCEEDED_SQL = `DELETE FROM dualrun.batch_open_windows o USING done
  WHERE done.status = 'succeeded' AND o.dataset = done.dataset AND o.window_label = done.window_label RETURNING 1`;
