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
import { previousFires, type FireOutcome } from './fire-claim.ts';
import { abandonOrphanedFires } from './orphaned-fires.ts';
import { fireWindows, windowsSince } from './fire-windows.ts';
import type { DatasetConfig } from '../../core/config/types.ts';
import type { Window } from '../../core/windows.ts';
import { runWindow } from '../../../legacy-batch/run-window.ts';
import { succeededWindows } from '../../../legacy-batch/run-ledger.ts';
import { adoptWindow, externalJobFinished } from '../../../legacy-batch/adopt.ts';
import { closeOpenWindow, markDue, markOpen, MAX_FIRE_ATTEMPTS, openWindows, retriedByFires, type OpenState } from '../../../legacy-batch/open-windows.ts';
import { withOpenWindows } from './fire-open-windows.ts';
import { toDualrunError } from '../../core/errors.ts';
import type { Pool } from '../../core/db/connect.ts';

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
  const db = await rt.db();
  await abandonOrphanedFires(db, job.id);
  const own = fireWindows(ds, fireAt, windowsSince(ds, await previousFires(db, job.id, fireAt)));
  const { older } = own;
  // Earlier windows left waiting or failed by earlier fires are handled again (open-windows.ts).
  const windows = withOpenWindows(ds, fireAt, own.windows, await openWindows(db, [ds.name]));
  // A window already loaded (by a manual run, a backfill, the legacy job) is not redone: one lookup for the fire's windows.
  const labels = windows.flatMap((w) => (w ? [w.label] : []));
  const done = labels.length > 0 ? await succeededWindows(await rt.db(), ds.name, labels) : new Set<string>();
  // Recorded before handling: whatever ends this fire early, its windows are not lost.
  if (ds.window) await markDue(db, ds.name, windows.filter((w): w is Window => w !== null && !done.has(w.label)), fireAt);
  const ends: JobOutcome[] = [];
  for (const window of windows) ends.push(await keepOpenState(db, ds, window, fireAt, await batchWindow(rt, ds, window, done, signal)));
  if (older) {
    const more = `${older.count} older windows due since the previous fire were not loaded: dualrun batch run ${ds.name} --from ${older.from} --to ${older.to}`;
    rt.log.warn({ dataset: ds.name, ...older }, more);
    ends.push({ outcome: 'skipped', detail: more });
  }
  return { outcome: OUTCOME_ORDER.find((o) => ends.some((e) => e.outcome === o)) ?? 'skipped', detail: ends.map((e) => e.detail).join('; ') };
}

// The fire's outcome is its windows' worst.
const OUTCOME_ORDER: readonly FireOutcome[] = ['abandoned', 'failed', 'succeeded', 'skipped'];

/** How a window of a fire ended, and whether it stays open (waiting for the external job, or failed). */
interface WindowEnd extends JobOutcome { open?: OpenState; settled?: boolean }

/**
 * One window of a batch fire: loaded (managed), recorded once the external job finished (adopted), or skipped.
 * A window that throws (the completion SQL fails, say) fails alone: the fire goes on with its other windows.
 */
async function batchWindow(rt: Runtime, ds: DatasetConfig, window: Window | null, done: ReadonlySet<string>, signal: AbortSignal): Promise<WindowEnd> {
  const label = window?.label ?? 'table';
  if (signal.aborted) return { outcome: 'abandoned', detail: `window ${label}: not run (scheduler stopping)` };
  // The newest due window, one due since the previous fire, or an open one; a partial load of it is not `succeeded`, so it is loaded again.
  if (window && done.has(window.label)) {
    return { outcome: 'skipped', detail: `window ${window.label} already succeeded`, settled: true };
  }
  try {
    return await (ds.batch.query ? loadWindow(rt, ds, window, signal) : adoptIfFinished(rt, ds, window));
  } catch (e) {
    if (signal.aborted) throw e;
    return { outcome: 'failed', detail: `window ${label}: failed: ${toDualrunError(e).message}`, open: 'failed' };
  }
}

async function adoptIfFinished(rt: Runtime, ds: DatasetConfig, window: Window | null): Promise<WindowEnd> {
  const label = window?.label ?? 'table';
  if (!(await externalJobFinished(rt, ds, window))) return { outcome: 'skipped', detail: `window ${label}: external job not finished yet`, open: 'waiting' };
  const r = await adoptWindow(rt, ds, window, 'schedule', { once: true });
  if (r.already) return { outcome: 'skipped', detail: `window ${label} already succeeded (run ${r.runId})`, settled: true };
  return { outcome: 'succeeded', detail: `adopted ${r.window ?? 'table'}: ${r.rows} rows (run ${r.runId})`, settled: r.status === 'succeeded' };
}

async function loadWindow(rt: Runtime, ds: DatasetConfig, window: Window | null, signal: AbortSignal): Promise<WindowEnd> {
  const r = await runWindow(rt, ds, window, { trigger: 'schedule', signal });
  const detail = `window ${r.window ?? 'table'}: ${r.status}${r.rows === null ? '' : `, ${r.rows} rows`}${r.runId ? ` (run ${r.runId})` : ''}${r.error ? `: ${r.error.message}` : ''}`;
  if (r.status === 'not-run') return { outcome: 'abandoned', detail };
  if (r.status === 'failed') return { outcome: 'failed', detail, open: 'failed' };
  return { outcome: r.status === 'partial' ? 'succeeded' : r.status, detail, settled: r.status === 'succeeded' };
}

/**
 * Records a window the fire left open (a shutdown's abandoned window is no attempt), and says in
 * the detail whether later fires try it again. A settled window's row went with its succeeded run
 * (run-ledger.ts); one found already succeeded is closed here too.
 */
async function keepOpenState(db: Pool, ds: DatasetConfig, window: Window | null, fireAt: Date, end: WindowEnd): Promise<JobOutcome> {
  if (!window || !ds.window) return end;
  if (end.settled) { await closeOpenWindow(db, ds.name, window.label); return end; }
  if (!end.open) return end;
  const attempts = await markOpen(db, ds.name, window, end.open, fireAt, end.detail);
  if (attempts === 0) return { ...end, detail: `${end.detail} (a run of the window succeeded meanwhile)` };
  if (end.open === 'waiting') return { ...end, detail: `${end.detail} (checked again at later fires)` };
  const more = retriedByFires({ state: 'failed', attempts })
    ? `attempt ${attempts} of ${MAX_FIRE_ATTEMPTS}, retried at the next fire`
    : `attempt ${attempts} of ${MAX_FIRE_ATTEMPTS}, not retried by fires: dualrun batch ${ds.batch.query ? 'run' : 'adopt'} ${ds.name} --window ${window.label}`;
  return { ...end, detail: `${end.detail} (${more})` };
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
