/**
 * A SQL_ASCII database holds bytes in no encoding. Compared byte for byte they differ
 * (0xe9 vs 0xe8), but such bytes cannot reach the reconciler as UTF-8 text: Postgres
 * refuses to send them (`invalid byte sequence for encoding "UTF8"`). The window is an
 * error, never a match, and the error now says it happened in the drill-down of which
 * outputs (it gave the server's words alone, naming neither table).
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPool, type Pool } from '../../src/core/db/connect.ts';
import { serverUrl, urlForDatabase, type TestDatabase } from '../support/pg.ts';
import { reconcileDataset } from '../../reconcile/reconcile-dataset.ts';
import { dataset, freshDatabase, runtimeFor } from './support.ts';

let db: TestDatabase;
const names = [`sqlascii_${process.pid}_a`, `sqlascii_${process.pid}_b`];
let pools: Pool[] = [];

async function admin<T>(f: (c: pg.Client) => Promise<T>): Promise<T> {
  const c = new pg.Client({ connectionString: serverUrl() });
  await c.connect();
  try { return await f(c); } finally { await c.end(); }
}

beforeAll(async () => {
  db = await freshDatabase('sqla');
  await admin(async (c) => { for (const n of names) await c.query(`CREATE DATABASE ${n} WITH ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0`); });
  pools = names.map((n) => createPool(urlForDatabase(n)));
  for (const [i, p] of pools.entries()) {
    await p.query(`CREATE TABLE b (id int PRIMARY KEY, v text); CREATE TABLE s (LIKE b INCLUDING ALL);
      INSERT INTO b SELECT g, 'same' FROM generate_series(1, 5) g; INSERT INTO s SELECT g, 'same' FROM generate_series(1, 5) g;
      UPDATE b SET v = convert_from('\\xe9'::bytea, 'SQL_ASCII') WHERE id = 3; UPDATE s SET v = convert_from('\\x${i === 0 ? 'e8' : 'e9'}'::bytea, 'SQL_ASCII') WHERE id = 3;`);
  }
});
afterAll(async () => {
  for (const p of pools) await p.end();
  await db?.drop();
  await admin(async (c) => { for (const n of names) await c.query(`DROP DATABASE IF EXISTS ${n} WITH (FORCE)`); });
});

describe('a SQL_ASCII database holding bytes that are not UTF-8', () => {
  for (const placement of ['one database', 'two databases'] as const) {
    it(`${placement}: 0xe9 against 0xe8 is an error naming both outputs, not a match`, async () => {
      const batchDb = placement === 'one database' ? names[0] : names[1];
      const rt = runtimeFor(db, { d: dataset({ key: ['id'], batch: { output: 'public.b', database: urlForDatabase(batchDb) }, stream: { output: 'public.s', database: urlForDatabase(names[0]) } }) });
      try {
        const [r] = await reconcileDataset(rt, 'd', { assumeSettled: true, samples: 10, store: false });
        expect(r.verdict).toBe('error');
        expect(r.error?.db?.code).toBe('22021');
        expect(r.error?.message).toMatch(/^drill-down of batch\.output public\.b and stream\.output public\.s: invalid byte sequence for encoding "UTF8"/);
      } finally { await rt.close(); }
    });
  }
});
