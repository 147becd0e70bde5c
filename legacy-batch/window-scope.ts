/**
 * Which rows of batch.output a run owns: the window's half-open interval of the
 * window column, or the whole table for a dataset without a window. Boundaries are
 * bound as parameters written as the label's wall-clock time with the offset that
 * makes it the bound's instant (src/core/windows.ts boundParam), so Postgres reads them
 * right for every column type, DST days included: a `date` column takes the local
 * date (the window label), `timestamptz` the exact instant, and `timestamp` the
 * local wall-clock time, the same bounds the reconciler uses.
 */
import { quoteIdent } from '../src/core/identifiers.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import { boundParam, type Window } from '../src/core/windows.ts';

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
  return {
    dataset: ds.name,
    window,
    params: [boundParam(window, 'start'), boundParam(window, 'end')],
    where: `WHERE ${col} >= $1 AND ${col} < $2`,
  };
}

export function scopeLabel(scope: Pick<WindowScope, 'window'>): string {
  return scope.window ? scope.window.label : 'whole table';
}
