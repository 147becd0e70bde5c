/**
 * The run ledger (`dualrun.batch_runs`): one row per attempt, `running` until it
 * ends as `succeeded`, `partial` (a window loaded before it was due: never
 * complete), `failed` or `abandoned`. The reconciler and the cutover
 * gate read it: a window is batch-settled when its newest row succeeded.
 */
import os from 'node:os';
import type { Pool, PoolClient } from '../src/db/connect.ts';
import { databaseErrorFields } from '../src/errors.ts';
import { scrubSecrets } from '../src/secrets.ts';
import type { Window } from '../src/windows.ts';

type Db = Pool | PoolClient;
export type RunMode = 'managed' | 'adopted';
export type RunTrigger = 'cli' | 'backfill' | 'schedule';

export interface RunStart {
  dataset: string;
  window: Window | null;
  mode: RunMode;
  trigger: RunTrigger;
}

export type RunEnd =
  | { status: 'succeeded' | 'partial'; rows: number; snapshotAt: Date }
  | { status: 'failed' | 'abandoned'; error: unknown };

export async function startRun(db: Db, run: RunStart): Promise<number> {
  const w = run.window;
  const r = await db.query<{ id: string }>(
    `INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, trigger, host, pid)
     VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8) RETURNING id`,
    [run.dataset, w?.start ?? null, w?.end ?? null, w?.label ?? null, run.mode, run.trigger, os.hostname(), process.pid],
  );
  return Number(r.rows[0].id);
}

/** Ends a run; only a row still `running` changes, so an end is recorded once. */
export async function finishRun(db: Db, id: number, end: RunEnd): Promise<void> {
  if (!('error' in end)) {
    await db.query(
      `UPDATE dualrun.batch_runs SET status = $4, finished_at = clock_timestamp(), rows = $2, snapshot_at = $3
       WHERE id = $1 AND status = 'running'`,
      [id, end.rows, end.snapshotAt, end.status],
    );
    return;
  }
  const e = ledgerError(end.error);
  await db.query(
    `UPDATE dualrun.batch_runs SET status = $2, finished_at = clock_timestamp(), error_message = $3, error_code = $4, error = $5
     WHERE id = $1 AND status = 'running'`,
    [id, end.status, e.message, e.code, JSON.stringify(e.fields)],
  );
}

/** The database's own message, SQLSTATE and DatabaseError fields, secrets scrubbed. */
export function ledgerError(err: unknown): { message: string; code: string | null; fields: Record<string, unknown> } {
  const db = databaseErrorFields(err);
  const root = rootMessage(err);
  return { message: scrubSecrets(root), code: db?.code ?? null, fields: { message: scrubSecrets(root), ...(db ?? {}) } };
}

// The innermost message: a wrapped DatabaseError's text is the database's own words.
function rootMessage(err: unknown): string {
  let msg = err instanceof Error ? err.message : String(err);
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof Error) msg = e.message;
  }
  return msg;
}

/** Labels (of those asked) whose newest run succeeded. */
export async function succeededWindows(db: Db, dataset: string, labels: readonly string[]): Promise<Set<string>> {
  const r = await db.query<{ window_label: string }>(
    `SELECT window_label FROM (
       SELECT DISTINCT ON (window_label) window_label, status FROM dualrun.batch_runs
       WHERE dataset = $1 AND window_label = ANY($2) AND status <> 'running'
       ORDER BY window_label, id DESC) newest
     WHERE status = 'succeeded'`,
    [dataset, labels],
  );
  return new Set(r.rows.map((x) => x.window_label));
}

/** Records an adopted window in one step: the external job already finished. */
export async function recordAdopted(db: Db, run: Omit<RunStart, 'mode'>, rows: number, snapshotAt: Date, status: 'succeeded' | 'partial' = 'succeeded'): Promise<number> {
  const w = run.window;
  const r = await db.query<{ id: string }>(
    `INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, started_at, finished_at, rows, snapshot_at, trigger, host, pid)
     VALUES ($1, $2, $3, $4, 'adopted', $10, $5, $5, $6, $5, $7, $8, $9) RETURNING id`,
    [run.dataset, w?.start ?? null, w?.end ?? null, w?.label ?? null, snapshotAt, rows, run.trigger, os.hostname(), process.pid, status],
  );
  return Number(r.rows[0].id);
}

/**
 * Marks `running` rows of this host whose process is gone as `abandoned` (a crash
 * or SIGKILL left them), so the ledger never shows a run that nobody is doing.
 */
export async function abandonOrphanedRuns(db: Db): Promise<number> {
  const r = await db.query<{ id: string; pid: number | null }>(
    `SELECT id, pid FROM dualrun.batch_runs WHERE status = 'running' AND host = $1`, [os.hostname()],
  );
  const dead = r.rows.filter((x) => x.pid !== null && x.pid !== process.pid && !processAlive(x.pid)).map((x) => Number(x.id));
  if (dead.length === 0) return 0;
  await db.query(
    `UPDATE dualrun.batch_runs SET status = 'abandoned', finished_at = clock_timestamp(),
       error_message = 'the process running it ended without recording an outcome'
     WHERE id = ANY($1) AND status = 'running'`, [dead],
  );
  return dead.length;
}

function processAlive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}
