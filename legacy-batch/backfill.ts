/**
 * Several windows in order. Windows whose newest run succeeded are skipped unless
 * `rerun`, so running the same range again resumes after a failure. The first
 * failed (or abandoned) window stops the backfill: later windows are reported
 * `not-run`, one result per window (like kysely's Migrator, results over exceptions).
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Runtime } from '../src/core/runtime.ts';
import type { Window } from '../src/core/windows.ts';
import { succeededWindows, type RunTrigger } from './run-ledger.ts';
import { runWindow, type WindowResult } from './run-window.ts';
import { assertDue } from './due-window.ts';

export interface BackfillOptions {
  rerun: boolean;
  trigger: RunTrigger;
  signal?: AbortSignal;
  /** Called before each window starts and after it ends (for a progress bar). */
  /** Allow windows that are not due yet; they are recorded `partial` (default: refuse before loading any). */
  partial?: boolean;
  onWindow?: (event: { phase: 'start' | 'end'; index: number; total: number; result?: WindowResult; window: Window }) => void;
}

export async function backfill(rt: Runtime, ds: DatasetConfig, windows: readonly Window[], opts: BackfillOptions): Promise<WindowResult[]> {
  if (!opts.partial) assertDue(ds, windows, new Date());
  const done = opts.rerun ? new Set<string>() : await succeededWindows(await rt.db(), ds.name, windows.map((w) => w.label));
  const results: WindowResult[] = [];
  let stopped = false;
  for (const [index, window] of windows.entries()) {
    let result: WindowResult;
    const base = { dataset: ds.name, window: window.label, runId: null, rows: null, ms: 0 };
    opts.onWindow?.({ phase: 'start', index, total: windows.length, window });
    if (stopped || opts.signal?.aborted) result = { ...base, status: 'not-run' };
    else if (done.has(window.label)) result = { ...base, status: 'skipped' };
    else {
      result = await runWindow(rt, ds, window, { trigger: opts.trigger, signal: opts.signal, partial: opts.partial });
      stopped = result.status !== 'succeeded' && result.status !== 'partial';
    }
    results.push(result);
    opts.onWindow?.({ phase: 'end', index, total: windows.length, window, result });
  }
  return results;
}
