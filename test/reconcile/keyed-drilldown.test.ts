/**
 * The keyed drill-down (#12: most buckets mismatched, e.g. 1% of rows differ)
 * must locate exactly what the bucket drill-downs locate. Real Postgres: the
 * same tables compared in one database (keyed) and across two (bucket, Node).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { keyedDrilldownApplies } from '../../reconcile/keyed-drilldown-sql.ts';
import type { DrilldownSpec } from '../../reconcile/drilldown-spec.ts';
import { dataset, found, sameAndCrossDatabase, type TwoDatabases } from './support.ts';

let env: TwoDatabases;
let db: TestDatabase;
let rt: Runtime;
let crossRt: Runtime;

const SETUP = `
CREATE SCHEMA k;
CREATE TABLE k.b (id int8 PRIMARY KEY, at timestamptz NOT NULL, amount numeric(12,2), note text, _dr_source_ts timestamptz);
INSERT INTO k.b SELECT g, timestamptz '2026-11-20' + g * interval '17 s', g / 100.0, CASE WHEN g % 11 = 0 THEN NULL ELSE 'n' || g END, NULL
  FROM generate_series(1, 6000) g;
CREATE TABLE k.s (LIKE k.b INCLUDING ALL);
INSERT INTO k.s SELECT * FROM k.b;
UPDATE k.s SET amount = amount + 0.01 WHERE id % 7 = 0;
UPDATE k.s SET note = NULL WHERE id % 13 = 1;
UPDATE k.s SET note = '' WHERE id % 29 = 2;
DELETE FROM k.s WHERE id % 17 = 3;
INSERT INTO k.s SELECT 100000 + g, timestamptz '2026-11-20' + g * interval '61 s', 1, 'x', NULL FROM generate_series(1, 300) g;
CREATE TABLE k.db (LIKE k.b INCLUDING ALL);
INSERT INTO k.db SELECT * FROM k.b;
CREATE TABLE k.ds (LIKE k.s INCLUDING ALL);
INSERT INTO k.ds SELECT * FROM k.s;
-- composite integer key
CREATE TABLE k.cb (region int4 NOT NULL, n int8 NOT NULL, v text, PRIMARY KEY (region, n));
INSERT INTO k.cb SELECT g % 5, g, 'v' FROM generate_series(1, 3000) g;
CREATE TABLE k.cs (LIKE k.cb INCLUDING ALL);
INSERT INTO k.cs SELECT region, n, CASE WHEN n % 3 = 0 THEN 'w' ELSE v END FROM k.cb WHERE n % 19 <> 4;
`;

const datasets = (batchDb?: string) => ({
  whole: dataset({ key: ['id'], batch: { output: 'k.b', database: batchDb }, stream: { output: 'k.s' } }),
  daily: dataset({ key: ['id'], window: { column: 'at', grain: 'day', timezone: 'UTC' }, batch: { output: 'k.db', database: batchDb }, stream: { output: 'k.ds' } }),
  composite: dataset({ key: ['region', 'n'], batch: { output: 'k.cb', database: batchDb }, stream: { output: 'k.cs' } }),
});

beforeAll(async () => {
  env = await sameAndCrossDatabase('rk', SETUP, datasets);
  ({ db, rt, crossRt } = env);
});
afterAll(async () => { await env?.close(); });

describe('keyed drill-down (#12)', () => {
  it.each(['whole', 'daily', 'composite'])('%s: the same differences, counts and samples as the bucket drill-down across two databases', async (name) => {
    const windows = name === 'daily' ? ['2026-11-20', '2026-11-21'] : undefined;
    const same = await reconcileDataset(rt, name, { assumeSettled: true, samples: 5000, store: false, windows });
    const cross = await reconcileDataset(crossRt, name, { assumeSettled: true, samples: 5000, store: false, windows });
    expect(same.length).toBe(cross.length);
    same.forEach((r, i) => {
      expect(r.error).toBeUndefined();
      expect(cross[i].strategy).toBe('cross-database');
      expect(r.verdict).toBe('mismatch');
      expect(found(r)).toEqual(found(cross[i]));
      const { samples: _a, ...counts } = r.diff!;
      const { samples: _b, ...crossCounts } = cross[i].diff!;
      expect(counts).toEqual(crossCounts);
      expect(r.diff!.changed + r.diff!.missingInBatch + r.diff!.missingInStream).toBeGreaterThan(100);
    });
  });

  it('applies only in one database, above a fifth of the rows, for unique NOT NULL keys of one by-value type leading an index', () => {
    const side = (over: Partial<{ unique: boolean; notNull: boolean; indexed: boolean; type: string; native: 'value' | 'bytes' | 'string' }> = {}) => {
      const o = { unique: true, notNull: true, indexed: true, type: 'int8', native: 'bytes' as const, ...over };
      return {
        key: [{ name: 'id', type: o.type, hash: { native: o.native, type: o.type } }],
        compared: [],
        windowColumn: null,
        shape: { keyUnique: o.unique, notNull: new Set(o.notNull ? ['id'] : []), indexLeading: new Set(o.indexed ? ['id'] : []) },
      };
    };
    const spec = (b = side(), s = side(), candidateRows = 300) =>
      ({ batch: b, stream: s, mismatched: [1], candidateRows, buckets: { count: 1, mode: 'range' } }) as unknown as DrilldownSpec;
    expect(keyedDrilldownApplies(spec(), true, 1000)).toBe(true);
    expect(keyedDrilldownApplies(spec(), false, 1000)).toBe(false);
    expect(keyedDrilldownApplies(spec(side(), side(), 100), true, 1000)).toBe(false);
    expect(keyedDrilldownApplies(spec(side({ unique: false })), true, 1000)).toBe(false);
    expect(keyedDrilldownApplies(spec(side(), side({ notNull: false })), true, 1000)).toBe(false);
    expect(keyedDrilldownApplies(spec(side({ indexed: false })), true, 1000)).toBe(false);
    expect(keyedDrilldownApplies(spec(side({ type: 'text', native: 'string' }), side({ type: 'text', native: 'string' })), true, 1000)).toBe(false);
    expect(keyedDrilldownApplies(spec(side({ type: 'int4', native: 'value' }), side()), true, 1000)).toBe(false);
  });
});
