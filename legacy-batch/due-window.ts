/**
 * When a window may be loaded as complete: once it has ended and the dataset's
 * settle allowance (`reconcile.settle`, for late rows) has passed. Before that a
 * load sees only part of the window; it is refused unless asked for as partial
 * (`batch run --partial`), and a partial load is never complete (docs/batch.md).
 */
import { DualrunError } from '../src/core/errors.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import { windowOf, type Window } from '../src/core/windows.ts';

/** The instant a window becomes due: its end plus the settle allowance. */
export function dueAt(ds: DatasetConfig, window: Window): Date {
  return new Date(window.end.getTime() + ds.reconcile.settleMs);
}

export function isDue(ds: DatasetConfig, window: Window, at: Date): boolean {
  return dueAt(ds, window).getTime() <= at.getTime();
}

/** The newest window that is due at an instant, e.g. yesterday for a nightly day-grain job. */
export function lastDueWindow(ds: DatasetConfig, at: Date): Window | null {
  if (!ds.window) return null;
  const containing = windowOf(new Date(at.getTime() - ds.reconcile.settleMs), ds.window.grain, ds.window.timezone);
  return windowOf(new Date(containing.start.getTime() - 1), ds.window.grain, ds.window.timezone);
}

/** Throws DUALRUN_WINDOW_NOT_DUE (exit 2) for the first window not yet due, saying when it can run. */
export function assertDue(ds: DatasetConfig, windows: readonly (Window | null)[], at: Date, verb = 'loaded'): void {
  const early = windows.find((w): w is Window => w !== null && !isDue(ds, w, at));
  if (!early) return;
  const due = dueAt(ds, early);
  throw new DualrunError('DUALRUN_WINDOW_NOT_DUE',
    `dataset ${ds.name}, window ${early.label} cannot be ${verb} as complete yet: it ends ${early.end.toISOString()} and the settle allowance ` +
    `(datasets.${ds.name}.reconcile.settle) runs until ${due.toISOString()}; run it then, or pass --partial to load what is there now ` +
    '(recorded as partial: loaded again once due, never cutover evidence)',
    { details: { dataset: ds.name, window: early.label, dueAt: due.toISOString() } });
}
