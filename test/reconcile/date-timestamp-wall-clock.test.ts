/**
 * A `date` against a `timestamp` was compared as two instants in the window time zone. Both are
 * wall clocks with no zone, and where a zone skips local midnight (America/Santiago 2026-09-06:
 * 00:00 −04 is 01:00 −03) Postgres reads the date's midnight and the timestamp 01:00 as one
 * instant: tables holding `2026-09-06` against `2026-09-06 01:00:00` were a `match`, though
 * Postgres's own `date = timestamp` (the date's midnight as a wall clock) says they differ.
 * They are now compared as wall clocks, the date as its midnight.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { encodeSql, planCodec, type Codec } from '../../reconcile/value-codec.ts';
import type { TypeDesc } from '../../reconcile/table-columns.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await freshDatabase('datets');
  await db.pool.query(`
    CREATE SCHEMA w;
    CREATE TABLE w.b (id int PRIMARY KEY, at timestamptz NOT NULL, d date, ds date[]);
    CREATE TABLE w.s (id int PRIMARY KEY, at timestamptz NOT NULL, d timestamp, ds timestamp[]);
    INSERT INTO w.b VALUES (1, '2026-09-06 12:00-03', '2026-09-06', '{2026-09-06}'),
                           (2, '2026-09-06 12:00-03', '2026-09-06', '{2026-09-06}'),
                           (3, '2026-09-06 12:00-03', 'infinity', '{}');
    INSERT INTO w.s VALUES (1, '2026-09-06 12:00-03', '2026-09-06 01:00', '{"2026-09-06 01:00"}'),
                           (2, '2026-09-06 12:00-03', '2026-09-06 00:00', '{"2026-09-06 00:00"}'),
                           (3, '2026-09-06 12:00-03', 'infinity', '{}');`);
});
afterAll(async () => { await db?.drop(); });

const judge = async (batch: string, stream: string) => {
  const rt = runtimeFor(db, { x: dataset({ key: ['id'], window: { column: 'at', timezone: 'America/Santiago' }, batch: { output: batch }, stream: { output: stream } }) });
  try {
    const [r] = await reconcileDataset(rt, 'x', { assumeSettled: true, samples: 10, store: false, windows: ['2026-09-06'] });
    return r;
  } finally { await rt.close(); }
};

describe('a date against a timestamp compares wall clocks', () => {
  it('2026-09-06 against 2026-09-06 01:00 in Santiago, where that midnight is skipped, is a difference (was a match)', async () => {
    for (const [b, s] of [['w.b', 'w.s'], ['w.s', 'w.b']]) {
      const r = await judge(b, s);
      expect(r.error).toBeUndefined();
      expect(r.verdict).toBe('mismatch');
      expect(found(r)).toEqual(['changed {"id":1} d,ds']);
    }
  });

  const base = (name: string): TypeDesc => ({ kind: 'base', name, category: 'D', typmod: -1 });
  const codec = planCodec(base('date'), base('timestamp')) as Codec;
  // Zones that skip local midnight (some only in past years), one that skips a whole day, and two that do not.
  const zones = ['America/Santiago', 'America/Asuncion', 'America/Havana', 'America/Sao_Paulo', 'Asia/Beirut', 'Africa/Cairo', 'Asia/Tehran', 'Pacific/Apia', 'Europe/Berlin', 'UTC'];

  it('equal exactly when Postgres\'s own date = timestamp says so, in every zone (fast-check)', async () => {
    // The days 2000-2040 whose midnight each zone skips (Postgres's own tz data), as day offsets from 2000-01-01.
    const gaps = new Map<string, number[]>();
    for (const zone of zones) {
      const r = await db.pool.query<{ n: number }>(
        `SELECT (d - '2000-01-01'::date) AS n FROM generate_series('2000-01-01'::date, '2040-12-31'::date, interval '1 day') g, LATERAL (SELECT g::date AS d) x
          WHERE (d::timestamp AT TIME ZONE $1) AT TIME ZONE $1 <> d::timestamp`, [zone]);
      gaps.set(zone, r.rows.map((x) => x.n));
    }
    expect(gaps.get('America/Santiago')!.length).toBeGreaterThan(10);
    const pair = fc.record({
      day: fc.integer({ min: 0, max: 41 * 366 }),
      gap: fc.option(fc.nat(), { freq: 2 }),
      minutes: fc.oneof(fc.constantFrom(0, 60, 30, 1440, -60), fc.integer({ min: -180, max: 1620 })),
      // Dates beyond timestamp's range (against its last day), and the infinities.
      far: fc.constantFrom(null, null, null, null, null, null, null, null, '294277-01-01', 'infinity', '-infinity'),
    });
    await fc.assert(fc.asyncProperty(fc.constantFrom(...zones), fc.array(pair, { minLength: 1, maxLength: 60 }), async (zone, pairs) => {
      const client = await db.pool.connect();
      try {
        await client.query('BEGIN');
        await client.query(`SELECT set_config('TimeZone', $1, true)`, [zone]);
        const r = await client.query<{ d: string; t: string; same: boolean; pg: boolean }>(
          `SELECT d::text, t::text, (${encodeSql(codec, base('date'), 'x.d')}) = (${encodeSql(codec, base('timestamp'), 'x.t')}) AS same, d = t AS pg
             FROM (SELECT coalesce(far::date, '2000-01-01'::date + day) AS d,
                          CASE WHEN far = '294277-01-01' THEN '294276-12-31 00:00'::timestamp + minutes * interval '1 second'
                               ELSE coalesce(far::timestamp, ('2000-01-01'::date + day)::timestamp + minutes * interval '1 minute') END AS t
                     FROM unnest($1::int[], $2::int[], $3::text[]) AS u(day, minutes, far)) x`,
          [pairs.map((p) => (p.gap !== null && gaps.get(zone)!.length > 0 ? gaps.get(zone)![p.gap % gaps.get(zone)!.length] : p.day)), pairs.map((p) => p.minutes), pairs.map((p) => p.far)]);
        for (const row of r.rows) expect({ zone, d: row.d, t: row.t, equal: row.same }).toEqual({ zone, d: row.d, t: row.t, equal: row.pg });
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
    }), { numRuns: 60, seed: 20261202 });
  });
});
