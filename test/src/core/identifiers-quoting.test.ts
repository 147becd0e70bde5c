/**
 * Names read from the catalog of a table nobody on the team wrote may be anything Postgres
 * allows ("Order Date", "ünï", "a""b", "select"): quoteIdent must quote every one of them so
 * Postgres reads back exactly that name, and refuse a name Postgres would silently truncate.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { boundedName, parseTableRef, quoteIdent, quoteLiteral } from '../../../src/core/identifiers.ts';
import { prepareOutputTable } from '../../../streaming/output-table.ts';
import { rebuildDataset } from '../../../streaming/replay.ts';
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

describe('names in SQL: any catalog name quoted, derived names within 63 bytes', () => {
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

  it('names derived from two long names sharing a prefix stay two names within 63 bytes (cut at 63 they became one)', () => {
    fc.assert(fc.property(fc.string({ minLength: 0, maxLength: 80 }), fc.string({ minLength: 1, maxLength: 10 }), fc.string({ minLength: 1, maxLength: 10 }), (prefix, a, b) => {
      fc.pre(a !== b);
      const [x, y] = [boundedName(prefix + a), boundedName(prefix + b)];
      expect(Buffer.byteLength(x, 'utf8')).toBeLessThanOrEqual(63);
      expect(x).not.toBe(y);
      if (Buffer.byteLength(prefix + a, 'utf8') <= 63) expect(x).toBe(prefix + a);
    }), { numRuns: 300, seed: 20261201 });
    const config = compileConfig({ database: { url: db.url }, datasets: Object.fromEntries(['1', '2'].map((n) => [`d${'x'.repeat(60)}${n}`, { key: ['id'], batch: { output: `public.b${n}` }, stream: { output: `public.s${n}`, source: { topic: 't', format: 'json' } } }])) }, { path: null });
    const [one, two] = Object.values(config.datasets).map((d) => rebuildDataset(d).stream.output.text);
    expect(one).not.toBe(two);
  });

  it('two stream outputs whose names share their first 50 characters each get their unique key index (the second had none)', async () => {
    const long = 'orders_' + 'x'.repeat(43);
    await db.pool.query(`CREATE TABLE public.${long}_eu (id int, v text); CREATE TABLE public.${long}_us (id int, v text)`);
    for (const t of [`public.${long}_eu`, `public.${long}_us`]) await prepareOutputTable(db.pool, parseTableRef(t)!, ['id']);
    const r = await db.pool.query(`SELECT c.relname::text AS t, count(i.indexrelid)::int AS n FROM pg_class c LEFT JOIN pg_index i ON i.indrelid = c.oid AND i.indisunique
      WHERE c.relname LIKE 'orders_xxx%' AND c.relkind = 'r' GROUP BY 1 ORDER BY 1`);
    expect(r.rows).toEqual([{ t: `${long}_eu`, n: 1 }, { t: `${long}_us`, n: 1 }]);
  });

  it('a literal with a backslash reads back the same under standard_conforming_strings off (a\\b held a backspace)', async () => {
    const c = await db.pool.connect();
    try {
      for (const scs of ['on', 'off']) {
        await c.query(`SET standard_conforming_strings = ${scs}`);
        await fc.assert(fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 12 }).map((s) => s.replace(/\0/g, '')), async (text) => {
          const r = await c.query<{ v: string }>(`SELECT ${quoteLiteral(text)}::text AS v`);
          expect(r.rows[0].v).toBe(text);
        }), { numRuns: 100, seed: 20261201, examples: [['a\\b'], ["it's \\"], ['\\\'']] });
      }
    } finally {
      await c.query('RESET standard_conforming_strings');
      c.release();
    }
  });
});
