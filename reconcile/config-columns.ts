/**
 * Every column name the config gives a dataset, checked against the two outputs before any
 * window: `key`, `window.column`, `reconcile.columns`, `reconcile.ignore`, the keys of
 * `reconcile.tolerance`, both sides of `reconcile.map` and `stream.watermark.column`. Config
 * compilation cannot see the tables; the reconciler can. A name no output has was a silent no-op
 * for `ignore` and `tolerance` (`ignore: [loadedat]` ignored nothing, and the user believed
 * loaded_at excluded), and for the others a runtime failure (exit 3). Each is a config mistake
 * (exit 2) naming the field, the dataset, the name and the nearest existing column.
 *
 * Names are used exactly as written (they are quoted identifiers): `Loaded_At` is not
 * `loaded_at`, and the hint says so.
 */
import { configMistake, type ConfigProblem } from '../src/core/config/config-mistake.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import { didYouMean } from '../src/core/nearest-name.ts';
import { descOf, typeLabel, type TableShape } from './table-columns.ts';
import type { SideExpressions } from './compared-columns.ts';

/** Base types an adopted output's watermark column may have (as adopted-watermark.ts reads them). */
const WATERMARK_TYPES = new Set(['date', 'timestamp', 'timestamptz']);

export function assertConfigColumns(file: string | null, ds: DatasetConfig, batch: TableShape, stream: TableShape, exprs: SideExpressions): void {
  const problems = configColumnProblems(ds, batch, stream, exprs);
  if (problems.length > 0) throw configMistake(file, problems, { dataset: ds.name });
}

export function configColumnProblems(ds: DatasetConfig, batch: TableShape, stream: TableShape, exprs: SideExpressions): ConfigProblem[] {
  const at = `datasets.${ds.name}`;
  const problems: ConfigProblem[] = [];
  const map = ds.reconcile.map;
  const side = (s: TableShape) => `${s === batch ? 'batch.output' : 'stream.output'} ${s.table.text}`;
  const missing = (field: string, name: string, s: TableShape, extra = '') =>
    problems.push({ at: `${at}.${field}`, message: `${name} is not a column of ${side(s)}${extra}${didYouMean(name, s.columns.keys())}` });
  // A logical (batch-named) column both sides must have: the stream side under its reconcile.map name.
  const onBoth = (field: string, col: string, opts: { expressions?: boolean } = {}) => {
    const inBatch = (opts.expressions && exprs.batch.has(col)) || batch.columns.has(col);
    const streamName = map[col] ?? col;
    const inStream = (opts.expressions && exprs.stream.has(col)) || stream.columns.has(streamName);
    if (!inBatch && !inStream && streamName === col) {
      const near = didYouMean(col, [...batch.columns.keys(), ...stream.columns.keys()]);
      problems.push({ at: `${at}.${field}`, message: `${col} is a column of neither ${side(batch)} nor ${side(stream)}${near}` });
      return;
    }
    if (!inBatch) missing(field, col, batch);
    if (!inStream) missing(streamName !== col ? `reconcile.map.${col}` : field, streamName, stream);
  };
  for (const k of ds.key) onBoth('key', k);
  if (ds.window) onBoth('window.column', ds.window.column);
  for (const c of ds.reconcile.columns ?? []) onBoth('reconcile.columns', c, { expressions: true });
  for (const [b, s] of Object.entries(map)) {
    if (!batch.columns.has(b) && !exprs.batch.has(b)) missing('reconcile.map', b, batch, ' (map keys are batch column names)');
    if (!stream.columns.has(s) && !exprs.stream.has(b)) missing(`reconcile.map.${b}`, s, stream);
  }
  for (const c of ds.reconcile.ignore) {
    if (batch.columns.has(c) || stream.columns.has(c) || stream.columns.has(map[c] ?? c)) continue;
    problems.push({ at: `${at}.reconcile.ignore`, message: `${c} is a column of neither ${side(batch)} nor ${side(stream)}, so nothing is ignored${didYouMean(c, [...batch.columns.keys(), ...stream.columns.keys()])}` });
  }
  const exprNames = Object.keys(ds.reconcile.expressions);
  for (const c of Object.keys(ds.reconcile.tolerance)) {
    if (batch.columns.has(c) || exprNames.includes(c)) continue;
    problems.push({ at: `${at}.reconcile.tolerance`, message: `${c} is not a column of ${side(batch)} (tolerances name columns by their batch name), so no tolerance applies${didYouMean(c, [...batch.columns.keys(), ...exprNames])}` });
  }
  const wm = ds.stream.watermark;
  if (wm?.kind === 'column') {
    const col = stream.columns.get(wm.column);
    if (!col) missing('stream.watermark.column', wm.column, stream);
    else if (descOf(col).kind !== 'base' || !WATERMARK_TYPES.has(col.type)) {
      problems.push({ at: `${at}.stream.watermark.column`, message: `${wm.column} of ${side(stream)} is of type ${typeLabel(descOf(col))}; a watermark column must be a timestamp, timestamptz or date` });
    }
  }
  // One name can be reached twice (a mapped key column is also a reconcile.map entry): said once.
  return problems.filter((p, i) => problems.findIndex((q) => q.at === p.at && q.message === p.message) === i);
}
