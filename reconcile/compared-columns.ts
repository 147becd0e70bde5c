/**
 * Which columns a dataset compares: the key (always), then `reconcile.columns`
 * or, by default, the non-key columns both tables share, minus `reconcile.ignore`
 * and minus the streaming path's own `_dr_*` bookkeeping columns.
 */
import { DualrunError } from '../src/errors.ts';
import type { DatasetConfig } from '../src/config/types.ts';
import type { ColumnInfo, TableShape } from './table-columns.ts';

/** The same logical columns, in the same order, typed per side. */
export interface ComparedColumns {
  key: string[];
  compared: string[];
  batch: { key: ColumnInfo[]; compared: ColumnInfo[] };
  stream: { key: ColumnInfo[]; compared: ColumnInfo[] };
}

export function isBookkeeping(column: string): boolean {
  return column.startsWith('_dr_');
}

export function comparedColumns(ds: DatasetConfig, batch: TableShape, stream: TableShape): ComparedColumns {
  const missing: string[] = [];
  const need = (shape: TableShape, col: string, side: string): ColumnInfo => {
    const c = shape.columns.get(col);
    if (!c) missing.push(`${side} ${shape.table.text} has no column ${col}`);
    return c ?? { name: col, type: 'text' };
  };
  const key = [...ds.key];
  const ignore = new Set(ds.reconcile.ignore);
  const compared = ds.reconcile.columns
    ? ds.reconcile.columns.filter((c) => !ignore.has(c) && !isBookkeeping(c))
    : [...batch.columns.keys()].filter((c) => stream.columns.has(c) && !key.includes(c) && !ignore.has(c) && !isBookkeeping(c));
  if (ds.window) { need(batch, ds.window.column, 'batch output'); need(stream, ds.window.column, 'stream output'); }
  const out: ComparedColumns = {
    key,
    compared,
    batch: { key: key.map((c) => need(batch, c, 'batch output')), compared: compared.map((c) => need(batch, c, 'batch output')) },
    stream: { key: key.map((c) => need(stream, c, 'stream output')), compared: compared.map((c) => need(stream, c, 'stream output')) },
  };
  if (missing.length > 0) {
    throw new DualrunError('DUALRUN_RECONCILE_FAILED', `dataset ${ds.name}: ${[...new Set(missing)].join('; ')}`, { details: { dataset: ds.name } });
  }
  return out;
}
