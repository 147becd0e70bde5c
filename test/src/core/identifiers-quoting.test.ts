/**
 * Names read from the catalog of a table nobody on the team wrote may be anything Postgres
 * allows ("Order Date", "ünï", "a""b", "select"): quoteIdent must quote every one of them so
 * Postgres reads back exactly that name, and refuse a name Postgres would silently truncate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { quoteIdent } from '../../../src/core/identifiers.ts';
import { compileConfig } from '../../../src/core/config/compile-config.ts';
import { createLogger } from '../../../src/core/logger.ts';
import { createRuntime } from '../../../src/core/runtime.ts';
import { promote } from '../../../src/core/cutover/stage-change.ts';
import { createTestDatabase, type TestDatabase } from '../../support/pg.ts';

let db: TestDatabase;
beforeAll(async () => { db = await createTestDatabase('quote'); });
afterAll(async () => { await db?.drop(); });

/** Any name Postgres can hold: no NUL, 1..63 bytes of UTF-8 (the database is UTF8). */
const pgName = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 })
  .map((s) => s.replace(/\0/g, ''))
  .filter((s) => s.length > 0 && Buffer.byteLength(s, 'utf8') <= 63);

describe('quoteIdent on names from the catalog', () => {
  it('any name Postgres allows round-trips through quoteIdent (names needing quotes crashed with "not a valid SQL identifier")', async () => {
    await fc.assert(fc.asyncProperty(fc.array(pgName, { minLength: 1, maxLength: 8 }), async (names) => {
      const r = await db.pool.query(`SELECT ${names.map((n, i) => `${i} AS ${quoteIdent(n)}`).join(', ')}`);
      expect(r.fields.map((f) => f.name)).toEqual(names);
    }), { numRuns: 60, seed: 20261201 });
  });

  it('a name longer than 63 bytes is refused instead of being cut short by Postgres', () => {
    expect(quoteIdent('a'.repeat(63))).toBe(`"${'a'.repeat(63)}"`);
    expect(() => quoteIdent('a'.repeat(64))).toThrow(/longer than 63 bytes/);
    // 32 two-byte letters: 32 characters, 64 bytes.
    expect(() => quoteIdent('ü'.repeat(32))).toThrow(/longer than 63 bytes/);
    expect(() => quoteIdent('')).toThrow(/not a valid SQL name/);
    expect(() => quoteIdent('a\0b')).toThrow(/not a valid SQL name/);
  });

  it('cutover builds the serving view over an adopted batch output whose columns need quotes (crashed with "not a valid SQL identifier")', async () => {
    await db.pool.query(`CREATE SCHEMA legacy;
      CREATE TABLE legacy.orders_batch (order_id int PRIMARY KEY, "Order Date" date, "ünï" text, "a""b" text, "select" int);
      INSERT INTO legacy.orders_batch VALUES (1, '2026-11-20', 'x', 'y', 2);`);
    const config = compileConfig({
      database: { url: db.url },
      datasets: { orders: { key: ['order_id'], batch: { output: 'legacy.orders_batch' }, stream: { output: 'legacy.orders_stream', source: { topic: 't', format: 'json' } }, cutover: { serve: 'legacy.orders' } } },
    }, { path: null });
    const rt = createRuntime({ config, log: createLogger('silent') });
    try {
      const change = await promote(rt, 'orders', { reason: 'test', actor: 'tester' });
      expect(change).toMatchObject({ from: 'batch', to: 'shadow' });
      const r = await db.pool.query(`SELECT * FROM legacy.orders`);
      expect(r.fields.map((f) => f.name)).toEqual(['order_id', 'Order Date', 'ünï', 'a"b', 'select']);
      expect(r.rows).toHaveLength(1);
    } finally {
      await rt.close();
    }
  });
});
