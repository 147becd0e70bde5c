/**
 * Windows: half-open intervals [start, end) of a dataset's window column, a day
 * or an hour of the wall clock in the dataset's time zone. Labels: `2026-11-20`
 * for days, `2026-11-20T13` for hours.
 *
 * The rule, also on DST days: a window holds the instants whose wall clock (in
 * the zone) shows its day or hour. So it starts at the first instant whose wall
 * clock reaches the label (where local midnight does not exist, at the jump; an
 * hour the clocks set back is the first occurrence) and ends where the next
 * label starts. Windows never overlap and leave no gaps; a day or an hour the
 * clocks skip entirely holds no instant and is no window. Its wall clock still
 * holds values a `timestamp` or `date` column can carry (02:30 on a spring-forward
 * night, Pacific/Apia's 2011-12-30): they belong to the window after it, where
 * Postgres puts them too (it reads a skipped wall clock with the offset before the
 * jump: 02:30 is 03:30 summer time). So a window's wall clock starts where the
 * previous window's ends, and the windows tile the wall clock as they tile the
 * instants. Zone rules come from Node's tz data; the reconciler checks them
 * against each database's own (reconcile/window-bounds.ts).
 */
import { DualrunError } from './errors.ts';
import type { DatasetConfig, Grain } from './config/types.ts';
import { firstInstantAtOrAfter, localMs } from './zone-clock.ts';

export interface Window {
  readonly label: string;
  readonly start: Date;
  readonly end: Date;
  /** The label's wall-clock start (or of the skipped labels just before it) and the next label's, `YYYY-MM-DD HH:MM:SS` (no zone). */
  readonly localStart: string;
  readonly localEnd: string;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOUR = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/;
const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD HH:MM:SS` of local milliseconds. */
function wallText(local: number): string {
  const d = new Date(local);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
}

/** Local milliseconds of a `YYYY-MM-DD HH:MM:SS` wall-clock text. */
const wallMs = (text: string) => Date.parse(`${text.replace(' ', 'T')}Z`);

function offsetText(offsetMs: number): string {
  const sign = offsetMs < 0 ? '-' : '+';
  const s = Math.round(Math.abs(offsetMs) / 1000);
  const hms = `${pad(Math.floor(s / 3600))}:${pad(Math.floor(s / 60) % 60)}`;
  return `${sign}${hms}${s % 60 ? `:${pad(s % 60)}` : ''}`;
}

/** `YYYY-MM-DD HH:MM:SS` of an instant on the wall clock of a time zone. */
export function wallClock(instant: Date, timeZone: string): string {
  return wallText(localMs(instant.getTime(), timeZone));
}

/** `2026-11-20 00:00:00+01:00`: the instant as wall-clock time in a zone, with its offset. */
export function zonedTimestamp(instant: Date, timeZone: string): string {
  const local = localMs(instant.getTime(), timeZone);
  return `${wallText(local)}${offsetText(local - instant.getTime())}`;
}

/**
 * A window bound that Postgres reads right as any window column type: the
 * label's wall-clock time with the offset that makes it the bound's instant
 * (`2026-09-06 00:00:00-04:00` where Santiago's clocks jump from 00:00 to 01:00).
 * So `date` sees the label's day, `timestamp` the label's wall clock and
 * `timestamptz` the exact first instant of the window.
 */
export function boundParam(window: Window, which: 'start' | 'end'): string {
  const local = which === 'start' ? window.localStart : window.localEnd;
  const instant = which === 'start' ? window.start : window.end;
  return `${local}${offsetText(wallMs(local) - instant.getTime())}`;
}

function labelOf(local: number, grain: Grain): string {
  const t = wallText(local);
  return grain === 'day' ? t.slice(0, 10) : `${t.slice(0, 10)}T${t.slice(11, 13)}`;
}

/** The label's wall-clock start as local milliseconds; throws on a malformed label. */
function labelStart(label: string, grain: Grain, at: string): number {
  const m = grain === 'day' ? DAY.exec(label) : HOUR.exec(label);
  if (!m) {
    throw new DualrunError('DUALRUN_USAGE', `${at}: ${JSON.stringify(label)} is not a ${grain} window (expected ${grain === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM-DDTHH'})`);
  }
  const [y, mo, d, h] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  const local = Date.UTC(y, mo - 1, d, h);
  const check = new Date(local);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23) {
    throw new DualrunError('DUALRUN_USAGE', `${at}: ${JSON.stringify(label)} is not a real date`);
  }
  return local;
}

/**
 * Where the wall clock of the label at `local` (first instant `start`) starts: at the first of
 * the labels the clocks skip just before it (each starts and ends at `start`), else its own
 * start. At most a day of them precedes a window (Apia's skipped day: 24 hours).
 */
function wallStart(local: number, step: number, start: number, timeZone: string): number {
  let from = local;
  for (let i = 0; i < 25 && firstInstantAtOrAfter(from - step, timeZone) === start; i++) from -= step;
  return from;
}

function windowAt(local: number, grain: Grain, timeZone: string, label = labelOf(local, grain)): Window {
  const step = grain === 'day' ? DAY_MS : HOUR_MS;
  const start = firstInstantAtOrAfter(local, timeZone);
  return Object.freeze({
    label,
    start: new Date(start),
    end: new Date(firstInstantAtOrAfter(local + step, timeZone)),
    localStart: wallText(wallStart(local, step, start, timeZone)),
    localEnd: wallText(local + step),
  });
}

/**
 * The window of a label. A day or hour that the zone's clocks skip entirely
 * (an hour of a spring-forward night) holds no instant: asking for it is a
 * usage error rather than a verdict on nothing.
 */
export function parseWindow(label: string, grain: Grain, timeZone = 'UTC', at = '--window'): Window {
  const w = windowAt(labelStart(label, grain, at), grain, timeZone, label);
  if (w.start.getTime() === w.end.getTime()) {
    throw new DualrunError('DUALRUN_USAGE', `${at}: ${label} does not exist in ${timeZone} (the clocks skip it): it holds no instant, and a date or wall-clock time of it belongs to window ${windowOf(w.start, grain, timeZone).label}`);
  }
  return w;
}

/** The window containing an instant. */
export function windowOf(instant: Date, grain: Grain, timeZone = 'UTC'): Window {
  const t = instant.getTime();
  const step = grain === 'day' ? DAY_MS : HOUR_MS;
  const local = localMs(t, timeZone);
  let w = windowAt(Math.floor(local / step) * step, grain, timeZone);
  // Where the clocks go back over a boundary the wall clock shows the earlier label again: follow the bounds.
  for (let i = 0; i < 3 && t < w.start.getTime(); i++) w = windowAt(wallMs(w.localStart) - step, grain, timeZone);
  for (let i = 0; i < 3 && t >= w.end.getTime(); i++) w = windowAt(wallMs(w.localEnd), grain, timeZone);
  return w;
}

/** Every window from `from` to `to`, both inclusive, in order (skipped days/hours left out: their wall clock is the next window's). */
export function windowsBetween(from: string, to: string, grain: Grain, timeZone = 'UTC'): Window[] {
  const first = labelStart(from, grain, '--from');
  const last = labelStart(to, grain, '--to');
  if (last < first) throw new DualrunError('DUALRUN_USAGE', `--to ${to} is before --from ${from}`);
  const step = grain === 'day' ? DAY_MS : HOUR_MS;
  const out: Window[] = [];
  // Each boundary once: a window ends where the next one starts.
  let start = firstInstantAtOrAfter(first, timeZone);
  // The wall clock the next window starts at: a skipped label's stays pending for the window after it.
  let wallFrom = wallStart(first, step, start, timeZone);
  for (let local = first; local <= last; local += step) {
    const end = firstInstantAtOrAfter(local + step, timeZone);
    if (start < end) {
      out.push(Object.freeze({ label: labelOf(local, grain), start: new Date(start), end: new Date(end), localStart: wallText(wallFrom), localEnd: wallText(local + step) }));
      wallFrom = local + step;
    }
    start = end;
  }
  return out;
}

/** Windows a command asked for: `--window D` or `--from D --to D`. */
export function requestedWindows(ds: DatasetConfig, opts: { window?: string; from?: string; to?: string }): Window[] | null {
  if (!ds.window) {
    if (opts.window || opts.from || opts.to) throw new DualrunError('DUALRUN_USAGE', `dataset ${ds.name} has no window column: it is compared as a whole table (drop --window/--from/--to)`);
    return null;
  }
  const { grain, timezone } = ds.window;
  if (opts.window && (opts.from || opts.to)) throw new DualrunError('DUALRUN_USAGE', 'use either --window or --from/--to, not both');
  if (opts.window) return [parseWindow(opts.window, grain, timezone)];
  if (opts.from || opts.to) {
    if (!opts.from || !opts.to) throw new DualrunError('DUALRUN_USAGE', '--from and --to go together');
    return windowsBetween(opts.from, opts.to, grain, timezone);
  }
  return [];
}
