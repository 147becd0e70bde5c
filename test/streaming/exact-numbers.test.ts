/**
 * Numbers a JavaScript double cannot hold travel exactly from the source to the
 * stream output: 64-bit ids (snowflake-style) and long decimals.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { parseJson } from '../../streaming/decoder.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { ordersStreamDatabase, setStage, symmetricDifference, writeConfig } from './support.ts';

let db: TestDatabase;
beforeAll(async () => { db = await ordersStreamDatabase('exact_numbers'); });
afterAll(async () => { await db?.drop(); });

describe('exact numbers in streamed JSON', () => {
  it('keeps integers beyond 2^53 and long decimals as their exact digits, and plain numbers as numbers', () => {
    const r = parseJson('{"id": 9007199254740993, "n": -9223372036854775808, "d": 123456789012345678.25, "small": 42, "f": 2.5, "s": "12345678901234567890"}');
    expect(r).toEqual({ ok: true, value: { id: '9007199254740993', n: '-9223372036854775808', d: '123456789012345678.25', small: 42, f: 2.5, s: '12345678901234567890' } });
  });

  it('a 64-bit id above 2^53 reaches the stream output exact (was rounded to a neighbouring id)', { timeout: 60_000 }, async () => {
    await db.pool.query(`CREATE TABLE public.ids_src (id bigint PRIMARY KEY, ref bigint, amount numeric(30,10))`);
    await db.pool.query(`CREATE TABLE analytics.ids_out (id bigint PRIMARY KEY, ref bigint, amount numeric(30,10))`);
    await installCapture(db.pool, parseTableRef('public.ids_src')!);
    await setStage(db.pool, 'ids', 'shadow');
    await db.pool.query(`INSERT INTO public.ids_src VALUES (9007199254740993, -9223372036854775808, 12345678901234567890.1234567891), (1234567890123456789, 9223372036854775807, 0.0000000001), (7, 7, 7)`);
    const { file, dir } = writeConfig({
      database: { url: db.url },
      datasets: { ids: { key: ['id'], batch: { output: 'analytics.ids_batch' }, stream: { output: 'analytics.ids_out', source: { table: 'public.ids_src' } } } },
    });
    const r = await runCli(['--config', file, 'stream', '--until-idle'], { cwd: dir, timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(0);
    expect(await symmetricDifference(db.pool, 'public.ids_src', 'analytics.ids_out', ['id', 'ref', 'amount'])).toBe(0);
    const dead = await db.pool.query('SELECT reason FROM dualrun.dead_letters');
    expect(dead.rows).toEqual([]);
  });
});
