/**
 * Which columns a dataset compares: the key (always), then `reconcile.columns`
 * or, by default, the non-key columns both tables share, minus `reconcile.ignore`
 * and minus the streaming path's own `_dr_*` bookkeeping columns. Each column
 * gets the codec its pair of types calls for (value-codec.ts).
 *
 * Schema drift: a column on one side only (not ignored, not bookkeeping), or a
 * pair of types no equality rule covers. Readers would lose or see a different
 * column at cutover, so it is reported and the verdict is never `match`.
 */
import { DualrunError } from '../src/errors.ts';
import type { DatasetConfig } from '../src/config/types.ts';
import { descOf, typeLabel, type ColumnInfo, type TableShape } from './table-columns.ts';
import type { SchemaDrift } from './types.ts';
import { planCodec } from './value-codec.ts';

/** The same logical columns, in the same order, typed per side. */
export interface ComparedColumns {
  key: string[];
  compared: string[];
  batch: { key: ColumnInfo[]; compared: ColumnInfo[] };
  stream: { key: ColumnInfo[]; compared: ColumnInfo[] };
  /** Columns on one side only, and type pairs that cannot be equated (those are not in `compared`). */
  drift: SchemaDrift[];
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
  const bKey = key.map((c) => need(batch, c, 'batch output'));
  const sKey = key.map((c) => need(stream, c, 'stream output'));
  const bCmp = compared.map((c) => need(batch, c, 'batch output'));
  const sCmp = compared.map((c) => need(stream, c, 'stream output'));
  if (missing.length > 0) {
    throw new DualrunError('DUALRUN_RECONCILE_FAILED', `dataset ${ds.name}: ${[...new Set(missing)].join('; ')}`, { details: { dataset: ds.name } });
  }
  const drift = oneSideOnly(batch, stream, key, ignore);
  const pair = (b: ColumnInfo, s: ColumnInfo, isKey: boolean): [ColumnInfo, ColumnInfo] | null => {
    const codec = planCodec(descOf(b), descOf(s));
    if (!('reason' in codec)) return [{ ...b, codec }, { ...s, codec }];
    drift.push({ column: b.name, side: 'both', batchType: typeLabel(descOf(b)), streamType: typeLabel(descOf(s)), reason: `types cannot be equated: ${codec.reason}` });
    // A key still needs one encoding on both sides: its text (rows then simply do not pair up).
    return isKey ? [{ ...b, codec: { k: 'text' } }, { ...s, codec: { k: 'text' } }] : null;
  };
  const keys = bKey.map((b, i) => pair(b, sKey[i], true)!);
  const cols = bCmp.map((b, i) => pair(b, sCmp[i], false));
  const kept = compared.filter((_, i) => cols[i] !== null);
  const ok = cols.filter((c): c is [ColumnInfo, ColumnInfo] => c !== null);
  return {
    key,
    compared: kept,
    batch: { key: keys.map((k) => k[0]), compared: ok.map((c) => c[0]) },
    stream: { key: keys.map((k) => k[1]), compared: ok.map((c) => c[1]) },
    drift,
  };
}

/** Non-key columns present on one side only, neither ignored nor `_dr_*` bookkeeping. */
function oneSideOnly(batch: TableShape, stream: TableShape, key: readonly string[], ignore: ReadonlySet<string>): SchemaDrift[] {
  const out: SchemaDrift[] = [];
  const skip = (c: string) => key.includes(c) || ignore.has(c) || isBookkeeping(c);
  for (const [name, col] of batch.columns) {
    if (!stream.columns.has(name) && !skip(name)) out.push({ column: name, side: 'batch', batchType: typeLabel(descOf(col)), streamType: null, reason: 'only in the batch output' });
  }
  for (const [name, col] of stream.columns) {
    if (!batch.columns.has(name) && !skip(name)) out.push({ column: name, side: 'stream', batchType: null, streamType: typeLabel(descOf(col)), reason: 'only in the stream output' });
  }
  return out;
}
