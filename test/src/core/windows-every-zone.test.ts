/**
 * Window bounds in every zone of the tz database, 2000–2040, checked against
 * Postgres's own time-zone arithmetic (its tz data).
 *
 * For each window boundary Postgres must agree that the instant is the first at
 * which the zone's wall clock reaches the label (or, where the clocks skip it,
 * the jump): the wall clock shows the label or later there and an earlier time
 * one second before; and the instant is never after Postgres's own
 * `label::timestamp AT TIME ZONE zone`. Where those two differ, the difference
 * must be one of the documented cases (docs/reconcile.md "Windows on DST days").
 *
 * Which days: Postgres finds every day whose length is not 24 h (every clock
 * change) in every zone; those days and their neighbours are checked as day
 * windows and hour by hour, plus every 53rd day (a different phase per zone) for
 * rule differences on ordinary days. DUALRUN_WINDOW_EXHAUSTIVE=1 checks every
 * day of the range (`npm run test:windows-exhaustive`, a few minutes);
 * DUALRUN_WINDOW_YEARS=1900-2100 widens the range.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { serverUrl } from '../../support/pg.ts';
import { windowsBetween, type Window } from '../../../src/core/windows.ts';

const [FROM_YEAR, TO_YEAR] = (process.env.DUALRUN_WINDOW_YEARS ?? '2000-2040').split('-').map(Number);
const EXHAUSTIVE = process.env.DUALRUN_WINDOW_EXHAUSTIVE === '1';
const SAMPLE_EVERY = EXHAUSTIVE ? 1 : 53;
const FROM = `${FROM_YEAR}-01-01`;
const TO = `${TO_YEAR}-12-31`;

let clients: pg.Client[] = [];
let zones: string[] = [];

beforeAll(async () => {
  clients = [new pg.Client({ connectionString: serverUrl() }), new pg.Client({ connectionString: serverUrl() })];
  for (const c of clients) { await c.connect(); await c.query(`SET TimeZone = 'UTC'`); }
  const pgZones = new Set((await clients[0].query<{ name: string }>('SELECT name FROM pg_timezone_names')).rows.map((r) => r.name));
  // Node's canonical zones that Postgres knows too (aliases share their zone's rules in both).
  zones = Intl.supportedValuesOf('timeZone').filter((z) => pgZones.has(z));
});
afterAll(async () => { await Promise.all(clients.map((c) => c.end())); });

/** Days whose length is not 24 h in Postgres's arithmetic: a scan by weeks, then the days of the weeks that changed. */
const changeDaysSql = `
WITH w AS (SELECT g::date AS d FROM generate_series($2::date - 8, $3::date + 8, '7 days') g),
     s AS (SELECT d, lead(d) OVER (ORDER BY d) AS d2 FROM w),
     wk AS (SELECT d, d2 FROM s WHERE d2 IS NOT NULL
             AND extract(epoch FROM (d2::timestamp AT TIME ZONE $1) - (d::timestamp AT TIME ZONE $1)) <> (d2 - d) * 86400),
     days AS (SELECT DISTINCT g::date AS d FROM wk, generate_series(wk.d, wk.d2, '1 day') g)
SELECT d::text AS day FROM days
 WHERE extract(epoch FROM ((d + 1)::timestamp AT TIME ZONE $1) - (d::timestamp AT TIME ZONE $1)) <> 86400 ORDER BY 1`;

const checkSql = `
SELECT w::text AS wall, s, c, bad FROM (
  SELECT w, s, c,
         NOT ((s AT TIME ZONE $3) >= w AND ((s - interval '1 second') AT TIME ZONE $3) < w AND s <= c)
         OR (s <> c AND (s AT TIME ZONE $3) <> (c AT TIME ZONE $3)
             AND (c AT TIME ZONE $3) >= w AND ((c - interval '1 second') AT TIME ZONE $3) < w) AS bad
    FROM (SELECT u.w::timestamp AS w, to_timestamp(u.e) AS s, (u.w::timestamp AT TIME ZONE $3) AS c
            FROM unnest($1::text[], $2::float8[]) AS u(w, e)) x) y
 WHERE bad OR s <> c`;

interface Finding { zone: string; wall: string; s: Date; c: Date; bad: boolean }
const DAY_MS = 86_400_000;
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY_MS).toISOString().slice(0, 10);

/** Bounds to check, and the windows' own partition of the instants and of the wall clock (each ends where the next starts; none empty). */
function boundaries(ws: Window[], walls: string[], instants: number[], broken: string[]): void {
  ws.forEach((w, i) => {
    if (w.start.getTime() >= w.end.getTime()) broken.push(`${w.label} is empty`);
    if (i > 0 && w.start.getTime() !== ws[i - 1].end.getTime()) broken.push(`${w.label} does not start where ${ws[i - 1].label} ends`);
    // The wall clock too: a skipped hour's 02:30 or a skipped day's date must fall in a window (the one before).
    if (i > 0 && ws[i - 1].localEnd !== w.localStart) broken.push(`${w.label}'s wall clock does not start where ${ws[i - 1].label}'s ends (${ws[i - 1].localEnd})`);
    walls.push(w.localStart, w.localEnd);
    instants.push(w.start.getTime() / 1000, w.end.getTime() / 1000);
  });
}

async function checkZone(client: pg.Client, zone: string, index: number, broken: string[]): Promise<{ findings: Finding[]; bounds: number }> {
  const changes = (await client.query<{ day: string }>(changeDaysSql, [zone, FROM, TO])).rows.map((r) => r.day);
  const days = new Set<string>();
  for (const d of changes) for (const n of [-1, 0, 1]) days.add(addDays(d, n));
  const total = Math.round((Date.parse(TO) - Date.parse(FROM)) / DAY_MS) + 1;
  for (let i = index % SAMPLE_EVERY; i < total; i += SAMPLE_EVERY) days.add(addDays(FROM, i));
  const walls: string[] = [];
  const instants: number[] = [];
  const sorted = [...days].filter((d) => d >= FROM && d <= TO).sort();
  // Consecutive runs of days as one range each, so partition checks span them.
  for (let i = 0; i < sorted.length;) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === addDays(sorted[j], 1)) j++;
    boundaries(windowsBetween(sorted[i], sorted[j], 'day', zone), walls, instants, broken);
    i = j + 1;
  }
  for (const d of changes) boundaries(windowsBetween(`${d}T00`, `${d}T23`, 'hour', zone), walls, instants, broken);
  const r = await client.query<{ wall: string; s: Date; c: Date; bad: boolean }>(checkSql, [walls, instants, zone]);
  return { findings: r.rows.map((row) => ({ zone, ...row })), bounds: walls.length };
}

describe('window bounds in every tz zone agree with Postgres', () => {
  it(`every clock change ${FROM_YEAR}–${TO_YEAR} (days and hours) and sampled ordinary days, in every zone`, async () => {
    expect(zones.length).toBeGreaterThan(300);
    const broken: string[] = [];
    const findings: Finding[] = [];
    let bounds = 0;
    let next = 0;
    // Two connections: Postgres works on one zone while Node computes another.
    await Promise.all(clients.map(async (client) => {
      while (next < zones.length) {
        const i = next++;
        const r = await checkZone(client, zones[i], i, broken);
        findings.push(...r.findings);
        bounds += r.bounds;
      }
    }));
    expect(broken).toEqual([]);
    const show = (f: Finding) => `${f.zone} ${f.wall}: dualrun ${f.s.toISOString()}, Postgres ${f.c.toISOString()}`;
    const bad = findings.filter((f) => f.bad);
    expect(bad.map(show), `${bad.length} of ${bounds} boundaries disagree`).toEqual([]);
    // The documented deviations from naive AT TIME ZONE do occur (an ambiguous midnight, e.g. Havana's).
    expect(findings.some((f) => f.zone === 'America/Havana')).toBe(true);
    console.log(`${bounds} boundaries in ${zones.length} zones agree; naive AT TIME ZONE differs at ${findings.length}, e.g. ${findings.slice(0, 2).map(show).join('; ')}`);
  }, EXHAUSTIVE ? 3_600_000 : 120_000);
});
