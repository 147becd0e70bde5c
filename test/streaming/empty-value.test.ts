/**
 * A record whose value is zero bytes (not null: Kafka's tombstone is a null value) is not
 * a delete and not a row. It was a `decode` dead letter saying only "not valid JSON:
 * Unexpected end of JSON input"; the reason now says the value was empty and that a
 * tombstone is a null value. The row it might have named is untouched, in both formats.
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
  db = await createTestDatabase('empty_value');
  await setupToolkit(db.pool);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

describe('a record whose value is empty', () => {
  for (const format of ['json', 'debezium'] as const) {
    it(`(${format}) is a decode dead letter saying so; the keyed row stays, on both paths`, async () => {
      const row = format === 'json' ? JSON.stringify({ k: 1, v: 'a' }) : JSON.stringify({ op: 'c', after: { k: 1, v: 'a' }, source: { lsn: 1 } });
      const r = await throughBothPaths(db.pool, sinkPool, 'k int PRIMARY KEY, v text', ['k'], recordsOf([row, ''], [null, '{"k":1}']), { format });
      for (const path of [r.batch, r.collect]) {
        expect(path.dead.map((d) => [d.p, d.stage])).toEqual([[1, 'decode']]);
        expect(path.dead[0].reason).toMatch(/^an empty value \(zero bytes\)/);
        expect(path.rows.map((x) => JSON.parse(x).v)).toEqual(['a']);
      }
    });
  }
});
