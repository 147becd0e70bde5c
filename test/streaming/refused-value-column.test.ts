/**
 * A dead letter must say which field was wrong. When Postgres itself refused a value
 * (an invalid number, an impossible date, text that is not JSON, a NUL byte), the reason was
 * Postgres's message alone, `invalid input syntax for type integer: "x"`, which names no
 * column: the values travel as one array (or COPY column) per column, so the error has no
 * column to tell. The record that fails alone is now checked value by value
 * (pg_input_is_valid, once per dead letter, never on the way of good records) and the
 * reason and `error.column` name the column and its type, on both paths.
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
  db = await createTestDatabase('refused_column');
  await setupToolkit(db.pool);
  await db.pool.query(`CREATE TYPE mood AS ENUM ('ok', 'sad')`);
  sinkPool = createPool(db.url, { max: COLLECTING_DEFAULTS.maxOpen });
});
afterAll(async () => { await sinkPool?.end(); await db?.drop(); });

const DDL = 'k integer PRIMARY KEY, n integer, d date, j json, t text, u uuid, m mood';
/** [column, value Postgres refuses, its type as named] */
const BAD: [string, unknown, string][] = [
  ['n', 'x', 'integer'], ['n', 3_000_000_000, 'integer'], ['d', '2026-02-30', 'date'], ['j', '{not json', 'json'],
  ['t', 'a\u0000b', 'text'], ['u', 'not-a-uuid', 'uuid'], ['m', 'happy', 'mood'],
];

describe('a value Postgres refuses', () => {
  it('is a dead letter whose reason names the column and its type, on both paths', async () => {
    const values = [JSON.stringify({ k: 100, n: 1, t: 'fine' }), ...BAD.map(([col, v], i) => JSON.stringify({ k: i, n: 7, t: 'ok', [col]: v }))];
    const r = await throughBothPaths(db.pool, sinkPool, DDL, ['k'], recordsOf(values));
    for (const path of [r.batch, r.collect]) {
      expect(path.dead.map((d) => d.p)).toEqual(BAD.map((_, i) => i + 1));
      path.dead.forEach((d, i) => expect(d.reason).toMatch(new RegExp(`^column ${BAD[i][0]} \\(${BAD[i][2].replace(/[()]/g, '\\$&')}\\): .+ \\[SQLSTATE 22`)));
      expect(path.rows.map((x) => JSON.parse(x).k)).toEqual([100]);
    }
    const cols = await db.pool.query<{ c: string }>(`SELECT error->>'column' AS c FROM dualrun.dead_letters WHERE dataset LIKE '%batch' ORDER BY position`);
    expect(cols.rows.map((x) => x.c)).toEqual(BAD.map(([c]) => c));
  });
});
