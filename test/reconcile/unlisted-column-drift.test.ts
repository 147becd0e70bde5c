/**
 * A column on both sides that `reconcile.columns` leaves out is still served to readers, so a
 * change of type there is schema drift (docs/reconcile.md, "Schema drift"), as a column on one
 * side only already was. It was not: `flag` bool in the batch output and int4 in the stream
 * output, with `reconcile.columns: [a]`, was a `match`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/core/runtime.ts';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let rt: Runtime;

beforeAll(async () => {
  db = await freshDatabase('unlisted');
  await db.pool.query(`
    CREATE SCHEMA u;
    CREATE TABLE u.b (id int PRIMARY KEY, a int, flag bool, n numeric(12,2), note text);
    CREATE TABLE u.s (id int PRIMARY KEY, a int, flag int4, n int8, note text);
    INSERT INTO u.b VALUES (1, 1, true, 1.00, 'x');
    INSERT INTO u.s VALUES (1, 1, 1, 2, 'y');
    CREATE VIEW u.b2 AS SELECT * FROM u.b; CREATE VIEW u.s2 AS SELECT * FROM u.s;`);
  rt = runtimeFor(db, {
    listed: dataset({ key: ['id'], batch: { output: 'u.b' }, stream: { output: 'u.s' }, reconcile: { columns: ['a'] } }),
    ignored: dataset({ key: ['id'], batch: { output: 'u.b2' }, stream: { output: 'u.s2' }, reconcile: { columns: ['a'], ignore: ['flag'] } }),
  });
});
afterAll(async () => { await rt?.close(); await db?.drop(); });

const judge = async (name: string) => (await reconcileDataset(rt, name, { assumeSettled: true, samples: 10, store: false }))[0];

describe('a column reconcile.columns leaves out', () => {
  it('is drift when its two types cannot be equated (its values, equatable or not, are not compared)', async () => {
    const r = await judge('listed');
    expect(r.verdict).toBe('mismatch');
    expect(r.diff?.changed).toBe(0);
    expect(r.schemaDrift).toEqual([
      { column: 'flag', side: 'both', batchType: 'bool', streamType: 'int4', reason: 'types cannot be equated: no equality rule for this pair' },
    ]);
  });

  it('is accepted, as any drift, by listing it in reconcile.ignore', async () => {
    const r = await judge('ignored');
    expect(r.schemaDrift).toEqual([]);
    expect(r.verdict).toBe('match');
  });
});
