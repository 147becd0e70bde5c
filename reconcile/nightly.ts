/**
 * What the scheduler calls (docs/internal-contracts.md).
 *
 * reconcileSettledWindows judges the windows that have a new batch result:
 * windows (starting within the last LOOKBACK_DAYS, or loaded or adopted by the
 * scheduler within them: an open window settled weeks late was never judged)
 * whose newest batch run succeeded and
 * that have no match/mismatch verdict recorded since that run finished. A
 * re-run batch window is therefore judged again; a judged window is not. Each
 * candidate still passes the settlement check, so a window whose stream has not
 * caught up yet is recorded `pending` and comes back the next night. A
 * whole-table dataset follows the same rule with its (window-less) batch runs.
 */
import path from 'node:path';
import type { Runtime } from '../src/core/runtime.ts';
import { windowOf, type Window } from '../src/core/windows.ts';
import type { WindowResult } from './types.ts';
import { stringifyExact } from '../src/core/exact-json.ts';
import { writeOutputFile } from '../src/core/write-output-file.ts';
import { reconcileWindows } from './reconcile-dataset.ts';
import { buildNightlyReport, type NightlyReport } from './nightly-report-data.ts';
import { markdownReport } from './markdown-report.ts';
import { htmlReport } from './html-report.ts';

export const LOOKBACK_DAYS = 7;

/** `now` (default: the clock) anchors the look-back, so a test or a catch-up run can name the night. */
export async function reconcileSettledWindows(rt: Runtime, dataset: string, opts: { samples?: number; now?: Date } = {}): Promise<WindowResult[]> {
  const ds = rt.dataset(dataset);
  const db = await rt.db();
  const r = await db.query<{ window_start: Date | null }>(
    `WITH newest AS (
       SELECT DISTINCT ON (window_start) window_start, status, finished_at
         FROM dualrun.batch_runs
        WHERE dataset = $1 AND (CASE WHEN $2 THEN window_start >= $4::timestamptz - make_interval(days => $3)
                  -- Settled late by the scheduler (an open window adopted or retried weeks after it ended).
                  OR window_start IN (SELECT l.window_start FROM dualrun.batch_runs l
                                       WHERE l.dataset = $1 AND l.trigger = 'schedule' AND l.status = 'succeeded'
                                         AND l.finished_at >= $4::timestamptz - make_interval(days => $3))
                  ELSE window_start IS NULL END)
        ORDER BY window_start, id DESC)
     SELECT n.window_start FROM newest n
      WHERE n.status = 'succeeded'
        AND NOT EXISTS (SELECT 1 FROM dualrun.reconciliations r
                         WHERE r.dataset = $1 AND r.window_start IS NOT DISTINCT FROM n.window_start
                           AND r.verdict IN ('match', 'mismatch') AND r.finished_at >= coalesce(n.finished_at, '-infinity'))
      ORDER BY n.window_start`,
    [dataset, ds.window !== null, LOOKBACK_DAYS, (opts.now ?? new Date()).toISOString()],
  );
  if (r.rows.length === 0) {
    rt.log.info({ dataset }, 'no newly settled batch window to reconcile');
    return [];
  }
  const windows: (Window | null)[] = r.rows.map((row) => (ds.window && row.window_start ? windowOf(row.window_start, ds.window.grain, ds.window.timezone) : null));
  const results = await reconcileWindows(rt, ds, windows, { samples: opts.samples });
  for (const res of results) rt.log.info({ dataset, window: res.window, verdict: res.verdict }, 'nightly reconciliation');
  return results;
}

export function renderNightlyReport(report: NightlyReport, format: 'md' | 'html' | 'json'): string {
  if (format === 'html') return htmlReport(report);
  if (format === 'json') return `${stringifyExact(report, 2)}\n`;
  return markdownReport(report);
}

/** Writes one night's report across all datasets to `out` (folders created as needed). */
export async function writeNightlyReport(rt: Runtime, opts: { date?: string; format: 'md' | 'html' | 'json'; out: string }): Promise<NightlyReport> {
  const report = await buildNightlyReport(rt, { date: opts.date });
  const file = path.resolve(rt.config.baseDir, opts.out);
  // Write then rename (a plain file), so a reader never sees half a report.
  writeOutputFile(file, renderNightlyReport(report, opts.format));
  rt.log.info({ file, date: report.date, status: report.status }, 'nightly report written');
  return report;
}
