/**
 * Debezium cannot read a Postgres value stored out of line (TOAST) that an UPDATE did not
 * change (REPLICA IDENTITY DEFAULT): it sends its placeholder `__debezium_unavailable_value`
 * instead, the bytes of that text for a binary column (base64 in JSON), in the `after` image
 * and in `ExtractNewRecordState`'s rows. The sink stored the placeholder: a long text
 * column's value became `__debezium_unavailable_value`, a bytea (with the schema) the
 * placeholder's bytes, and the real value was gone. A field holding the placeholder now
 * means "unchanged": it is left out, so the column keeps its stored value, on both paths.
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
  db = await createTestDatabase('toast_placeholder');
  await setupToolkit(db.pool);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

const P = '__debezium_unavailable_value';
const P64 = Buffer.from(P).toString('base64');
const BIG = 'x'.repeat(5000);
const field = (name: string, type: string) => ({ field: name, type, optional: true });
const ROW = { type: 'struct', fields: [field('k', 'int32'), field('v', 'string'), field('doc', 'string'), field('blob', 'bytes'), { ...field('j', 'string'), name: 'io.debezium.data.Json' }] };
const SCHEMA = { type: 'struct', fields: [{ ...ROW, field: 'before' }, { ...ROW, field: 'after' }, field('op', 'string'), { type: 'struct', fields: [], field: 'source' }] };

describe("Debezium's placeholder for an unchanged TOAST value", () => {
  it('leaves the column as stored (Debezium envelope with its schema), on both paths', async () => {
    const env = (op: string, lsn: number, after: object) => JSON.stringify({ schema: SCHEMA, payload: { op, before: null, after, source: { lsn } } });
    const values = [
      env('c', 1, { k: 1, v: 'a', doc: BIG, blob: Buffer.from('real').toString('base64'), j: '{"a":1}' }),
      env('u', 2, { k: 1, v: 'b', doc: P, blob: P64, j: P }),
      env('c', 3, { k: 2, v: 'c', doc: 'short', blob: null, j: null }),
    ];
    for (const cuts of [[], [1], [2]]) {
      const r = await throughBothPaths(db.pool, sinkPool, 'k int PRIMARY KEY, v text, doc text, blob bytea, j jsonb', ['k'], recordsOf(values), { format: 'debezium', cuts });
      for (const path of [r.batch, r.collect]) {
        expect(path.dead).toEqual([]);
        const rows = path.rows.map((x) => JSON.parse(x));
        expect(rows.map(({ k, v, doc, blob, j }) => ({ k, v, doc, blob, j }))).toEqual([
          { k: 1, v: 'b', doc: BIG, blob: `\\x${Buffer.from('real').toString('hex')}`, j: { a: 1 } },
          { k: 2, v: 'c', doc: 'short', blob: null, j: null },
        ]);
      }
    }
  });

  it('leaves the column as stored (ExtractNewRecordState rows, no schema), on both paths', async () => {
    const values = [JSON.stringify({ k: 1, v: 'a', doc: BIG, __lsn: 1 }), JSON.stringify({ k: 1, v: 'b', doc: P, __op: 'u', __lsn: 2 }), JSON.stringify({ k: 2, v: 'c', doc: 'short', __lsn: 3 })];
    for (const cuts of [[], [1]]) {
      const r = await throughBothPaths(db.pool, sinkPool, 'k int PRIMARY KEY, v text, doc text', ['k'], recordsOf(values), { cuts });
      for (const path of [r.batch, r.collect]) {
        expect(path.dead).toEqual([]);
        expect(path.rows.map((x) => JSON.parse(x)).map(({ k, v, doc }) => ({ k, v, doc }))).toEqual([{ k: 1, v: 'b', doc: BIG }, { k: 2, v: 'c', doc: 'short' }]);
      }
    }
  });
});
