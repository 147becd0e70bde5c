/**
 * A value's text form was `v::text`, which takes a cast to text the user created for their type
 * (`CREATE CAST (mood AS text) WITH FUNCTION mood_label(mood)`, an address composite printed as its
 * label without the zip code) instead of the type's output, which is what readers are served: every
 * enum value printing as one label, every address with its street alike, was a `match` on tables
 * that differ. A type with a cast to text of the user's making is now printed by its output function.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, found, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
let other: TestDatabase;
const SETUP = `
  CREATE SCHEMA u;
  CREATE TYPE u.mood AS ENUM ('sad', 'ok', 'happy');
  CREATE FUNCTION u.mood_label(u.mood) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT 'mood' $$;
  CREATE CAST (u.mood AS text) WITH FUNCTION u.mood_label(u.mood);
  CREATE TYPE u.address AS (street text, zip text);
  CREATE FUNCTION u.address_label(u.address) RETURNS text LANGUAGE sql IMMUTABLE AS $$ SELECT ($1).street $$;
  CREATE CAST (u.address AS text) WITH FUNCTION u.address_label(u.address);
  CREATE TABLE u.b (id int PRIMARY KEY, m u.mood, a u.address, ms u.mood[]);
  CREATE TABLE u.s (id int PRIMARY KEY, m u.mood, a u.address, ms u.mood[]);
  INSERT INTO u.b VALUES (1, 'sad', ROW('Main St 1', '10115'), '{sad}'), (2, 'ok', ROW('Elm St 2', '20095'), '{ok}'), (3, NULL, NULL, NULL);
  INSERT INTO u.s VALUES (1, 'happy', ROW('Main St 1', '99999'), '{sad}'), (2, 'ok', ROW('Elm St 2', '20095'), '{ok}'), (3, NULL, NULL, NULL);`;
beforeAll(async () => {
  [db, other] = await Promise.all([freshDatabase('tcast'), freshDatabase('tcastx')]);
  await Promise.all([db.pool.query(SETUP), other.pool.query(SETUP)]);
});
afterAll(async () => { await db?.drop(); await other?.drop(); });

const judge = async (batchDb?: string) => {
  const rt = runtimeFor(db, { x: dataset({ key: ['id'], batch: { output: 'u.b', ...(batchDb ? { database: batchDb } : {}) }, stream: { output: 'u.s' } }) });
  try {
    const [r] = await reconcileDataset(rt, 'x', { assumeSettled: true, samples: 10, store: false });
    return r;
  } finally { await rt.close(); }
};

describe('a cast to text of the user\'s never stands in for a type\'s output', () => {
  it('an enum and a composite whose casts print every value alike are compared by their output (was a match)', async () => {
    for (const r of [await judge(), await judge(other.url)]) {
      expect(r.error).toBeUndefined();
      expect(r.verdict).toBe('mismatch');
      expect(found(r)).toEqual(['changed {"id":1} a,m']);
      const s = r.diff!.samples[0];
      expect(s.columns!.m).toEqual({ batch: 'sad', stream: 'happy' });
      expect(s.columns!.a).toEqual({ batch: '("Main St 1",10115)', stream: '("Main St 1",99999)' });
    }
  });
});
