/**
 * Which columns a dataset compares: the key (always), then `reconcile.columns`
 * or, by default, the non-key columns both tables share, minus `reconcile.ignore`
 * and minus the streaming path's own `_dr_*` bookkeeping columns. Each column
 * gets the codec its pair of types calls for (value-codec.ts).
 *
 * Schema drift: a column on one side only (not ignored, not bookkeeping), or a
 * pair of types no equality rule covers. Readers would lose or see a different
 * column at cutover, so it is reported and the verdict is never `match`.
 *
 * `reconcile.map` gives a batch column another name on the stream side, and
 * `reconcile.expressions` lets a validated per-side expression stand in for a
 * column (always compared); results keep the config's (batch) name. A column
 * only an expression reads (amount_cents behind `amount_cents / 100.0`) is
 * still on one side only: list it in `reconcile.ignore` to accept that.
 */
import { DualrunError } from '../src/core/errors.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import { descOf, logicalName, typeLabel, type ColumnInfo, type TableShape } from './table-columns.ts';
import type { SchemaDrift } from './types.ts';
import { planCodec } from './value-codec.ts';
import { planFieldHash } from './row-hash-sql.ts';
import { assertConfigColumns } from './config-columns.ts';

/** The same logical columns, in the same order, typed per side. */
export interface ComparedColumns {
  key: string[];
  compared: string[];
  batch: { key: ColumnInfo[]; compared: ColumnInfo[] };
  stream: { key: ColumnInfo[]; compared: ColumnInfo[] };
  /** Columns on one side only, and type pairs that cannot be equated (those are not in `compared`). */
  drift: SchemaDrift[];
  /** `window`: this side's window column (reconcile.map applied); absent or null for a whole-table dataset. */
  windows?: { batch: ColumnInfo | null; stream: ColumnInfo | null };
  /** Compared columns (key included) whose two sides are read differently: what each side reads. */
  names?: Record<string, { batch: string; stream: string }>;
}

/** Per side: logical column -> the expression column standing in for it (typed by Postgres). */
export interface SideExpressions { batch: ReadonlyMap<string, ColumnInfo>; stream: ReadonlyMap<string, ColumnInfo> }

const NO_EXPRESSIONS: SideExpressions = { batch: new Map(), stream: new Map() };

export function isBookkeeping(column: string): boolean {
  return column.startsWith('_dr_');
}

export function comparedColumns(ds: DatasetConfig, batch: TableShape, stream: TableShape, exprs: SideExpressions = NO_EXPRESSIONS, file: string | null = null): ComparedColumns {
  // Every name the config gives was checked against both shapes first (config-columns.ts): a config mistake, exit 2.
  assertConfigColumns(file, ds, batch, stream, exprs);
  const streamName = (c: string) => ds.reconcile.map[c] ?? c;
  const need = (shape: TableShape, col: string): ColumnInfo => {
    const which = shape === batch ? 'batch' : 'stream';
    const expr = exprs[which].get(col);
    if (expr) return expr;
    const name = which === 'stream' ? streamName(col) : col;
    const c = shape.columns.get(name);
    if (!c) throw new DualrunError('DUALRUN_INTERNAL', `dataset ${ds.name}: ${which} output ${shape.table.text} has no column ${name}, though the config check passed`);
    return name === col ? c : { ...c, logical: col };
  };
  const key = [...ds.key];
  const ignore = new Set(ds.reconcile.ignore);
  const exprCols = Object.keys(ds.reconcile.expressions);
  const listed = ds.reconcile.columns
    ? ds.reconcile.columns.filter((c) => !ignore.has(c) && !isBookkeeping(c))
    : [...batch.columns.keys()].filter((c) => stream.columns.has(streamName(c)) && !key.includes(c) && !ignore.has(c) && !isBookkeeping(c));
  const compared = [...listed, ...exprCols.filter((c) => !listed.includes(c))];
  const windows = ds.window ? { batch: need(batch, ds.window.column), stream: need(stream, ds.window.column) } : { batch: null, stream: null };
  const bKey = key.map((c) => need(batch, c));
  const sKey = key.map((c) => need(stream, c));
  const bCmp = compared.map((c) => need(batch, c));
  const sCmp = compared.map((c) => need(stream, c));
  const drift = oneSideOnly(ds, batch, stream, key, ignore);
  const pair = (b: ColumnInfo, s: ColumnInfo, isKey: boolean): [ColumnInfo, ColumnInfo] | null => {
    const codec = planCodec(descOf(b), descOf(s));
    const hash = planFieldHash(descOf(b), descOf(s));
    if (!('reason' in codec)) return [{ ...b, codec, hash }, { ...s, codec, hash }];
    drift.push({ column: logicalName(b), side: 'both', batchType: typeLabel(descOf(b)), streamType: typeLabel(descOf(s)), reason: `types cannot be equated: ${codec.reason}` });
    // A key still needs one encoding on both sides: its text (rows then simply do not pair up).
    return isKey ? [{ ...b, codec: { k: 'text' } }, { ...s, codec: { k: 'text' } }] : null;
  };
  const keys = bKey.map((b, i) => pair(b, sKey[i], true)!);
  const cols = bCmp.map((b, i) => pair(b, sCmp[i], false));
  drift.push(...unlistedTypeDrift(ds, batch, stream, [...key, ...compared], ignore));
  const kept = compared.filter((_, i) => cols[i] !== null);
  const ok = cols.filter((c): c is [ColumnInfo, ColumnInfo] => c !== null);
  return {
    key,
    compared: kept,
    batch: { key: keys.map((k) => k[0]), compared: ok.map((c) => c[0]) },
    stream: { key: keys.map((k) => k[1]), compared: ok.map((c) => c[1]) },
    drift,
    windows,
    names: readDifferently([...keys, ...ok]),
  };
}

/**
 * Columns on both sides that `reconcile.columns` leaves out (neither ignored nor bookkeeping) are
 * still served to readers: when their two types cannot be equated (bool against int4), that is
 * drift as for a compared column, though their values are not compared.
 */
function unlistedTypeDrift(ds: DatasetConfig, batch: TableShape, stream: TableShape, used: readonly string[], ignore: ReadonlySet<string>): SchemaDrift[] {
  const out: SchemaDrift[] = [];
  for (const [name, b] of batch.columns) {
    const s = stream.columns.get(ds.reconcile.map[name] ?? name);
    if (!s || used.includes(name) || ignore.has(name) || isBookkeeping(name) || name in ds.reconcile.expressions) continue;
    const codec = planCodec(descOf(b), descOf(s));
    if ('reason' in codec) out.push({ column: name, side: 'both', batchType: typeLabel(descOf(b)), streamType: typeLabel(descOf(s)), reason: `types cannot be equated: ${codec.reason}` });
  }
  return out;
}

/** What each side reads for the columns whose two sides differ (a mapped name or an expression). */
function readDifferently(pairs: [ColumnInfo, ColumnInfo][]): Record<string, { batch: string; stream: string }> {
  const read = (c: ColumnInfo) => (c.expression !== undefined ? `(${c.expression})` : c.name);
  const out: Record<string, { batch: string; stream: string }> = {};
  for (const [b, s] of pairs) if (read(b) !== read(s)) out[logicalName(b)] = { batch: read(b), stream: read(s) };
  return out;
}

/**
 * Non-key columns present on one side only, neither ignored nor `_dr_*` bookkeeping.
 * A column renamed by reconcile.map has its counterpart under the other name; a
 * column an expression stands in for (on either side) is compared, so not drift.
 */
function oneSideOnly(ds: DatasetConfig, batch: TableShape, stream: TableShape, key: readonly string[], ignore: ReadonlySet<string>): SchemaDrift[] {
  const out: SchemaDrift[] = [];
  const map = ds.reconcile.map;
  const toBatch = new Map(Object.entries(map).map(([b, s]) => [s, b]));
  const skip = (c: string) => key.includes(c) || ignore.has(c) || isBookkeeping(c) || c in ds.reconcile.expressions;
  for (const [name, col] of batch.columns) {
    if (!stream.columns.has(map[name] ?? name) && !skip(name)) out.push({ column: name, side: 'batch', batchType: typeLabel(descOf(col)), streamType: null, reason: 'only in the batch output' });
  }
  for (const [name, col] of stream.columns) {
    const asBatch = toBatch.get(name) ?? name;
    if (!batch.columns.has(asBatch) && !skip(asBatch) && !skip(name)) out.push({ column: name, side: 'stream', batchType: null, streamType: typeLabel(descOf(col)), reason: 'only in the stream output' });
  }
  return out;
}
