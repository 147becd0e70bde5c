/**
 * A wall clock the zone skips fell in no window: 02:30 on a spring-forward night in a
 * `timestamp` column, and a date the zone skipped whole (Pacific/Apia's 2011-12-30) in a
 * `date` column. The windows tiled the instants but their wall-clock bounds left the skipped
 * span out, so the batch never loaded those rows and the reconciler never compared them (a
 * `match` over a range whose rows differ). Now a window's wall clock starts where the previous
 * window's ends (a skipped span belongs to the window after it, where Postgres reads it). For
 * generated wall clocks and dates near every kind of clock change (skipped hours, half hours,
 * a skipped day, repeated hours), each lies in exactly one window of the range around it, the
 * same by the batch's predicate (the load's DELETE and guard) and by the reconciler's (which
 * reads a `timestamp` as an instant in the dataset's zone).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { boundParam, wallClock, windowsBetween, type Window } from '../../src/core/windows.ts';
import { firstInstantAtOrAfter, offsetAt } from '../../src/core/zone-clock.ts';
import { windowBounds } from '../../reconcile/window-bounds.ts';
import { windowPredicateSql } from '../../reconcile/canonical-row-sql.ts';
import type { ColumnInfo } from '../../reconcile/table-columns.ts';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase('bwskip'); });
afterAll(async () => { await db?.drop(); });

// Zones with skipped hours, half hours, skipped midnights and whole skipped days (Apia, Fakaofo 2011; Kiritimati 1994; Kwajalein 1993).
const ZONES = ['Europe/Paris', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe', 'Pacific/Apia', 'Pacific/Fakaofo', 'Pacific/Kiritimati', 'Pacific/Kwajalein', 'America/Havana', 'Asia/Beirut', 'Pacific/Chatham'];
const HOUR = 3_600_000;

/** The wall clock (local ms) of the zone's first offset change after `from` (scanned by hours over ~14 months). */
function changeWall(from: Date, zone: string): number {
  const t0 = Math.floor(from.getTime() / HOUR) * HOUR;
  const off = offsetAt(t0, zone);
  for (let t = t0 + HOUR; t < t0 + 430 * 24 * HOUR; t += HOUR) if (offsetAt(t, zone) !== off) return t + off;
  return t0 + off;
}

/** How far the clocks jump over the wall clock `wall` (0 where it exists). */
function jumpAt(wall: number, zone: string): number {
  const at = firstInstantAtOrAfter(wall, zone);
  return wallClock(new Date(at), zone) === wallText(wall) ? 0 : offsetAt(at, zone) - offsetAt(at - 1000, zone);
}

const wallText = (local: number) => new Date(local).toISOString().replace('T', ' ').slice(0, 19);
const labelOf = (local: number, grain: 'day' | 'hour') => (grain === 'day' ? wallText(local).slice(0, 10) : wallText(local).slice(0, 13).replace(' ', 'T'));

const cases = fc.record({
  zone: fc.constantFrom(...ZONES),
  from: fc.date({ min: new Date('1990-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }),
  // Seconds around the change's wall clock: inside a skipped span, just before it, just after.
  shiftS: fc.integer({ min: -26 * 3600, max: 26 * 3600 }),
  grain: fc.constantFrom<'day' | 'hour'>('day', 'hour'),
  type: fc.constantFrom<'timestamp' | 'date'>('timestamp', 'date'),
}).filter((c) => !(c.type === 'date' && c.grain === 'hour'));

it('every wall clock and date near a clock change, skipped ones too, lies in exactly one window, the same for the batch and the reconciler', async () => {
  const c = await db.pool.connect();
  try {
    /** The labels of the windows whose predicate holds `value` (a one-row table `v` with column `c`), one query per window. */
    const holding = async (type: string, value: string, ws: Window[], predicate: string, params: (w: Window) => string[]) => {
      const labels: string[] = [];
      for (const w of ws) {
        const r = await c.query(`SELECT 1 FROM (SELECT $3::${type} AS c) v WHERE ${predicate}`, [...params(w), value]);
        if (r.rowCount) labels.push(w.label);
      }
      return labels;
    };
    const check = async (zone: string, wall: number, grain: 'day' | 'hour', type: 'timestamp' | 'date') => {
      const value = type === 'date' ? wallText(wall).slice(0, 10) : wallText(wall);
      const ws = windowsBetween(labelOf(wall - 30 * HOUR, grain), labelOf(wall + 30 * HOUR, grain), grain, zone);
      const col = { name: 'c', type } as unknown as ColumnInfo;
      // The batch's DELETE and window guard (legacy-batch/window-scope.ts): the bounds read as the column's type.
      await c.query(`SET TimeZone = 'UTC'`);
      const batch = await holding(type, value, ws, 'c >= $1 AND c < $2', (w) => [boundParam(w, 'start'), boundParam(w, 'end')]);
      // The reconciler's predicate, in its session zone: the dataset's.
      await c.query(`SELECT set_config('TimeZone', $1, false)`, [zone]);
      const rec = await holding(type, value, ws, windowPredicateSql(col, 1, 2), (w) => windowBounds(w, col));
      expect({ zone, grain, type, value, batch: batch.length, rec: rec.length }).toEqual({ zone, grain, type, value, batch: 1, rec: 1 });
      // Postgres moves a skipped wall clock forward by the jump: past the next window only when the jump is longer than
      // a window (hour windows over a skipped day); the batch then loads it in the window after the gap (documented).
      if (!(grain === 'hour' && jumpAt(wall, zone) > HOUR)) expect({ zone, grain, type, value, batch }).toEqual({ zone, grain, type, value, batch: rec });
    };
    // The two that broke: Paris's skipped 02:30 and Apia's skipped day.
    await check('Europe/Paris', Date.parse('2026-03-29T02:30:00Z'), 'hour', 'timestamp');
    await check('Europe/Paris', Date.parse('2026-03-29T02:30:00Z'), 'day', 'timestamp');
    await check('Pacific/Apia', Date.parse('2011-12-30T12:00:00Z'), 'day', 'date');
    await check('Pacific/Apia', Date.parse('2011-12-30T12:00:00Z'), 'hour', 'timestamp');
    let skipped = 0;
    await fc.assert(fc.asyncProperty(cases, async ({ zone, from, shiftS, grain, type }) => {
      const wall = changeWall(from, zone) + shiftS * 1000;
      if (jumpAt(wall, zone) > 0) skipped++;
      await check(zone, wall, grain, type);
    }), { numRuns: 150 });
    // The generated wall clocks do reach spans the clocks skip, not only ones that exist.
    expect(skipped).toBeGreaterThan(0);
  } finally {
    c.release();
  }
}, 120_000);
