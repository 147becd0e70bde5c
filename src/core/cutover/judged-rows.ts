/**
 * Rule 4.6 of the gate (`rows-changed`, docs/cutover.md): a clean verdict counts
 * only while the outputs still hold what was judged. Each counted window's rows
 * are counted again, now, in both outputs (one scan per side for all the windows
 * asked about); a window whose count differs from the one its reconciliation
 * recorded was truncated, reloaded, rebuilt or written to since it was judged,
 * so its verdict no longer describes the table the serving view would read.
 * A whole-table run counts while neither side fell below what it held, up to
 * `minRowsPerWindow` (a live stream's total moves; an emptied one is caught).
 *
 * Bounds are passed as untyped parameters, so Postgres reads them as the window
 * column's own type (`boundParam`: a date, a wall clock or an instant).
 */
import type { Runtime } from '../runtime.ts';
import type { DatasetConfig } from '../config/types.ts';
import { quoteIdent, type TableRef } from '../identifiers.ts';
import { boundParam, parseWindow, type Window } from '../windows.ts';
import type { Verdict } from './stage-gate.ts';
import { readOutputShape, type OutputShape } from './output-shape.ts';

/** Rows each output holds now in the window of a verdict (null: the table does not exist), and each output's shape now. */
export interface RowsNow {
  readonly batch: number | null;
  readonly stream: number | null;
  /** Absent: not read (unit tests of the count rule). */
  readonly shapes?: { readonly batch: OutputShape | null; readonly stream: OutputShape | null };
}

export type RowCounter = (verdicts: readonly Verdict[]) => Promise<Map<string, RowsNow>>;

/** A counter over the dataset's outputs, each in its own database (never the caller's transaction). */
export function judgedRowCounter(rt: Pick<Runtime, 'pool'>, ds: DatasetConfig): RowCounter {
  return async (verdicts) => {
    const windows = verdicts.map((v) => ({ id: v.id, window: windowOfVerdict(ds, v) }));
    const [batch, stream, batchShape, streamShape] = await Promise.all([
      countSide(rt, ds.batch.database, ds.batch.output, ds, windows),
      countSide(rt, ds.stream.database, ds.stream.output, ds, windows),
      rt.pool(ds.batch.database).then((p) => readOutputShape(p, ds.batch.output)),
      rt.pool(ds.stream.database).then((p) => readOutputShape(p, ds.stream.output)),
    ]);
    const shapes = { batch: batchShape, stream: streamShape };
    return new Map(windows.map((w, i) => [w.id, { batch: batch?.[i] ?? null, stream: stream?.[i] ?? null, shapes }]));
  };
}

function windowOfVerdict(ds: DatasetConfig, v: Verdict): Window | null {
  if (!ds.window || !v.windowLabel) return null;
  return parseWindow(v.windowLabel, ds.window.grain, ds.window.timezone, 'reconciliation window');
}

async function countSide(rt: Pick<Runtime, 'pool'>, url: string | null, table: TableRef, ds: DatasetConfig,
  windows: readonly { window: Window | null }[]): Promise<number[] | null> {
  if (windows.length === 0) return [];
  const params: string[] = [];
  const col = ds.window ? quoteIdent(ds.window.column) : null;
  const filters = windows.map(({ window }) => {
    if (!window || !col) return 'true';
    params.push(boundParam(window, 'start'), boundParam(window, 'end'));
    return `${col} >= $${params.length - 1} AND ${col} < $${params.length}`;
  });
  const counts = filters.map((f, i) => `count(*) FILTER (WHERE ${f})::text AS n${i}`).join(', ');
  const where = filters.includes('true') ? 'true' : filters.map((f) => `(${f})`).join(' OR ');
  const pool = await rt.pool(url);
  try {
    const r = await pool.query<Record<string, string>>(`SELECT ${counts} FROM ${table.sql} WHERE ${where}`, params);
    return windows.map((_, i) => Number(r.rows[0][`n${i}`]));
  } catch (e) {
    if ((e as { code?: string }).code === '42P01') return null; // dropped since: nothing of what was judged is there
    throw e;
  }
}
