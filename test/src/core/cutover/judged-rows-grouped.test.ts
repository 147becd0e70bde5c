/**
 * The gate's re-count (rule 4.6) reads all the windows it asks about in one scan, each row put in
 * its window by a CASE and counted once (src/core/cutover/judged-rows.ts). Property: for any set of
 * hour windows over DST nights (repeats included), on a timestamp, a timestamptz and a date column,
 * each window's count, sink-unwritten count and xmin sum are what counting that window alone gives.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { compileConfig } from '../../../../src/core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../../../src/core/runtime.ts';
import { judgedRowCounter } from '../../../../src/core/cutover/judged-rows.ts';
import type { Verdict } from '../../../../src/core/cutover/stage-gate.ts';
import { windowsBetween } from '../../../../src/core/windows.ts';
import { createTestDatabase, type TestDatabase } from '../../../support/pg.ts';

const ZONE = 'America/New_York';
let db: TestDatabase;
let rt: Runtime;

beforeAll(async () => {
  db = await createTestDatabase('judged_rows');
  await db.pool.query(`CREATE SCHEMA a;
    CREATE TABLE a.b (id int PRIMARY KEY, ts timestamp, tz timestamptz, d date);
    CREATE TABLE a.s (id int PRIMARY KEY, ts timestamp, tz timestamptz, d date, _dr_version bigint);
    -- Every 7 minutes across the fall-back night of 2026-11-01 and the spring-forward night of 2026-03-08 (wall clocks the zone skipped included).
    INSERT INTO a.b SELECT g, t::timestamp, (t::timestamp AT TIME ZONE '${ZONE}'), t::date FROM (
      SELECT g, timestamp '2026-10-31 20:00' + g * interval '7 minutes' AS t FROM generate_series(0, 200) g
      UNION ALL SELECT 1000 + g, timestamp '2026-03-07 20:00' + g * interval '7 minutes' FROM generate_series(0, 200) g) x;
    INSERT INTO a.s SELECT id, ts, tz, d, CASE WHEN id % 5 = 0 THEN NULL ELSE id END FROM a.b;
    UPDATE a.s SET ts = ts WHERE id % 3 = 0; -- other writers for some rows`);
  const ds = (column: string, grain: string) => ({ key: ['id'], window: { column, grain, timezone: ZONE }, batch: { output: `a.b` }, stream: { output: `a.s`, source: { topic: 't' } } });
  const raw = (column: string, grain: string) => ({ database: { url: db.url, poolSize: 4 }, datasets: { x: ds(column, grain) } });
  rt = createRuntime({ config: compileConfig(raw('ts', 'hour'), { path: null }), log: pino({ level: 'silent' }) });
  await rt.db();
  runtimes = { ts: rt, tz: createRuntime({ config: compileConfig(raw('tz', 'hour'), { path: null }), log: pino({ level: 'silent' }) }),
    d: createRuntime({ config: compileConfig(raw('d', 'day'), { path: null }), log: pino({ level: 'silent' }) }) };
});
let runtimes: Record<'ts' | 'tz' | 'd', Runtime>;
afterAll(async () => { for (const r of Object.values(runtimes ?? {})) await r.close(); await db?.drop(); });

const hours = [...windowsBetween('2026-10-31T20', '2026-11-01T19', 'hour', ZONE), ...windowsBetween('2026-03-07T20', '2026-03-08T19', 'hour', ZONE)].map((w) => w.label);
const days = ['2026-10-31', '2026-11-01', '2026-11-02', '2026-03-07', '2026-03-08', '2026-03-09'];
const writers = { rows: 1, xminSum: '1' };
const verdict = (label: string, i: number): Verdict => ({ id: String(i + 1), windowLabel: label, windowStart: null, verdict: 'match', stage: 'shadow', finishedAt: new Date(), batchWriters: writers, streamWriters: writers });

describe('the gate re-count of many windows in one scan', () => {
  it('gives each window what counting it alone gives (fast-check)', async () => {
    let seen = 0;
    await fc.assert(fc.asyncProperty(fc.constantFrom('ts' as const, 'tz' as const, 'd' as const), fc.array(fc.nat(1000), { minLength: 1, maxLength: 12 }), async (col, picks) => {
      const labels = col === 'd' ? days : hours;
      const vs = picks.map((p, i) => verdict(labels[p % labels.length], i));
      const r = runtimes[col];
      const count = judgedRowCounter(r, r.config.datasets.x);
      const all = await count(vs);
      for (const v of vs) {
        const alone = (await count([v])).get(v.id)!;
        const { shapes: _a, ...got } = all.get(v.id)!;
        const { shapes: _b, ...want } = alone;
        expect(got).toEqual(want);
      }
      seen += [...all.values()].filter((x) => x.batch! > 0 && x.streamXminSum !== '0').length;
    }), { numRuns: 40 });
    expect(seen).toBeGreaterThan(20); // the windows compared held rows

  });
});
