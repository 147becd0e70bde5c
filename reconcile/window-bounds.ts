/**
 * The window's bounds as query parameters, in the window column's own terms:
 * the label's local dates for `date`, the label's wall clock for `timestamp`
 * (neither depends on time-zone rules), and instants for `timestamptz`.
 *
 * Instants come from Node's tz data; each database has its own copy, and the
 * two can differ where a zone's rules changed recently. The database holding the
 * column is the truth for its rows, so `checkZoneAgreement` asks it whether the
 * instants really start the window's wall-clock day or hour there, and the
 * reconciliation fails loudly (never a verdict) when they do not.
 */
import { DualrunError } from '../src/core/errors.ts';
import type { Window } from '../src/core/windows.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import { windowColumnProblem } from '../src/core/window-column-rule.ts';
import { configMistake } from '../src/core/config/config-mistake.ts';
import { descOf, typeLabel, type ColumnInfo } from './table-columns.ts';

/**
 * Fails (a config mistake, DUALRUN_CONFIG_INVALID naming datasets.<ds>.window.column and the column) when a side's window column cannot hold the
 * window's bounds. A `date` cannot be cut into hours: the bounds of every hour but the day's last
 * are one date (an empty window, a `match` of nothing) and the last hour's span the whole day.
 * Another type (text, an epoch integer) has no instant to compare the bounds with.
 */
export function assertWindowColumns(ds: DatasetConfig, windows: { batch: ColumnInfo | null; stream: ColumnInfo | null } | undefined, file: string | null = null): void {
  if (!ds.window || !windows) return;
  const at = `datasets.${ds.name}.window.column`;
  for (const [side, col] of [['batch.output', windows.batch], ['stream.output', windows.stream]] as const) {
    if (!col) continue;
    const where = `window.column ${col.name} of ${side} ${side === 'batch.output' ? ds.batch.output.text : ds.stream.output.text}`;
    const type = typeLabel(descOf(col));
    const problem = descOf(col).kind !== 'base' ? 'not-a-time' : windowColumnProblem(col.type, ds.window.grain);
    const details = { dataset: ds.name, column: col.name, type };
    if (problem === 'not-a-time') {
      throw configMistake(file, [{ at, message: `${where} is of type ${type}: a window column must be a date, timestamp or timestamptz` }], details);
    }
    if (problem === 'date-in-hours') {
      throw configMistake(file, [{ at, message: `${where} is a date: it cannot be cut into hour windows (each hour but the last would read no row); use window.grain day, or a timestamp column` }], details);
    }
  }
}

export function windowBounds(window: Window, column: ColumnInfo, _timeZone?: string): [string, string] {
  if (column.type === 'date') return [window.localStart.slice(0, 10), window.localEnd.slice(0, 10)];
  if (column.type === 'timestamp') return [window.localStart, window.localEnd];
  return [window.start.toISOString(), window.end.toISOString()];
}

/**
 * True when, in this database's tz data, each instant ($1, $3) is the first at
 * which the zone's wall clock reaches its wall-clock time ($2, $4), or the jump
 * over it: the wall clock shows that time or later there, and earlier one second before.
 */
export const ZONE_AGREEMENT_SQL = `SELECT bool_and((s AT TIME ZONE $5) >= w AND ((s - interval '1 second') AT TIME ZONE $5) < w) AS ok
  FROM (VALUES ($1::timestamptz, $2::timestamp), ($3::timestamptz, $4::timestamp)) AS b(s, w)`;

export interface QueryRunner { query<R>(sql: string, params: unknown[]): Promise<{ rows: R[] }> }

/** Throws DUALRUN_TIMEZONE_DATA when the database holding a timestamptz window column places the window elsewhere. */
export async function checkZoneAgreement(db: QueryRunner, window: Window, column: ColumnInfo | null, timeZone: string, where: string): Promise<void> {
  if (column?.type !== 'timestamptz' || timeZone === 'UTC') return;
  const r = await db.query<{ ok: boolean | null }>(ZONE_AGREEMENT_SQL, [window.start.toISOString(), window.localStart, window.end.toISOString(), window.localEnd, timeZone]);
  if (r.rows[0]?.ok !== true) {
    throw new DualrunError('DUALRUN_TIMEZONE_DATA',
      `window ${window.label}: ${where} does not start and end ${window.localStart} – ${window.localEnd} ${timeZone} at ` +
      `${window.start.toISOString()} – ${window.end.toISOString()} as Node's tz data (${process.versions.tz ?? 'unknown version'}) does: ` +
      'the two copies of the tz database disagree for this zone, so no verdict is given; update the older one');
  }
}
