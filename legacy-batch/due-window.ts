/**
 * The window a scheduled (or unqualified) run works on: the newest window that
 * has fully ended at a given instant, e.g. yesterday for a nightly day-grain job.
 */
import type { DatasetConfig } from '../src/config/types.ts';
import { windowOf, type Window } from '../src/windows.ts';

export function lastEndedWindow(ds: DatasetConfig, at: Date): Window | null {
  if (!ds.window) return null;
  const current = windowOf(at, ds.window.grain, ds.window.timezone);
  return windowOf(new Date(current.start.getTime() - 1), ds.window.grain, ds.window.timezone);
}
