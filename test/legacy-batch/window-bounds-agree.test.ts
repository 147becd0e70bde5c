/**
 * A row is loaded by the batch in exactly the window the reconciler judges it in. For random
 * instants and zones (DST days of 23 and 25 hours, midnight jumps, half-hour DST, a skipped
 * day), the instant as a timestamptz, its wall clock as a timestamp and its local date as a
 * date lie inside the window windowOf gives, by the batch's bounds (boundParam, read by
 * Postgres as the column's type: the DELETE and the window guard) and by the reconciler's
 * (windowBounds), and outside the windows before and after it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { boundParam, wallClock, windowOf, type Window } from '../../src/core/windows.ts';
import { offsetAt } from '../../src/core/zone-clock.ts';
import { windowBounds } from '../../reconcile/window-bounds.ts';
import type { ColumnInfo } from '../../reconcile/table-columns.ts';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase('bwbounds'); });
afterAll(async () => { await db?.drop(); });

const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'America/Santiago', 'Australia/Lord_Howe', 'Pacific/Apia', 'Asia/Tehran', 'America/Havana', 'Africa/Casablanca', 'Asia/Kolkata', 'Pacific/Chatham'];
const TYPES = ['timestamptz', 'timestamp', 'date'] as const;

function around(w: Window, grain: 'day' | 'hour', zone: string): Window[] {
  return [windowOf(new Date(w.start.getTime() - 1), grain, zone), w, windowOf(w.end, grain, zone)];
}

/** An instant within 36 hours of the zone's first offset change after `from` (a year's hours scanned). */
function nearTransition(from: Date, zone: string, shiftMs: number): Date {
  const hour = 3_600_000;
  const t0 = Math.floor(from.getTime() / hour) * hour;
  const off = offsetAt(t0, zone);
  for (let t = t0 + hour; t < t0 + 400 * 24 * hour; t += hour) if (offsetAt(t, zone) !== off) return new Date(t + shiftMs);
  return new Date(t0 + shiftMs);
}

const instants = fc.oneof(
  fc.tuple(fc.date({ min: new Date('2000-01-01T00:00:00Z'), max: new Date('2037-12-31T00:00:00Z'), noInvalidDate: true }), fc.constant(null)),
  fc.tuple(fc.date({ min: new Date('2005-01-01T00:00:00Z'), max: new Date('2030-12-31T00:00:00Z'), noInvalidDate: true }), fc.integer({ min: -36 * 3600, max: 36 * 3600 })),
);

it('the batch and the reconciler put every instant, wall clock and date in the same window, and in no neighbour', async () => {
  const c = await db.pool.connect();
  try {
    await c.query(`SET TimeZone = 'UTC'`);
    await fc.assert(fc.asyncProperty(
      instants, fc.constantFrom(...ZONES), fc.constantFrom<'day' | 'hour'>('day', 'hour'),
      async ([from, shiftS], zone, grain) => {
        const at = shiftS === null ? from : nearTransition(from, zone, shiftS * 1000);
        const w = windowOf(at, grain, zone);
        expect(w.start.getTime() <= at.getTime() && at.getTime() < w.end.getTime()).toBe(true);
        for (const type of TYPES) {
          if (type === 'date' && grain === 'hour') continue;
          const value = type === 'timestamptz' ? at.toISOString() : type === 'timestamp' ? wallClock(at, zone) : wallClock(at, zone).slice(0, 10);
          const col: ColumnInfo = { name: 'c', type } as unknown as ColumnInfo;
          for (const [i, win] of around(w, grain, zone).entries()) {
            const [rs, re] = windowBounds(win, col, zone);
            const r = await c.query<{ batch: boolean; rec: boolean }>(
              `SELECT ($1::${type} >= $2::${type} AND $1::${type} < $3::${type}) AS batch, ($1::${type} >= $4::${type} AND $1::${type} < $5::${type}) AS rec`,
              [value, boundParam(win, 'start'), boundParam(win, 'end'), rs, re]);
            const inside = i === 1;
            // A wall clock the clocks set back shows twice: the window holds its first occurrence only
            // as an instant, while a timestamp column cannot tell them apart. Both sides agree anyway.
            expect({ type, zone, grain, at: at.toISOString(), window: win.label, batch: r.rows[0].batch })
              .toEqual({ type, zone, grain, at: at.toISOString(), window: win.label, batch: r.rows[0].rec });
            // A timestamp holds the wall clock: where it shows an earlier label again (clocks set back
            // over a boundary) the row belongs to the label its wall clock shows, on both sides.
            const wallLabel = grain === 'day' ? value.slice(0, 10) : `${value.slice(0, 10)}T${value.slice(11, 13)}`;
            if (type !== 'timestamp' || wallLabel === w.label) expect({ type, zone, at: at.toISOString(), window: win.label, inside: r.rows[0].batch }).toEqual({ type, zone, at: at.toISOString(), window: win.label, inside });
          }
        }
      }), { numRuns: 400 });
  } finally {
    c.release();
  }
}, 120_000);
