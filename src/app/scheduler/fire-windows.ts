/**
 * The windows a batch fire handles: the newest due window (as each fire always did) and
 * every window that became due since the job's previous fire. Without the second part a
 * window was never loaded when a fire did not happen: node-cron skips a wall-clock time the
 * clocks jump over (`30 2 * * *` in Europe/Paris on the spring-forward night: the fire that
 * would load the day before never comes, and the next one loads only its own newest day),
 * skips a tick while the previous run still goes (`noOverlap`), and a scheduler that was
 * down fires nothing. At most MAX_WINDOWS a fire (the newest); older ones are named for a backfill.
 */
import type { DatasetConfig, Grain } from '../../core/config/types.ts';
import { windowOf, type Window } from '../../core/windows.ts';
import { dueAt, lastDueWindow } from '../../../legacy-batch/due-window.ts';

export const MAX_WINDOWS = 31;
// Counting windows left beyond the cap stops here (an hourly job down for a year is 8760).
const COUNT_LIMIT = 100_000;

export interface FireWindows {
  /** Oldest first; `[null]` for a whole-table dataset. */
  readonly windows: readonly (Window | null)[];
  /** Windows due since the previous fire beyond MAX_WINDOWS, for a backfill. */
  readonly older: { readonly from: string; readonly to: string; readonly count: number } | null;
}

export function fireWindows(ds: DatasetConfig, fireAt: Date, previousFireAt: Date | null, max = MAX_WINDOWS): FireWindows {
  const newest = lastDueWindow(ds, fireAt);
  if (!newest || !ds.window) return { windows: [null], older: null };
  const { grain, timezone } = ds.window;
  const taken: Window[] = [newest];
  let olderCount = 0;
  let oldest: Window | null = null;
  let newestOlder: Window | null = null;
  for (let w = before(newest, grain, timezone); previousFireAt && dueAt(ds, w).getTime() > previousFireAt.getTime(); w = before(w, grain, timezone)) {
    if (taken.length < max) { taken.unshift(w); continue; }
    newestOlder ??= w;
    oldest = w;
    if (++olderCount >= COUNT_LIMIT) break;
  }
  const older = oldest && newestOlder ? { from: oldest.label, to: newestOlder.label, count: olderCount } : null;
  return { windows: taken, older };
}

/**
 * The `previousFireAt` for fireWindows: windows due after the previous fire that counts; with
 * only abandoned fires before (the first one handled only its newest window), from just
 * before that window became due, so it is handled again.
 */
export function windowsSince(ds: DatasetConfig, fires: { previous: Date | null; firstAbandoned: Date | null }): Date | null {
  if (fires.previous || !fires.firstAbandoned) return fires.previous;
  const first = lastDueWindow(ds, fires.firstAbandoned);
  return first ? new Date(dueAt(ds, first).getTime() - 1) : null;
}

function before(w: Window, grain: Grain, timeZone: string): Window {
  return windowOf(new Date(w.start.getTime() - 1), grain, timeZone);
}
