/**
 * What each scheduled job does when it fires. The dataset's stage is read at
 * fire time (through src/core/stages.ts), so a promotion or rollback takes effect
 * without restarting the scheduler: no legacy batch once `streaming-only`, no
 * reconciliation unless both paths run.
 */
import path from 'node:path';
import type { Runtime } from '../../core/runtime.ts';
import { pathsRunning, readStage } from '../../core/stages.ts';
import type { ScheduledJob } from './planned-jobs.ts';
import type { FireOutcome } from './fire-claim.ts';
import { runWindow } from '../../../legacy-batch/run-window.ts';
import { succeededWindows } from '../../../legacy-batch/run-ledger.ts';
import { lastDueWindow } from '../../../legacy-batch/due-window.ts';
import { adoptWindow, externalJobFinished } from '../../../legacy-batch/adopt.ts';

export interface JobOutcome { outcome: FireOutcome; detail: string }

export async function runJob(rt: Runtime, job: ScheduledJob, fireAt: Date, signal: AbortSignal): Promise<JobOutcome> {
  if (job.kind === 'report') return runReport(rt, fireAt);
  const ds = rt.dataset(job.dataset!);
  const stage = await readStage(await rt.db(), ds.name);
  const paths = pathsRunning(stage);
  if (job.kind === 'reconcile') {
    if (!paths.batch || !paths.stream) return { outcome: 'skipped', detail: `stage ${stage}: nothing to reconcile (both paths must run)` };
    // Loaded lazily: the reconciler is only needed when its job fires.
    const { reconcileSettledWindows } = await import('../../../reconcile/nightly.ts');
    const results = await reconcileSettledWindows(rt, ds.name);
    const verdicts = results.map((r) => `${r.window ?? 'table'}=${r.verdict}`).join(' ');
    return { outcome: 'succeeded', detail: verdicts || 'no newly settled window' };
  }
  if (!paths.batch) return { outcome: 'skipped', detail: `stage ${stage}: the legacy batch is retired` };
  // The newest window past its end + settle; a partial load of it is not `succeeded`, so it is loaded again.
  const window = lastDueWindow(ds, fireAt);
  // A window already loaded (by a manual run, a backfill, the legacy job) is not redone.
  if (window && (await succeededWindows(await rt.db(), ds.name, [window.label])).has(window.label)) {
    return { outcome: 'skipped', detail: `window ${window.label} already succeeded` };
  }
  if (!ds.batch.query) {
    if (!(await externalJobFinished(rt, ds, window))) return { outcome: 'skipped', detail: `window ${window?.label ?? 'table'}: external job not finished yet` };
    const r = await adoptWindow(rt, ds, window, 'schedule');
    return { outcome: 'succeeded', detail: `adopted ${r.window ?? 'table'}: ${r.rows} rows (run ${r.runId})` };
  }
  const r = await runWindow(rt, ds, window, { trigger: 'schedule', signal });
  const detail = `window ${r.window ?? 'table'}: ${r.status}${r.rows === null ? '' : `, ${r.rows} rows`}${r.runId ? ` (run ${r.runId})` : ''}${r.error ? `: ${r.error.message}` : ''}`;
  if (r.status === 'not-run') return { outcome: 'abandoned', detail };
  return { outcome: r.status === 'partial' ? 'succeeded' : r.status, detail };
}

async function runReport(rt: Runtime, fireAt: Date): Promise<JobOutcome> {
  const { writeNightlyReport } = await import('../../../reconcile/nightly.ts');
  const date = fireAt.toISOString().slice(0, 10);
  const files: string[] = [];
  for (const format of ['html', 'md'] as const) {
    const out = path.join(rt.config.report.dir, `dualrun-report-${date}.${format}`);
    await writeNightlyReport(rt, { format, out });
    files.push(out);
  }
  return { outcome: 'succeeded', detail: files.join(', ') };
}
