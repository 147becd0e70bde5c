/**
 * Which open windows (legacy-batch/open-windows.ts) a batch fire handles besides its own: those
 * fires still retry, starting within the lookback — the fire's newest due window and the
 * MAX_WINDOWS - 1 before it, the bound of the catch-up of fires that never came. Merged with the
 * fire's windows, oldest first, each once. A row whose bounds are no longer a window of the
 * dataset (window.grain or timezone changed since) is left out: its label means another span now.
 */
import type { DatasetConfig, Grain } from '../../core/config/types.ts';
import { windowOf, type Window } from '../../core/windows.ts';
import { lastDueWindow } from '../../../legacy-batch/due-window.ts';
import { retriedByFires, type OpenWindow } from '../../../legacy-batch/open-windows.ts';
import { MAX_WINDOWS } from './fire-windows.ts';

/** The earliest window start a fire at `fireAt` still handles open windows from; null without windows. */
export function lookbackStart(ds: DatasetConfig, fireAt: Date, max = MAX_WINDOWS): Date | null {
  let w = lastDueWindow(ds, fireAt);
  if (!w || !ds.window) return null;
  for (let i = 1; i < max; i++) w = before(w, ds.window.grain, ds.window.timezone);
  return w.start;
}

export function withOpenWindows(ds: DatasetConfig, fireAt: Date, own: readonly (Window | null)[], open: readonly OpenWindow[], max = MAX_WINDOWS): (Window | null)[] {
  const from = lookbackStart(ds, fireAt, max);
  const newest = lastDueWindow(ds, fireAt);
  if (!from || !newest || !ds.window) return [...own];
  const { grain, timezone } = ds.window;
  const byLabel = new Map<string, Window>();
  for (const w of own) if (w) byLabel.set(w.label, w);
  for (const o of open) {
    if (!retriedByFires(o) || o.start < from || o.start > newest.start) continue;
    const w = windowOf(o.start, grain, timezone);
    if (w.label !== o.label || w.end.getTime() !== o.end.getTime()) continue;
    if (!byLabel.has(w.label)) byLabel.set(w.label, w);
  }
  return [...byLabel.values()].sort((a, b) => a.start.getTime() - b.start.getTime());
}

function before(w: Window, grain: Grain, timeZone: string): Window {
  return windowOf(new Date(w.start.getTime() - 1), grain, timeZone);
}
