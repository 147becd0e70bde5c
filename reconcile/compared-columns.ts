/**
 * Which columns a dataset compares: the key (always), then `reconcile.columns`
 * or, by default, the non-key columns both tables share, minus `reconcile.ignore`
 * and minus the streaming path's own `_dr_*` bookkeeping columns.
 * `reconcile.map` gives a batch column another name on the stream side, and
 * `reconcile.expressions` lets a validated per-side expression stand in for a
 * column (always compared); results keep the config's (batch) name.
 */
import { DualrunError } from '../src/errors.ts';
import type { DatasetConfig } from '../src/config/types.ts';
import { logicalName, type ColumnInfo, type TableShape } from './table-columns.ts';

/** The same logical columns, in the same order, typed per side. */
export interface ComparedColumns {
  key: string[];
  compared: string[];
  /** `window`: this side's window column (reconcile.map applied); absent or null for a whole-table dataset. */
  batch: { key: ColumnInfo[]; compared: ColumnInfo[]; window?: ColumnInfo | null };
  stream: { key: ColumnInfo[]; compared: ColumnInfo[]; window?: ColumnInfo | null };
  /** Compared columns (key included) whose two sides are read differently: what each side reads. */
  names?: Record<string, { batch: string; stream: string }>;
}

/** Per side: logical column -> the expression column standing in for it (typed by Postgres). */
export interface SideExpressions { batch: ReadonlyMap<string, ColumnInfo>; stream: ReadonlyMap<string, ColumnInfo> }

const NO_EXPRESSIONS: SideExpressions = { batch: new Map(), stream: new Map() };

export function isBookkeeping(column: string): boolean {
  return column.startsWith('_dr_');
}

export function comparedColumns(ds: DatasetConfig, batch: TableShape, stream: TableShape, exprs: SideExpressions = NO_EXPRESSIONS): ComparedColumns {
  const missing: string[] = [];
  const map = ds.reconcile.map;
  const streamName = (c: string) => map[c] ?? c;
  const need = (side: 'batch' | 'stream', col: string): ColumnInfo => {
    const shape = side === 'batch' ? batch : stream;
    const expr = exprs[side].get(col);
    if (expr) return expr;
    const name = side === 'stream' ? streamName(col) : col;
    const c = shape.columns.get(name);
    if (!c) missing.push(`${side} output ${shape.table.text} has no column ${name}${name !== col ? ` (reconcile.map.${col})` : ''}`);
    const info = c ?? { name, type: 'text' };
    return name === col ? info : { ...info, logical: col };
  };
  const key = [...ds.key];
  const ignore = new Set(ds.reconcile.ignore);
  const exprCols = Object.keys(ds.reconcile.expressions);
  const listed = ds.reconcile.columns
    ? ds.reconcile.columns.filter((c) => !ignore.has(c) && !isBookkeeping(c))
    : [...batch.columns.keys()].filter((c) => stream.columns.has(streamName(c)) && !key.includes(c) && !ignore.has(c) && !isBookkeeping(c));
  const compared = [...listed, ...exprCols.filter((c) => !listed.includes(c))];
  const window = (side: 'batch' | 'stream') => (ds.window ? need(side, ds.window.column) : null);
  const out: Required<Pick<ComparedColumns, 'names'>> & ComparedColumns = {
    key,
    compared,
    batch: { key: key.map((c) => need('batch', c)), compared: compared.map((c) => need('batch', c)), window: window('batch') },
    stream: { key: key.map((c) => need('stream', c)), compared: compared.map((c) => need('stream', c)), window: window('stream') },
    names: {},
  };
  if (missing.length > 0) {
    throw new DualrunError('DUALRUN_RECONCILE_FAILED', `dataset ${ds.name}: ${[...new Set(missing)].join('; ')}`, { details: { dataset: ds.name } });
  }
  const read = (c: ColumnInfo) => (c.expression !== undefined ? `(${c.expression})` : c.name);
  [...out.batch.key, ...out.batch.compared].forEach((b, i) => {
    const s = [...out.stream.key, ...out.stream.compared][i];
    if (read(b) !== read(s)) out.names[logicalName(b)] = { batch: read(b), stream: read(s) };
  });
  return out;
}
