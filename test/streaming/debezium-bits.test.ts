/**
 * Debezium sends a Postgres bit(n>1)/varbit value as `io.debezium.data.Bits`: bytes (base64
 * in JSON) whose bit order this sink does not convert. The base64 text went to the column
 * as it was, and Postgres read it as a bit string whenever every character was 0 or 1:
 * `0000` (the bytes d3 4d 34, 24 bits) was stored into a varbit column as the 4 bits 0000.
 * With the schema beside the value such a field is now a `decode` dead letter naming it
 * and saying what to configure, never another value.
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
  db = await createTestDatabase('debezium_bits');
  await setupToolkit(db.pool);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

const ROW = { type: 'struct', fields: [{ field: 'k', type: 'int32' }, { field: 'b', type: 'bytes', optional: true, name: 'io.debezium.data.Bits', parameters: { length: '24' } }] };
const SCHEMA = { type: 'struct', fields: [{ ...ROW, field: 'before' }, { ...ROW, field: 'after' }, { field: 'op', type: 'string' }] };

describe('io.debezium.data.Bits', () => {
  it('base64 that reads as a bit string (0000) is a decode dead letter naming the field, not 4 bits in a varbit column, on both paths', async () => {
    const values = ['0000', 'AQID', null].map((b, i) => JSON.stringify({ schema: SCHEMA, payload: { op: 'c', before: null, after: { k: i, b }, source: { lsn: i + 1 } } }));
    const r = await throughBothPaths(db.pool, sinkPool, 'k int PRIMARY KEY, b varbit', ['k'], recordsOf(values), { format: 'debezium' });
    for (const path of [r.batch, r.collect]) {
      expect(path.dead.map((d) => [d.p, d.stage])).toEqual([[0, 'decode'], [1, 'decode']]);
      for (const d of path.dead) expect(d.reason).toMatch(/"after" field b: .*io\.debezium\.data\.Bits/);
      expect(path.rows.map((x) => JSON.parse(x))).toEqual([{ k: 2, b: null, _dr_version: 3 }]);
    }
  });
});
