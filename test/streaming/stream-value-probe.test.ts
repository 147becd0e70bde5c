/**
 * Regressions found by probing the streaming path with values a careful data
 * engineer sends (one batch, real Postgres, both the unnest and the COPY merge):
 * - a jsonb value holding "\u0000" made the batch's dead-letter INSERT fail (the
 *   database's message quotes the escape, and removing `\u0000` from the error's
 *   JSON text left a dangling backslash): the stream stopped instead of writing an
 *   `apply` dead letter;
 * - bytes that are not UTF-8, and lone surrogate escapes (`"\ud800"`), were stored as
 *   U+FFFD;
 * - numbers a double cannot hold inside a json/jsonb value (`{"x": 12345678901234567890.5}`)
 *   were stored as JSON strings;
 * - a leap second (`23:59:60`) became the next minute, even the next day;
 * - interval text with more than 6 fractional digits was rounded;
 * - bytea: any text was accepted and stored as its characters' bytes (base64 "aGk="
 *   as 61 47 6b 3d, not "hi").
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { applyBatch, type SinkDeps } from '../../streaming/exactly-once-sink.ts';
import { mergeStatements } from '../../streaming/output-merge.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';
import { decodePlainJson } from '../../streaming/json-decoder.ts';
import { decodeDebezium } from '../../streaming/debezium-decoder.ts';
import type { SourceRecord } from '../../streaming/transport.ts';
import { setupToolkit } from './support.ts';

let db: TestDatabase;
let offset = 0;

async function sinkFor(table: string, dataset: string, copyMinRows?: number, debezium = false): Promise<SinkDeps> {
  const out = await prepareOutputTable(db.pool, parseTableRef(table)!, ['k']);
  return {
    db: db.pool, dataset, key: ['k'], source: `${dataset}-topic`, merge: mergeStatements(out), committed: new Map(), copyMinRows,
    decode: debezium ? decodeDebezium : decodePlainJson, validate: () => null, transform: { transform: (r) => r, stateKey: null, handlesDeletes: false },
  };
}
function rec(value: string | Buffer): SourceRecord {
  const at = offset++;
  return { position: { major: BigInt(at), minor: 0n }, key: null, value: typeof value === 'string' ? Buffer.from(value) : value, timestamp: new Date(), fallbackVersion: BigInt(at) };
}

/** [what broke, raw JSON after `"k":N,`, stored text of column `col` or the dead letter's stage] */
type Case = [string, string, string, { stored: string } | { dead: 'decode' | 'apply' }];
const CASES: Case[] = [
  ['a jsonb value with \\u0000 is an apply dead letter (the stream stopped)', '"jb":{"x":"\\u0000"}', 'jb', { dead: 'apply' }],
  ['a lone high surrogate escape is a decode dead letter (was U+FFFD)', '"t":"\\ud800"', 't', { dead: 'decode' }],
  ['a lone low surrogate escape is a decode dead letter (was U+FFFD)', '"t":"a\\uDC00b"', 't', { dead: 'decode' }],
  ['a lone surrogate inside a jsonb value is a decode dead letter', '"jb":{"a":["\\udbff"]}', 'jb', { dead: 'decode' }],
  ['a surrogate pair is a character', '"t":"\\ud83d\\ude00"', 't', { stored: '😀' }],
  ['a big number inside jsonb stays a number (was a string)', '"jb":{"x":12345678901234567890.5}', 'jb', { stored: '{"x": 12345678901234567890.5}' }],
  ['a far exponent inside jsonb stays a number (was the string "1e400")', '"jb":[1e400]', 'jb', { stored: `[1${'0'.repeat(400)}]` }],
  ['a 64-bit id inside json keeps its digits as a number', '"j":{"id":9007199254740993,"n":1}', 'j', { stored: '{"id":9007199254740993,"n":1}' }],
  ['a big number as a row field still reaches numeric exact', '"n":12345678901234567890.5', 'n', { stored: '12345678901234567890.5' }],
  ['a leap second is refused for time (was 24:00:00)', '"tm":"23:59:60"', 'tm', { dead: 'apply' }],
  ['a leap second is refused for timestamp (was the next day)', '"ts":"2024-02-29T23:59:60"', 'ts', { dead: 'apply' }],
  ['a leap second is refused for timestamptz', '"tz":"2016-12-31T23:59:60Z"', 'tz', { dead: 'apply' }],
  ['interval beyond microseconds is refused (PT0.0000001S was 00:00:00)', '"iv":"PT0.0000001S"', 'iv', { dead: 'apply' }],
  ['interval of microseconds is kept', '"iv":"PT0.000001S"', 'iv', { stored: '00:00:00.000001' }],
  ['bytea: base64 text is refused (was stored as its ASCII bytes)', '"by":"aGk="', 'by', { dead: 'apply' }],
  ['bytea: escape-format text is refused', '"by":"\\\\001"', 'by', { dead: 'apply' }],
  ['bytea: a number is refused', '"by":5', 'by', { dead: 'apply' }],
  ['bytea: hex text is stored', '"by":"\\\\x6869"', 'by', { stored: '\\x6869' }],
];

const DDL = (t: string) => `CREATE TABLE ${t} (k integer PRIMARY KEY, t text, n numeric, j json, jb jsonb, tm time, ts timestamp, tz timestamptz, iv interval, by bytea)`;

async function runCases(table: string, dataset: string, copyMinRows?: number) {
  await db.pool.query(DDL(table));
  const deps = await sinkFor(table, dataset, copyMinRows);
  // Every case twice among plain rows, so the batch is big enough for COPY when asked.
  const records: SourceRecord[] = [];
  CASES.forEach(([, raw], i) => records.push(rec(`{"k":${i + 1},${raw}}`)));
  for (let i = 0; i < 50; i++) records.push(rec(`{"k":${1000 + i},"t":"filler"}`));
  records.push(rec(Buffer.from([...Buffer.from('{"k":2000,"t":"'), 0xff, 0xfe, ...Buffer.from('"}')])));
  records.push(rec(Buffer.from([...Buffer.from('{"k":2001,"t":"'), 0xc0, 0xaf, ...Buffer.from('"}')])));
  const outcome = await applyBatch(deps, { partition: 0, records, headSeenAt: null, lagRecords: null });
  const dl = await db.pool.query<{ k: number; stage: string; reason: string; error: unknown }>(
    `SELECT substring(encode(payload, 'escape') from '"k":([0-9]+)')::int AS k, stage, reason, error FROM dualrun.dead_letters WHERE dataset = $1`, [dataset]);
  const rows = await db.pool.query(`SELECT k, t, n::text, j::text, jb::text, tm::text, ts::text, tz::text, iv::text, by::text FROM ${table}`);
  return { outcome, dead: new Map(dl.rows.map((r) => [r.k, r])), stored: new Map(rows.rows.map((r) => [r.k as number, r])) };
}

let unnest: Awaited<ReturnType<typeof runCases>>;
let copy: Awaited<ReturnType<typeof runCases>>;

beforeAll(async () => {
  db = await createTestDatabase('stream_probe');
  await setupToolkit(db.pool);
  await db.pool.query(`ALTER DATABASE "${db.name}" SET timezone = 'UTC'`);
  unnest = await runCases('public.v_unnest', 'probe_unnest');
  copy = await runCases('public.v_copy', 'probe_copy', 1);
});
afterAll(async () => { await db?.drop(); });

describe.each([['unnest', () => unnest], ['COPY', () => copy]] as const)('through %s', (_path, result) => {
  it('the batch commits and counts every record (no crash of the worker)', () => {
    const dead = CASES.filter((c) => 'dead' in c[3]).length + 2;
    expect(result().outcome).toMatchObject({ fresh: CASES.length + 52, applied: CASES.length + 52 - dead, dead });
  });
  it.each(CASES.map((c, i) => [...c, i + 1] as const))('%s', (_what, _raw, col, want, k) => {
    const r = result();
    if ('stored' in want) {
      expect(r.dead.get(k)).toBeUndefined();
      expect(r.stored.get(k)?.[col]).toBe(want.stored);
    } else {
      expect(r.stored.has(k)).toBe(false);
      expect(r.dead.get(k)?.stage).toBe(want.dead);
    }
  });
  it('bytes that are not UTF-8 are decode dead letters naming the byte, not text with U+FFFD', async () => {
    const dl = await db.pool.query<{ reason: string }>(
      `SELECT reason FROM dualrun.dead_letters WHERE dataset = $1 AND stage = 'decode' AND reason LIKE 'not valid UTF-8%' ORDER BY position`, [_path === 'unnest' ? 'probe_unnest' : 'probe_copy']);
    expect(dl.rows.map((r) => r.reason)).toEqual([expect.stringContaining('byte 0xff at offset 15'), expect.stringContaining('byte 0xc0 at offset 15')]);
    expect(result().stored.has(2000)).toBe(false);
  });
  it('the dead letter of the \\u0000 value keeps the database\'s reason and a readable error', () => {
    const d = result().dead.get(1)!;
    expect(d.reason).toMatch(/SQLSTATE 22P05/);
    expect(JSON.stringify(d.error)).toContain('u0000');
  });
});

describe('bytes from a transform', () => {
  it.each([['unnest', undefined], ['COPY', 1]] as const)('regression: a Buffer for a bytea column was stored as the JSON text of a Buffer (%s)', async (path, copyMinRows) => {
    const table = `public.bytes_${path.toLowerCase()}`;
    await db.pool.query(`CREATE TABLE ${table} (k integer PRIMARY KEY, by bytea)`);
    const deps = { ...(await sinkFor(table, `probe_bytes_${path}`, copyMinRows)), transform: { transform: (r: Record<string, unknown>) => ({ ...r, by: Buffer.from([0x68, 0x69, 0x00, 0xff]) }), stateKey: null, handlesDeletes: false } };
    const outcome = await applyBatch(deps, { partition: 0, records: [rec('{"k":1}'), rec('{"k":2}')], headSeenAt: null, lagRecords: null });
    expect(outcome).toMatchObject({ applied: 2, dead: 0 });
    expect((await db.pool.query(`SELECT k, by::text FROM ${table} ORDER BY k`)).rows).toEqual([{ k: 1, by: '\\x686900ff' }, { k: 2, by: '\\x686900ff' }]);
  });
});

describe('Debezium', () => {
  it('a big number inside a jsonb column of an after image stays a number; source.lsn as a big number still orders', async () => {
    await db.pool.query(`CREATE TABLE public.dbz (k integer PRIMARY KEY, jb jsonb, n numeric)`);
    const deps = await sinkFor('public.dbz', 'probe_dbz', undefined, true);
    const ev = (k: number, lsn: string, extra: string) => rec(`{"op":"c","before":null,"after":{"k":${k},${extra}},"source":{"lsn":${lsn},"ts_ms":1}}`);
    await applyBatch(deps, { partition: 0, records: [ev(1, '9007199254740995', '"jb":{"x":9007199254740993},"n":9007199254740993.25'), ev(1, '9007199254740994', '"jb":{"x":1},"n":1')], headSeenAt: null, lagRecords: null });
    const r = await db.pool.query(`SELECT jb::text, n::text, _dr_version::text AS v FROM public.dbz`);
    expect(r.rows).toEqual([{ jb: '{"x": 9007199254740993}', n: '9007199254740993.25', v: '9007199254740995' }]);
  });
});

describe('json values with exact numbers (property)', () => {
  it('any nesting of numbers a double cannot hold reaches jsonb as the same JSON value', { timeout: 60_000 }, async () => {
    await db.pool.query(`CREATE TABLE public.prop (k integer PRIMARY KEY, jb jsonb)`);
    const deps = await sinkFor('public.prop', 'probe_prop');
    const bigNumber = fc.tuple(fc.constantFrom('', '-'), fc.stringMatching(/^[1-9][0-9]{16,25}$/), fc.option(fc.stringMatching(/^[0-9]{1,10}[1-9]$/)))
      .map(([s, i, f]) => `${s}${i}${f === null ? '' : `.${f}`}`);
    const leaf = fc.oneof(bigNumber, fc.integer().map(String), fc.constant('"s"'), fc.constant('null'));
    const value = fc.letrec((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('v'), { maxLength: 3 }).map((a) => `[${a.join(',')}]`),
        fc.array(tie('v'), { maxLength: 3 }).map((a) => `{${a.map((x, i) => `"f${i}":${x}`).join(',')}}`)),
    })).v as fc.Arbitrary<string>;
    const texts = fc.sample(fc.array(value, { minLength: 1 }).map((a) => `[${a.join(',')}]`), 100);
    const records = texts.map((t, i) => rec(`{"k":${i},"jb":${t}}`));
    expect(await applyBatch(deps, { partition: 0, records, headSeenAt: null, lagRecords: null })).toMatchObject({ applied: texts.length, dead: 0 });
    const r = await db.pool.query<{ k: number; same: boolean }>(
      `SELECT p.k, p.jb = (t.text)::jsonb AS same FROM public.prop p JOIN unnest($1::text[]) WITH ORDINALITY AS t(text, n) ON t.n = p.k + 1`, [texts]);
    expect(r.rows.filter((x) => !x.same)).toEqual([]);
    expect(r.rows).toHaveLength(texts.length);
  });
});
