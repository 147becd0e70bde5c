/**
 * Which rows of batch.output a run owns: the window's half-open interval of the
 * window column, or the whole table for a dataset without a window. Boundaries are
 * bound as parameters written as wall-clock time in the dataset's time zone with
 * its UTC offset, so Postgres reads them right for every column type: a `date`
 * column takes the local date (the window label), `timestamptz` the exact instant,
 * and `timestamp` the local wall-clock time.
 */
import { quoteIdent } from '../src/identifiers.ts';
import type { DatasetConfig } from '../src/config/types.ts';
import { zonedTimestamp, type Window } from '../src/windows.ts';

export interface WindowScope {
  readonly dataset: string;
  /** null: the whole table. */
  readonly window: Window | null;
  /** `$1`/`$2` values for :window_start/:window_end (empty for a whole table). */
  readonly params: readonly string[];
  /** `WHERE …` selecting the window's rows in batch.output, using $1/$2 (empty for a whole table). */
  readonly where: string;
}

export function windowScope(ds: DatasetConfig, window: Window | null): WindowScope {
  if (!window || !ds.window) return { dataset: ds.name, window: null, params: [], where: '' };
  const col = quoteIdent(ds.window.column);
  const tz = ds.window.timezone;
  return {
    dataset: ds.name,
    window,
    params: [zonedTimestamp(window.start, tz), zonedTimestamp(window.end, tz)],
    where: `WHERE ${col} >= $1 AND ${col} < $2`,
  };
}

export function scopeLabel(scope: Pick<WindowScope, 'window'>): string {
  return scope.window ? scope.window.label : 'whole table';
}
