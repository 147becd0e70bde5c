/**
 * A number into an interval column. Postgres reads a number without a unit as seconds;
 * Debezium's default `interval.handling.mode=numeric` sends microseconds
 * (io.debezium.time.MicroDuration), and without the schema beside the value the sink
 * cannot tell. An hour (3600000000 µs) was stored as 1000000:00:00, on both paths,
 * without a word. A bare number (a JSON number, or its digits as text, as a 64-bit one
 * arrives) is now an `apply` dead letter naming the column; text with units is stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { createPool, type Pool } from '../../src/core/db/connect.ts';
import { COLLECTING_DEFAULTS } from '../../streaming/collecting-sink.ts';
import { setupToolkit } from './support.ts';
import { recordsOf, throughBothPaths } from './both-sink-paths.ts';

let db: TestDatabase;
let sinkPool: Pool;
beforeAll(async () => {
  db = await createTestDatabase('interval_number');
  await setupToolkit(db.pool);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

describe('a number into an interval column', () => {
  it('is refused naming the column, whatever its spelling; text with units is stored as sent, on both paths', async () => {
    const refused = ['3600000000', '9007199254740993', '"5"', '" 1.5 "', '-2e3', '0'];
    const stored: [string, string][] = [['"PT1H"', '01:00:00'], ['"1 day 02:00:00"', '1 day 02:00:00'], ['"-00:00:05"', '-00:00:05']];
    const values = [...refused, ...stored.map(([v]) => v)].map((v, i) => `{"k":${i},"iv":${v}}`);
    const r = await throughBothPaths(db.pool, sinkPool, 'k integer PRIMARY KEY, iv interval', ['k'], recordsOf(values));
    for (const path of [r.batch, r.collect]) {
      expect(path.dead.map((d) => d.p)).toEqual(refused.map((_, i) => i));
      for (const d of path.dead) {
        expect(d.stage).toBe('apply');
        expect(d.reason).toMatch(/^column iv \(interval\): .* is a number without a unit, which Postgres reads as seconds/);
      }
      expect(path.rows.map((x) => JSON.parse(x).iv)).toEqual(stored.map(([, s]) => s));
    }
  });
});
