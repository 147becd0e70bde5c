/**
 * The run ledger (`dualrun.batch_runs`): one row per attempt, `running` until it
 * ends as `succeeded`, `partial` (a window loaded before it was due: never
 * complete), `failed` or `abandoned`. The reconciler and the cutover
 * gate read it: a window is batch-settled when its newest row succeeded.
 *
 * Liveness: while a run is `running`, a session advisory lock on its id is held by a
 * dedicated connection of the process doing it. A SIGKILLed process's connection
 * ends and the lock with it, so `abandonOrphanedRuns` (called by `dualrun datasets`,
 * the scheduler and every new run) can tell, from any host, a run nobody is doing
 * and mark it `abandoned`.
 */
import os from 'node:os';
import { inTransaction, type Pool, type PoolClient } from '../src/core/db/connect.ts';
import { databaseErrorFields, DualrunError } from '../src/core/errors.ts';
import { scrubSecrets } from '../src/core/secrets.ts';
import type { Window } from '../src/core/windows.ts';
import { CLOSE_SUCCEEDED_SQL } from './open-windows.ts';

type Db = Pool | PoolClient;
export type RunMode = 'managed' | 'adopted';
export type RunTrigger = 'cli' | 'backfill' | 'schedule';

export interface RunStart {
  dataset: string;
  window: Window | null;
  mode: RunMode;
  trigger: RunTrigger;
  /** The batch query and transform hashes this run executes (dataset definition parts), for the cutover gate. */
  definition?: { readonly batchQuery: string; readonly batchTransform: string } | null;
}

export type RunEnd =
  | { status: 'succeeded' | 'partial'; rows: number; snapshotAt: Date }
  | { status: 'failed' | 'abandoned'; error: unknown };

// First key of the two-key advisory lock naming a run (the second is its id): 'dRun'.
const RUN_LOCK_CLASS = 0x6452756e;
const holders = new Map<number, PoolClient>();
// Runs this process started and has not ended (a run started on a client has no holder).
const ownRuns = new Set<number>();

export async function startRun(db: Db, run: RunStart): Promise<number> {
  await abandonOrphanedRuns(db).catch(() => 0);
  const w = run.window;
  const args = [run.dataset, w?.start ?? null, w?.end ?? null, w?.label ?? null, run.mode, run.trigger, os.hostname(), process.pid,
    run.definition ? JSON.stringify(run.definition) : null];
  const insert = `INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, trigger, host, pid, definition)
     VALUES ($1, $2, $3, $4, $5, 'running', $6, $7, $8, $9) RETURNING id`;
  if (!isPool(db)) {
    const id = Number((await db.query<{ id: string }>(insert, args)).rows[0].id);
    ownRuns.add(id);
    return id;
  }
  // Row and lock in one transaction: no one ever sees the row `running` without its lock.
  const holder = await db.connect();
  try {
    await holder.query('BEGIN');
    const id = Number((await holder.query<{ id: string }>(insert, args)).rows[0].id);
    await holder.query('SELECT pg_advisory_lock($1, $2)', [RUN_LOCK_CLASS, runLockKey(id)]);
    await holder.query('COMMIT');
    holders.set(id, holder);
    ownRuns.add(id);
    return id;
  } catch (e) {
    await holder.query('ROLLBACK').catch(() => undefined);
    holder.release(true);
    throw e;
  }
}

/** Drops the run's liveness lock (its outcome is recorded, or being committed). */
async function releaseHolder(id: number): Promise<void> {
  ownRuns.delete(id);
  const holder = holders.get(id);
  if (!holder) return;
  holders.delete(id);
  try {
    await holder.query('SELECT pg_advisory_unlock($1, $2)', [RUN_LOCK_CLASS, runLockKey(id)]);
    holder.release();
  } catch (e) {
    holder.release(e as Error);
  }
}

function runLockKey(id: number): number {
  return id % 2_147_483_648;
}

function isPool(db: Db): db is Pool {
  return typeof (db as Pool).totalCount === 'number';
}

/** Ends a run; only a row still `running` changes, so an end is recorded once. */
export async function finishRun(db: Db, id: number, end: RunEnd): Promise<void> {
  try {
    await recordEnd(db, id, end);
  } finally {
    // Inside a load transaction the UPDATE holds the row until COMMIT, so an
    // orphan check in between waits for it and then sees the outcome.
    await releaseHolder(id);
  }
}

async function recordEnd(db: Db, id: number, end: RunEnd): Promise<void> {
  if (!('error' in end)) {
    // A succeeded window is no longer open (open-windows.ts), in the same statement.
    const r = await db.query<{ n: number }>(
      `WITH done AS (UPDATE dualrun.batch_runs SET status = $4, finished_at = clock_timestamp(), rows = $2, snapshot_at = $3
         WHERE id = $1 AND status = 'running' RETURNING dataset, window_label, status),
       closed AS (${CLOSE_SUCCEEDED_SQL})
       SELECT count(*)::int AS n FROM done`,
      [id, end.rows, end.snapshotAt, end.status],
    );
    if (r.rows[0].n === 0) await throwEndedElsewhere(db, id, end.status);
    return;
  }
  const e = ledgerError(end.error);
  const r = await db.query(
    `UPDATE dualrun.batch_runs SET status = $2, finished_at = clock_timestamp(), error_message = $3, error_code = $4, error = $5
     WHERE id = $1 AND status = 'running'`,
    [id, end.status, e.message, e.code, JSON.stringify(e.fields)],
  );
  if (r.rowCount === 0) await throwEndedElsewhere(db, id, end.status);
}

/**
 * The row was no longer `running`: another process ended it (its orphan check found the
 * liveness lock gone, e.g. the lock's connection was terminated). Ignoring that reported a
 * load `succeeded` while the ledger said `abandoned`; thrown inside the load transaction it
 * rolls the load back, so output and ledger agree.
 */
async function throwEndedElsewhere(db: Db, id: number, wanted: string): Promise<never> {
  const now = (await db.query<{ status: string }>('SELECT status FROM dualrun.batch_runs WHERE id = $1', [id])).rows[0]?.status ?? 'missing';
  throw new DualrunError('DUALRUN_BATCH_FAILED',
    `batch run ${id} could not be recorded ${wanted}: the ledger already says ${now} (another process ended it after its liveness lock was lost)`,
    { details: { runId: id, ledgerStatus: now } });
}

/**
 * Before a load commits: the run's liveness connection must still hold its lock. If that
 * connection ended (terminated, network cut), any orphan check may mark the run `abandoned`
 * at any moment, so the load is rolled back rather than committed under a ledger that
 * disagrees. Runs started on a client (no holder) have nothing to check.
 */
export async function assertRunLive(id: number): Promise<void> {
  const holder = holders.get(id);
  if (!holder) return;
  try {
    await holder.query('SELECT 1');
  } catch (e) {
    throw new DualrunError('DUALRUN_BATCH_FAILED',
      `batch run ${id} lost its liveness lock (its ledger connection ended: ${(e as Error).message}); the load is rolled back, the window keeps its previous content`,
      { cause: e, details: { runId: id } });
  }
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
  // A succeeded window is no longer open (open-windows.ts), in the same statement.
  const r = await db.query<{ id: string }>(
    `WITH done AS (INSERT INTO dualrun.batch_runs (dataset, window_start, window_end, window_label, mode, status, started_at, finished_at, rows, snapshot_at, trigger, host, pid)
       VALUES ($1, $2, $3, $4, 'adopted', $10, $5, $5, $6, $5, $7, $8, $9) RETURNING id, dataset, window_label, status),
     closed AS (${CLOSE_SUCCEEDED_SQL})
     SELECT id FROM done`,
    [run.dataset, w?.start ?? null, w?.end ?? null, w?.label ?? null, snapshotAt, rows, run.trigger, os.hostname(), process.pid, status],
  );
  return Number(r.rows[0].id);
}

/**
 * The scheduler's adoption: records the window only if its newest run has not succeeded,
 * under a transaction lock on (dataset, window), so two fires of the job running at once
 * (two schedulers, different fire times) record it once, not twice. `existing`: the run
 * that had already settled it. A person's `dualrun batch adopt` always records (a reload).
 */
export async function recordAdoptedOnce(db: Pool, run: Omit<RunStart, 'mode'>, rows: number, snapshotAt: Date): Promise<{ id: number; existing: boolean }> {
  return inTransaction(db, async (c) => {
    await c.query('SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))', [`dualrun.adopt.${run.dataset}`, run.window?.label ?? '']);
    const newest = (await c.query<{ id: string; status: string }>(
      `SELECT id, status FROM dualrun.batch_runs WHERE dataset = $1 AND window_label IS NOT DISTINCT FROM $2 AND status <> 'running' ORDER BY id DESC LIMIT 1`,
      [run.dataset, run.window?.label ?? null])).rows[0];
    if (newest?.status === 'succeeded') return { id: Number(newest.id), existing: true };
    return { id: await recordAdopted(c, run, rows, snapshotAt), existing: false };
  });
}

/**
 * Marks `running` rows whose liveness lock nobody holds as `abandoned` (a crash or
 * SIGKILL left them, on any host), so the ledger never shows a run nobody is doing.
 * Runs this process is doing are left alone. They are told apart by id, not by host and
 * pid: a restarted container keeps its hostname and is pid 1 again, and its killed run
 * stayed `running` forever for its own scheduler.
 */
export async function abandonOrphanedRuns(db: Db): Promise<number> {
  const r = await db.query(
    `UPDATE dualrun.batch_runs r SET status = 'abandoned', finished_at = clock_timestamp(),
       error_message = 'the process running it ended without recording an outcome (its connection and lock are gone)'
     WHERE r.status = 'running' AND r.id <> ALL($3::bigint[])
       AND NOT EXISTS (SELECT 1 FROM pg_locks l
             WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND l.classid::text::bigint = $1 AND l.objid::text::bigint = r.id % $2)`,
    [RUN_LOCK_CLASS, 2_147_483_648, [...ownRuns]],
  );
  return r.rowCount ?? 0;
}
