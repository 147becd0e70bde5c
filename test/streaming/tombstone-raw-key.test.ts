/**
 * A tombstone names its row by the message key only. A key written as plain text (Kafka
 * Connect's StringConverter, a producer's string key) that happens to read as a JSON number
 * was taken as that number: the key `1.50` deleted the row `1.5`, ` 5` deleted `5`, `1e3`
 * deleted `1000`, `-0` deleted `0`, and the row the tombstone named stayed, with nothing
 * said. A one-column key that is a bare JSON number now keeps its text as sent; Postgres
 * reads it for a numeric key column as the same number. On both paths.
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
  db = await createTestDatabase('tombstone_raw_key');
  await setupToolkit(db.pool);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

describe('a tombstone whose text key reads as a JSON number', () => {
  it('deletes the row its key names, not the row of the number it reads as (text key), on both paths', async () => {
    const named = ['1.50', ' 5', '1e3', '-0', '7'];
    const lookalikes = ['1.5', '5', '1000', '0'];
    const values: (string | null)[] = [...named, ...lookalikes].map((k) => JSON.stringify({ k, v: 'x' }));
    const keys: (string | null)[] = values.map(() => null);
    for (const k of named) { values.push(null); keys.push(k); }
    const r = await throughBothPaths(db.pool, sinkPool, 'k text PRIMARY KEY, v text', ['k'], recordsOf(values, keys));
    for (const path of [r.batch, r.collect]) {
      expect(path.dead).toEqual([]);
      expect(path.rows.map((x) => JSON.parse(x).k).sort()).toEqual([...lookalikes].sort());
    }
  });

  it('a numeric key column still reads the text as its number', async () => {
    const values: (string | null)[] = [JSON.stringify({ k: 1.5, v: 'x' }), JSON.stringify({ k: 1000, v: 'y' }), JSON.stringify({ k: 2, v: 'z' }), null, null];
    const r = await throughBothPaths(db.pool, sinkPool, 'k numeric PRIMARY KEY, v text', ['k'], recordsOf(values, [null, null, null, '1.50', '1e3']));
    for (const path of [r.batch, r.collect]) {
      expect(path.dead).toEqual([]);
      expect(path.rows.map((x) => JSON.parse(x).v)).toEqual(['z']);
    }
  });
});
