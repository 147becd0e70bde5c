/**
 * Is a window ready for a verdict? The batch side is settled when the newest
 * run for the window succeeded (dualrun.batch_runs); the stream side when its
 * watermark passed the window end plus `reconcile.settle`. For a whole-table
 * dataset the batch snapshot instant stands in for the window end: the stream
 * must have applied everything the batch saw. The watermark lives beside the
 * stream output (docs/internal-contracts.md), so it is looked for in that
 * database first, then in the toolkit database. An adopted stream output
 * (written outside dualrun) has no such watermark: the caller passes how to
 * tell it caught up (reconcile/adopted-watermark.ts).
 */
import type { Pool } from '../src/core/db/connect.ts';
import type { Window } from '../src/core/windows.ts';

export interface Settlement {
  settled: boolean;
  /** Why not, for people. */
  reason: string | null;
  /** When the batch saw its source; in-flight differences are judged against it. */
  snapshotAt: Date | null;
  /**
   * How sure: `proven` (settled), `unknown` (dualrun has no record to tell: no batch run,
   * no watermark), `behind` (dualrun knows it is not settled). A verdict judged with
   * --assume-settled while `behind` is never cutover evidence (docs/cutover.md, rule 4.3).
   */
  proof: 'proven' | 'unknown' | 'behind';
  /** The stream watermark read (dualrun's own stream), null otherwise. */
  watermark: Date | null;
}

interface BatchRun { status: string; snapshot_at: Date | null; finished_at: Date | null }

/**
 * For an adopted stream output: null when the output has caught up with the
 * instant, else why not. Absent: dualrun's own stream watermark decides.
 */
export type StreamBehind = (horizon: Date) => Promise<string | null>;

/** An adopted stream output: how to tell it caught up, and whether it has a `stream.watermark` at all (none: unknown, not behind). */
export interface AdoptedStream { readonly behind: StreamBehind; readonly hasWatermark: boolean }

export async function checkSettlement(db: Pool, streamDb: Pool, dataset: string, window: Window | null, settleMs: number, adopted?: AdoptedStream, now = new Date()): Promise<Settlement> {
  const runs = await db.query<BatchRun>(
    `SELECT status, snapshot_at, finished_at FROM dualrun.batch_runs
      WHERE dataset = $1 AND window_start IS NOT DISTINCT FROM $2::timestamptz
      ORDER BY id DESC LIMIT 1`,
    [dataset, window ? window.start.toISOString() : null],
  );
  const run = runs.rows[0];
  const what = window ? `window ${window.label}` : 'the table';
  const not = (proof: 'unknown' | 'behind', reason: string, snapshotAt: Date | null = null, watermark: Date | null = null): Settlement =>
    ({ settled: false, reason, snapshotAt, proof, watermark });
  if (!run) {
    // The scheduler knows this one is not finished: `behind`, so --assume-settled never makes it evidence.
    const open = window ? await openWindowNote(db, dataset, window) : null;
    if (open) return not('behind', `${what} is ${open}`);
    return not('unknown', `no batch run recorded for ${what} (run \`dualrun batch run\` or \`dualrun batch adopt\`, or pass --assume-settled)`);
  }
  const snapshotAt = run.snapshot_at ?? run.finished_at;
  if (run.status === 'partial') {
    // A partial load (batch run --partial) saw the window before it ended: never settled, never evidence.
    return not('behind', `the newest batch run for ${what} is partial (loaded before the window ended + settle); load it again once due (--assume-settled judges it, but never as cutover evidence)`);
  }
  if (run.status !== 'succeeded') return not('behind', `the newest batch run for ${what} is ${run.status}`);
  const horizon = new Date((window ? window.end : snapshotAt ?? new Date(0)).getTime() + settleMs);
  if (adopted) {
    const behind = await adopted.behind(horizon);
    return behind ? not(adopted.hasWatermark ? 'behind' : 'unknown', behind, snapshotAt) : { settled: true, reason: null, snapshotAt, proof: 'proven', watermark: null };
  }
  const watermark = await streamWatermark(streamDb === db ? [db] : [streamDb, db], dataset);
  if (!watermark) return not('unknown', 'the stream has no watermark yet (is `dualrun stream` running?)', snapshotAt);
  // A watermark can run ahead of the clock (a producer's clock, a wrong zone): a window that has not ended is never settled.
  if (now < horizon) return not('behind', `window end + settle (${horizon.toISOString()}) is still in the future`, snapshotAt, watermark);
  if (watermark < horizon) {
    return not('behind', `the stream watermark ${watermark.toISOString()} has not passed ${horizon.toISOString()} (window end + settle)`, snapshotAt, watermark);
  }
  return { settled: true, reason: null, snapshotAt, proof: 'proven', watermark };
}

/** How the batch scheduler left the window (dualrun.batch_open_windows, docs/batch.md), or null when it is not open. */
async function openWindowNote(db: Pool, dataset: string, window: Window): Promise<string | null> {
  const r = await db.query<{ state: string; last_fire_at: Date }>(
    'SELECT state, last_fire_at FROM dualrun.batch_open_windows WHERE dataset = $1 AND window_start = $2', [dataset, window.start]);
  const o = r.rows[0];
  if (!o) return null;
  const why = o.state === 'waiting' ? 'batch.completion said the external job had not finished it'
    : o.state === 'due' ? 'a fire was to adopt it and did not record that it did' : 'its adoption failed';
  return `${o.state} for the batch: at the scheduler's fire of ${o.last_fire_at.toISOString()} ${why}`;
}

/** The dataset's stream watermark from the first database that has one recorded. */
async function streamWatermark(pools: Pool[], dataset: string): Promise<Date | null> {
  for (const pool of pools) {
    const t = await pool.query<{ t: string | null }>(`SELECT to_regclass('dualrun.watermarks')::text AS t`);
    if (!t.rows[0].t) continue;
    const wm = await pool.query<{ event_time: Date | null }>('SELECT event_time FROM dualrun.watermarks WHERE dataset = $1', [dataset]);
    if (wm.rows[0]) return wm.rows[0].event_time;
  }
  return null;
}
