/**
 * A time zone's clock from the tz database (Node's ICU copy): the UTC offset at
 * an instant, and the first instant whose wall clock reaches a given wall-clock
 * time. Wall-clock times are handled as "local milliseconds": the wall clock's
 * fields read as if they were UTC (Date.UTC(y, m, d, h, ...)).
 *
 * One cached Intl.DateTimeFormat per zone: creating one costs far more than using it.
 */
const HOUR = 3_600_000;
// Offsets in the tz database lie within -12h..+14h (-15h..+15h leaves room for LMT).
const MAX_BEHIND = 15 * HOUR;
const MAX_AHEAD = 15 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const WALL = /^(\d+)\/(\d+)\/(\d+), (\d+):(\d+):(\d+)$/;

/** The wall clock at an instant, as local milliseconds (whole seconds; the instant's milliseconds are kept). */
export function localMs(instant: number, timeZone: string): number {
  if (timeZone === 'UTC') return instant;
  const m = WALL.exec(formatter(timeZone).format(instant));
  if (!m) throw new Error(`unexpected wall-clock text for ${timeZone}`);
  const ms = ((instant % 1000) + 1000) % 1000;
  return Date.UTC(+m[3], +m[1] - 1, +m[2], +m[4], +m[5], +m[6]) + ms;
}

/** UTC offset (ms) of a zone at an instant. */
export function offsetAt(instant: number, timeZone: string): number {
  return localMs(instant, timeZone) - instant;
}

/**
 * The instant of the offset change in (lo, hi] (exactly one assumed; lo and hi
 * whole seconds). The tz database changes offsets on whole seconds.
 */
function transitionBetween(lo: number, hi: number, offLo: number, timeZone: string): number {
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (offsetAt(mid, timeZone) === offLo) lo = mid; else hi = mid;
  }
  return hi;
}

/**
 * The first instant whose wall clock shows `wall` or later. An ambiguous wall
 * time (clocks set back) gives its first occurrence; a wall time that does not
 * exist (clocks jump forward over it) gives the instant of the jump, where the
 * wall clock first shows a later time.
 */
export function firstInstantAtOrAfter(wall: number, timeZone: string): number {
  if (timeZone === 'UTC') return wall;
  // Every instant showing `wall` lies in [wall - MAX_AHEAD, wall + MAX_BEHIND].
  const lo = wall - MAX_AHEAD - HOUR;
  const hi = wall + MAX_BEHIND + HOUR;
  const offLo = offsetAt(lo, timeZone);
  const offHi = offsetAt(hi, timeZone);
  if (offLo === offHi) return wall - offLo;
  const jump = transitionBetween(lo, hi, offLo, timeZone);
  const before = wall - offLo; // valid while the old offset still applies
  if (before < jump) return before;
  const after = wall - offHi;
  if (after >= jump) return after;
  return jump; // `wall` falls in the gap the clocks jumped over
}
