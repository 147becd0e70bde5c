/**
 * The library entry point: reconcile a dataset's windows, one result per window
 * (results over exceptions: a window that fails to run gets `verdict: 'error'`,
 * the others still get judged).
 */
import { DualrunError, toDualrunError } from '../src/core/errors.ts';
import type { Runtime } from '../src/core/runtime.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import { parseWindow, windowOf, type Window } from '../src/core/windows.ts';
import type { ReconcileOptions, WindowResult } from './types.ts';
import { prepareDataset } from './dataset-context.ts';
import { reconcileWindow, resultError } from './reconcile-window.ts';
import { mismatchAlert } from './mismatch-alert.ts';
import { storeResult } from './result-store.ts';
import { whileReconciling } from '../src/core/cutover/reconcile-lock.ts';

export const DEFAULT_SAMPLES = 20;

export async function reconcileDataset(rt: Runtime, dataset: string, opts: ReconcileOptions = {}): Promise<WindowResult[]> {
  const ds = rt.dataset(dataset);
  const windows = ds.window ? await resolveWindows(rt, ds, opts.windows) : [null];
  return reconcileWindows(rt, ds, windows, opts);
}

export async function reconcileWindows(rt: Runtime, ds: DatasetConfig, windows: (Window | null)[], opts: ReconcileOptions = {}): Promise<WindowResult[]> {
  // Stored verdicts are cutover evidence: no promotion of the dataset is granted while they are still being judged.
  if (opts.store ?? true) return whileReconciling(rt, ds.name, (locked) => judgeWindows(rt, ds, windows, locked ? opts : { ...opts, store: false }));
  return judgeWindows(rt, ds, windows, opts);
}

async function judgeWindows(rt: Runtime, ds: DatasetConfig, windows: (Window | null)[], opts: ReconcileOptions): Promise<WindowResult[]> {
  const wopts = { samples: opts.samples ?? DEFAULT_SAMPLES, assumeSettled: opts.assumeSettled ?? false, store: opts.store ?? true, progress: opts.progress, inMemoryRows: opts.inMemoryRows };
  let ctx;
  try {
    ctx = await prepareDataset(rt, ds, opts.buckets);
  } catch (e) {
    const err = toDualrunError(e, 'DUALRUN_RECONCILE_FAILED');
    rt.log.error({ err, dataset: ds.name }, 'reconciliation could not start');
    const results = windows.map((w) => failed(ds.name, w, err));
    // Not evidence, but the gate must see it: a dataset that cannot be compared breaks its streak.
    if (wopts.store) await storeFailures(rt, results);
    for (const r of results) opts.onResult?.(r); // text and Markdown print each result as it is known: failures too
    return results;
  }
  const results: WindowResult[] = [];
  for (const w of windows) {
    if (rt.signal.aborted) {
      // Still one result per window: the ones a signal left unjudged say so (an array
      // shorter than the windows asked for looked complete). Not stored: an interruption
      // is neither evidence nor a failure to compare.
      const r = failed(ds.name, w, interrupted(rt.signal));
      results.push(r);
      opts.onResult?.(r);
      continue;
    }
    const r = await reconcileWindow(rt, ctx, w, wopts);
    if (r.verdict === 'mismatch') rt.alerts.emit(mismatchAlert(r));
    results.push(r);
    opts.onResult?.(r);
  }
  return results;
}

/** Asked-for labels; none: the newest window with a succeeded batch run, else the last complete window. */
async function resolveWindows(rt: Runtime, ds: DatasetConfig, labels: string[] | undefined): Promise<Window[]> {
  const { grain, timezone } = ds.window!;
  if (labels && labels.length > 0) return labels.map((l) => parseWindow(l, grain, timezone));
  const db = await rt.db();
  const r = await db.query<{ window_start: Date }>(
    `SELECT window_start FROM dualrun.batch_runs WHERE dataset = $1 AND status = 'succeeded' AND window_start IS NOT NULL
      ORDER BY window_start DESC LIMIT 1`, [ds.name]);
  if (r.rows[0]) return [windowOf(r.rows[0].window_start, grain, timezone)];
  const current = windowOf(new Date(), grain, timezone);
  return [windowOf(new Date(current.start.getTime() - 1), grain, timezone)];
}

async function storeFailures(rt: Runtime, results: WindowResult[]): Promise<void> {
  try {
    const db = await rt.db();
    for (const r of results) await storeResult(db, r, new Date());
  } catch (e) {
    rt.log.error({ err: e }, 'recording the failed reconciliation failed');
  }
}

function interrupted(signal: AbortSignal): DualrunError {
  const by = (signal.reason as Error | undefined)?.message ?? 'a signal';
  return new DualrunError('DUALRUN_INTERRUPTED', `not judged: stopped by ${by} before this window was reconciled (run it again)`, { details: { signal: by } });
}

function failed(dataset: string, w: Window | null, err: DualrunError): WindowResult {
  return {
    dataset, window: w?.label ?? null, verdict: 'error', batch: null, stream: null, diff: null,
    error: resultError(err),
    windowStart: w?.start.toISOString() ?? null, windowEnd: w?.end.toISOString() ?? null,
    columns: [], schemaDrift: [], buckets: null, strategy: null, stage: null, durationMs: 0, id: null,
  };
}
