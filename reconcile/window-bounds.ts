/**
 * The window's bounds as query parameters, in the window column's own terms:
 * instants for timestamptz; the wall clock in the dataset's time zone for a
 * date or a timestamp without time zone (the legacy side's usual habit).
 */
import { wallClock, type Window } from '../src/windows.ts';
import type { ColumnInfo } from './table-columns.ts';

export function windowBounds(window: Window, column: ColumnInfo, timeZone: string): [string, string] {
  if (column.type === 'date') return [wallClock(window.start, timeZone).slice(0, 10), wallClock(window.end, timeZone).slice(0, 10)];
  if (column.type === 'timestamp') return [wallClock(window.start, timeZone), wallClock(window.end, timeZone)];
  return [window.start.toISOString(), window.end.toISOString()];
}
