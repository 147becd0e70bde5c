/**
 * Reading an output's columns and indexes failed with the server's words alone when the role
 * could not reach it (`permission denied for schema e2`, a role's statement_timeout...), naming
 * neither the side nor the output. Such failures now say which side's output they concern, as the
 * scan's do; the database's own fields are kept.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
const role = `nosch_${process.pid}`;

beforeAll(async () => {
  db = await freshDatabase('shn');
  await db.pool.query(`
    CREATE SCHEMA e1; CREATE SCHEMA e2;
    CREATE TABLE e1.b (id int PRIMARY KEY, v int); INSERT INTO e1.b VALUES (1, 1);
    CREATE TABLE e2.s (id int PRIMARY KEY, v int); INSERT INTO e2.s VALUES (1, 1);
    CREATE ROLE "${role}" LOGIN PASSWORD 'pw-${role}';
    GRANT USAGE ON SCHEMA e1 TO "${role}"; GRANT SELECT ON e1.b TO "${role}";`);
});
afterAll(async () => {
  await db?.drop();
  const { serverUrl } = await import('../support/pg.ts');
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: serverUrl() });
  await c.connect();
  await c.query(`DROP ROLE IF EXISTS "${role}"`).finally(() => c.end());
});

describe('a side whose output the role cannot reach', () => {
  it('no USAGE on the stream output\'s schema names the stream output, not only the schema', async () => {
    const u = new URL(db.url);
    u.username = role;
    u.password = `pw-${role}`;
    const rt = runtimeFor(db, { d: dataset({ key: ['id'], batch: { output: 'e1.b', database: u.toString() }, stream: { output: 'e2.s', database: u.toString() } }) });
    try {
      const [r] = await reconcileDataset(rt, 'd', { assumeSettled: true, samples: 5, store: false });
      expect(r.verdict).toBe('error');
      expect(r.error?.message).toBe('stream.output e2.s: permission denied for schema e2');
      expect(r.error?.db?.code).toBe('42501');
    } finally { await rt.close(); }
  });
});
