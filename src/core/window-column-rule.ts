/**
 * Which columns can carry a dataset's windows, for every path that selects rows by them (the
 * batch load's DELETE, the reconciler, `dualrun add`): one rule, so a column one path accepts
 * the others never refuse. The window's bounds are compared with the column, so it must hold
 * days or instants; and a `date` cannot be cut into hours (every hour's bounds but the day's
 * last are one date: an empty window; the last hour's span the whole day).
 */
import type { Grain } from './config/types.ts';

/** Base types (domains resolved, as pg_type.typname) a window's bounds compare with. */
export const WINDOW_COLUMN_TYPES: ReadonlySet<string> = new Set(['date', 'timestamp', 'timestamptz']);

export type WindowColumnProblem = 'not-a-time' | 'date-in-hours';

/** What keeps a column of base type `base` from carrying `grain` windows, or null. */
export function windowColumnProblem(base: string, grain: Grain): WindowColumnProblem | null {
  if (!WINDOW_COLUMN_TYPES.has(base)) return 'not-a-time';
  return base === 'date' && grain === 'hour' ? 'date-in-hours' : null;
}
