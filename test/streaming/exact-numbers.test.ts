/**
 * Numbers a JavaScript double cannot hold travel exactly from the source to the
 * stream output: 64-bit ids (snowflake-style) and long decimals.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestDatabase } from '../support/pg.ts';
import { runCli } from '../support/cli.ts';
import { installCapture } from '../../streaming/capture/capture-triggers.ts';
import { exactFields, parseJson } from '../../streaming/decoder.ts';
import { ExactNumber } from '../../streaming/exact-number.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { ordersStreamDatabase, setStage, symmetricDifference, writeConfig } from './support.ts';

let db: TestDatabase;
beforeAll(async () => { db = await ordersStreamDatabase('exact_numbers'); });
afterAll(async () => { await db?.drop(); });

describe('exact numbers in streamed JSON', () => {
  it('keeps integers beyond 2^53 and long decimals as their exact digits, and plain numbers as numbers', () => {
    const r = parseJson('{"id": 9007199254740993, "n": -9223372036854775808, "d": 123456789012345678.25, "small": 42, "f": 2.5, "s": "12345678901234567890"}');
    // A row's own fields as their text (what the decoders hand on); nested ones stay ExactNumbers (json/jsonb values).
    expect(r.ok && exactFields(r.value as Record<string, unknown>)).toEqual({ id: '9007199254740993', n: '-9223372036854775808', d: '123456789012345678.25', small: 42, f: 2.5, s: '12345678901234567890' });
  });

  it('regression: a decimal with 16+ significant digits on both sides of its point, or a far exponent, was rounded by JSON.parse (1234567.1234567891 became …892, 1e-400 became 0)', () => {
    const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^[0-9]{${min},${max}}$`));
    const number = fc.record({
      sign: fc.constantFrom('', '-'), int: fc.oneof(fc.constant('0'), fc.tuple(fc.stringMatching(/^[1-9]$/), digits(0, 20)).map(([a, b]) => a + b)),
      frac: fc.option(digits(1, 20)), exp: fc.option(fc.tuple(fc.constantFrom('e', 'E', 'e+', 'e-', 'E-'), fc.integer({ min: 0, max: 400 }))),
    }).map((n) => `${n.sign}${n.int}${n.frac === null ? '' : `.${n.frac}`}${n.exp === null ? '' : `${n.exp[0]}${n.exp[1]}`}`);
    fc.assert(fc.property(number, fc.boolean(), (text, nested) => {
      const r = parseJson(Buffer.from(nested ? `{"a": [1, {"n": ${text}}], "s": "x"}` : `{"n": ${text}}`));
      expect(r.ok).toBe(true);
      const raw = (nested ? ((r as { value: { a: [number, { n: unknown }] } }).value.a[1].n) : (r as { value: { n: unknown } }).value.n);
      const got = raw instanceof ExactNumber ? raw.text : raw;
      // Either the exact text, or a number whose text (what reaches Postgres) has the same decimal value.
      if (typeof got === 'string') expect(got).toBe(text);
      else expect(decimalValue(String(got))).toBe(decimalValue(text));
    }), { numRuns: 3000 });
    expect(parseJson('{"n": 1234567.1234567891, "e": 1e-400}')).toEqual({ ok: true, exact: true, unavailable: false, value: { n: new ExactNumber('1234567.1234567891'), e: new ExactNumber('1e-400') } });
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

/** A decimal text's exact value in one canonical form: sign, significant digits, exponent ("0" for zero). */
function decimalValue(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const frac = m[3] ?? '';
  let digits = (m[2] + frac).replace(/^0+/, '');
  let exp = Number(m[4] ?? 0) - frac.length;
  if (digits === '') return '0';
  const trimmed = digits.replace(/0+$/, '');
  exp += digits.length - trimmed.length;
  digits = trimmed;
  return `${m[1]}${digits}e${exp}`;
}
