/**
 * Windows: half-open intervals [start, end) of a dataset's window column, a day
 * or an hour long, starting at midnight (or the hour) in the dataset's time zone.
 * Labels: `2026-11-20` for days, `2026-11-20T13` for hours.
 */
import { DualrunError } from './errors.ts';
import type { DatasetConfig, Grain } from './config/types.ts';

export interface Window {
  readonly label: string;
  readonly start: Date;
  readonly end: Date;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const HOUR = /^(\d{4})-(\d{2})-(\d{2})T(\d{2})$/;

/** Calendar fields of an instant as the wall clock in a time zone shows them. */
function zonedParts(instant: number | Date, timeZone: string): Record<'year' | 'month' | 'day' | 'hour' | 'minute' | 'second' | 'offset', string> {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit',
    hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'longOffset',
  }).formatToParts(new Date(instant));
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  return {
    year: get('year'), month: get('month'), day: get('day'), hour: get('hour'), minute: get('minute'), second: get('second'),
    offset: get('timeZoneName').replace(/^GMT/, '') || '+00:00',
  };
}

/** Offset (ms) of a time zone from UTC at an instant. */
function tzOffset(instant: number, timeZone: string): number {
  if (timeZone === 'UTC') return 0;
  const p = zonedParts(instant, timeZone);
  return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - Math.floor(instant / 1000) * 1000;
}

/** `YYYY-MM-DD HH:MM:SS` of an instant on the wall clock of a time zone. */
export function wallClock(instant: Date, timeZone: string): string {
  const p = zonedParts(instant, timeZone);
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second}`;
}

/** `2026-11-20 00:00:00+01:00`: the instant as wall-clock time in a zone, with its offset. */
export function zonedTimestamp(instant: Date, timeZone: string): string {
  return `${wallClock(instant, timeZone)}${zonedParts(instant, timeZone).offset}`;
}

/** The UTC instant of a wall-clock time in a time zone. */
function zonedInstant(y: number, m: number, d: number, h: number, timeZone: string): number {
  const guess = Date.UTC(y, m - 1, d, h);
  const first = guess - tzOffset(guess, timeZone);
  return guess - tzOffset(first, timeZone);
}

export function parseWindow(label: string, grain: Grain, timeZone = 'UTC', at = '--window'): Window {
  const m = grain === 'day' ? DAY.exec(label) : HOUR.exec(label);
  if (!m) {
    throw new DualrunError('DUALRUN_USAGE', `${at}: ${JSON.stringify(label)} is not a ${grain} window (expected ${grain === 'day' ? 'YYYY-MM-DD' : 'YYYY-MM-DDTHH'})`);
  }
  const [y, mo, d, h] = [Number(m[1]), Number(m[2]), Number(m[3]), Number(m[4] ?? 0)];
  const check = new Date(Date.UTC(y, mo - 1, d, h));
  if (check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d || h > 23) {
    throw new DualrunError('DUALRUN_USAGE', `${at}: ${JSON.stringify(label)} is not a real date`);
  }
  const start = zonedInstant(y, mo, d, h, timeZone);
  const next = grain === 'day' ? new Date(Date.UTC(y, mo - 1, d + 1)) : new Date(Date.UTC(y, mo - 1, d, h + 1));
  const end = zonedInstant(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), next.getUTCHours(), timeZone);
  return Object.freeze({ label, start: new Date(start), end: new Date(end) });
}

/** The window containing an instant. */
export function windowOf(instant: Date, grain: Grain, timeZone = 'UTC'): Window {
  const local = new Date(instant.getTime() + tzOffset(instant.getTime(), timeZone));
  const p = (n: number) => String(n).padStart(2, '0');
  const day = `${local.getUTCFullYear()}-${p(local.getUTCMonth() + 1)}-${p(local.getUTCDate())}`;
  return parseWindow(grain === 'day' ? day : `${day}T${p(local.getUTCHours())}`, grain, timeZone);
}

/** Every window from `from` to `to`, both inclusive, in order. */
export function windowsBetween(from: string, to: string, grain: Grain, timeZone = 'UTC'): Window[] {
  const first = parseWindow(from, grain, timeZone, '--from');
  const last = parseWindow(to, grain, timeZone, '--to');
  if (last.start < first.start) throw new DualrunError('DUALRUN_USAGE', `--to ${to} is before --from ${from}`);
  const out: Window[] = [];
  for (let w = first; w.start <= last.start; w = windowOf(w.end, grain, timeZone)) out.push(w);
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
