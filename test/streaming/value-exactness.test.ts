/**
 * Values reach the output exactly or become `apply` dead letters with the reason
 * (issues 16.2 and 11.6): no cast may truncate, round or reinterpret a value, and
 * Postgres input words (`yesterday`, `now`, `epoch`, `infinity`, `NaN`, `yes`, ...)
 * are never read as data. One batch carries a good and a bad record per kind; the
 * good ones must be stored unchanged, the bad ones dead-lettered.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/pg.ts';
import { parseTableRef } from '../../src/core/identifiers.ts';
import { applyBatch, type SinkDeps } from '../../streaming/exactly-once-sink.ts';
import { mergeStatements } from '../../streaming/output-merge.ts';
import { prepareOutputTable } from '../../streaming/output-table.ts';
import { decodePlainJson } from '../../streaming/json-decoder.ts';
import type { SourceRecord } from '../../streaming/transport.ts';
import { setupToolkit } from './support.ts';

let db: TestDatabase;
let offset = 0;

const COLUMNS = `k integer PRIMARY KEY, vc varchar(5), ch char(5), num numeric(12,2), ts0 timestamp(0), tstz3 timestamptz(3), t0 time(0),
  iv_day interval day, b5 bit(5), vb3 varbit(3), i2 smallint, i4 integer, ts timestamp, tstz timestamptz, d date, t time, f8 float8, ok boolean, iv interval`;

async function sinkFor(table: string, dataset: string): Promise<SinkDeps> {
  const out = await prepareOutputTable(db.pool, parseTableRef(table)!, ['k']);
  return {
    db: db.pool, dataset, key: ['k'], source: `${dataset}-topic`, merge: mergeStatements(out), committed: new Map(),
    decode: decodePlainJson, validate: () => null, transform: { transform: (r) => r, stateKey: null, handlesDeletes: false },
  };
}
function rec(row: Record<string, unknown>): SourceRecord {
  const at = offset++;
  return { position: { major: BigInt(at), minor: 0n }, key: null, value: Buffer.from(JSON.stringify(row)), timestamp: new Date(), fallbackVersion: BigInt(at) };
}

/** [what broke, column, value that must be refused, value that must be stored, its stored text, SQLSTATE of the refusal or null] */
const CHANGED: [string, string, unknown, unknown, string, string | null][] = [
  ['a value too long for varchar(5) is no longer cut to 5 characters', 'vc', 'abcdef', 'abcde', 'abcde', '22001'],
  ['trailing spaces beyond varchar(5) are no longer cut off', 'vc', 'abcd  ', 'abc  ', 'abc  ', '22001'],
  ['a value too long for char(5) is no longer cut', 'ch', 'abcdef', 'ab', 'ab   ', '22001'],
  ['numeric(12,2) no longer rounds 1.005 to 1.01', 'num', '1.005', '1.5', '1.50', '22000'],
  ['numeric(12,2) no longer rounds a JSON number', 'num', 2.345, 2.3, '2.30', '22000'],
  ['a number too large for numeric(12,2) is refused', 'num', '12345678901.00', '1234567890.12', '1234567890.12', '22003'],
  ['timestamp(0) no longer rounds fractional seconds', 'ts0', '2026-11-20T10:00:00.5', '2026-11-20T10:00:01', '2026-11-20 10:00:01', '22000'],
  ['timestamptz(3) no longer rounds microseconds', 'tstz3', '2026-11-20T10:00:00.1234Z', '2026-11-20T10:00:00.123Z', '2026-11-20 10:00:00.123+00', '22000'],
  ['time(0) no longer rounds', 't0', '10:00:00.5', '10:00:01', '10:00:01', '22000'],
  ['interval day no longer drops the hours', 'iv_day', '1 day 02:00:00', '3 days', '3 days', '22000'],
  ['bit(5) no longer pads a shorter bit string', 'b5', '101', '10100', '10100', '22001'],
  ['varbit(3) no longer truncates', 'vb3', '1010', '101', '101', '22001'],
  ['smallint overflow is refused', 'i2', 40000, 32767, '32767', '22003'],
  ['integer overflow is refused', 'i4', '3000000000', '2147483647', '2147483647', '22003'],
];

/** [column, Postgres input word that must be refused] */
const WORDS: [string, unknown][] = [
  ['tstz', 'yesterday'], ['tstz', 'now'], ['tstz', 'today'], ['tstz', 'tomorrow'], ['tstz', 'epoch'], ['tstz', 'infinity'], ['tstz', '-infinity'],
  ['ts', 'now'], ['ts', 'allballs'], ['d', 'epoch'], ['d', 'today'], ['d', 'infinity'], ['t', 'allballs'], ['t', 'now'],
  ['num', 'NaN'], ['num', 'Infinity'], ['num', '-Infinity'], ['f8', 'NaN'], ['f8', 'inf'], ['f8', '-Infinity'],
  ['ok', 'yes'], ['ok', 'on'], ['ok', '1'], ['iv', 'infinity'],
  ['tstz', 'Nov 20 2026'], ['d', 20_000], ['ts', '2026-11-20T10:00:00+05:00'],
];

/** [column, accepted value, stored text] */
const ACCEPTED: [string, unknown, string][] = [
  ['d', '2026-11-20', '2026-11-20'], ['tstz', '2026-11-20T10:00:00Z', '2026-11-20 10:00:00+00'],
  ['tstz', '2026-11-20 12:00:00.123456+02:00', '2026-11-20 10:00:00.123456+00'], ['ts', '2026-11-20T10:00', '2026-11-20 10:00:00'],
  ['t', '10:00:00.25', '10:00:00.25'], ['num', '1e3', '1000.00'], ['f8', 1.5, '1.5'], ['ok', true, 'true'], ['ok', 'f', 'false'], ['iv', 'P1DT2H', '1 day 02:00:00'],
];

let deadByKey: Map<number, { reason: string; code: string | null; stage: string }>;
let stored: Map<number, Record<string, string | null>>;
let outcome: Awaited<ReturnType<typeof applyBatch>>;

beforeAll(async () => {
  db = await createTestDatabase('stream_exact');
  await setupToolkit(db.pool);
  await db.pool.query(`SET TIME ZONE 'UTC'; ALTER DATABASE "${db.name}" SET timezone = 'UTC'`);
  await db.pool.query(`CREATE TABLE public.v (${COLUMNS})`);
  const deps = await sinkFor('public.v', 'exact');
  const records: SourceRecord[] = [];
  let k = 0;
  for (const [, col, bad, good] of CHANGED) { records.push(rec({ k: ++k, [col]: good }), rec({ k: ++k, [col]: bad })); }
  for (const [col, word] of WORDS) records.push(rec({ k: ++k, [col]: word }));
  for (const [col, value] of ACCEPTED) records.push(rec({ k: ++k, [col]: value }));
  outcome = await applyBatch(deps, { partition: 0, records, headSeenAt: null, lagRecords: null });
  const dl = await db.pool.query(`SELECT (convert_from(payload, 'UTF8')::jsonb->>'k')::int AS k, reason, error->>'code' AS code, stage FROM dualrun.dead_letters WHERE dataset = 'exact'`);
  deadByKey = new Map(dl.rows.map((r) => [r.k, r]));
  const rows = await db.pool.query(`SELECT k, to_jsonb(v) - '_dr_version' - '_dr_source_ts' AS j FROM (SELECT k, vc, ch, num::text, ts0::text, tstz3::text, t0::text, iv_day::text, b5::text, vb3::text,
      i2::text, i4::text, ts::text, tstz::text, d::text, t::text, f8::text, ok::text, iv::text, _dr_version, _dr_source_ts FROM public.v) v`);
  stored = new Map(rows.rows.map((r) => [r.k, r.j]));
});
afterAll(async () => { await db?.drop(); });

describe('values are stored exactly or dead-lettered (no silent truncation or rounding)', () => {
  it('the batch counts every refused record as dead and the rest as applied', () => {
    expect(outcome).toMatchObject({ applied: CHANGED.length + ACCEPTED.length, dead: CHANGED.length + WORDS.length });
  });
  it.each(CHANGED.map((c, i) => [...c, i] as const))('%s', (_what, col, bad, _good, text, code, i) => {
    const goodKey = 2 * i + 1;
    expect(stored.get(goodKey)?.[col]).toBe(text);
    expect(stored.has(goodKey + 1)).toBe(false);
    const dead = deadByKey.get(goodKey + 1);
    expect(dead).toMatchObject({ stage: 'apply', code });
    expect(dead!.reason).toMatch(/SQLSTATE/);
    // dualrun's own refusal names the value and what Postgres would have made of it.
    if (/would be stored as/.test(dead!.reason)) expect(dead!.reason).toMatch(new RegExp(`^value \\S.* for column ${col} would be stored as .* by type`));
    else expect(dead!.reason).toMatch(/too long|overflow|out of range/);
  });
});

describe('Postgres input words are data errors, never dates, numbers or booleans', () => {
  it.each(WORDS.map((w, i) => [...w, i] as const))('column %s: %j is a dead letter, not applied', (col, word, i) => {
    const key = 2 * CHANGED.length + i + 1;
    expect(stored.has(key)).toBe(false);
    const dead = deadByKey.get(key);
    expect(dead?.stage).toBe('apply');
    expect(dead!.reason).toContain(`column ${col}`);
    expect(dead!.reason).toContain(JSON.stringify(String(word)));
  });
  it.each(ACCEPTED.map((a, i) => [...a, i] as const))('column %s accepts %j', (col, _value, text, i) => {
    const key = 2 * CHANGED.length + WORDS.length + i + 1;
    expect(deadByKey.get(key)).toBeUndefined();
    expect(stored.get(key)?.[col]).toBe(text);
  });
});

describe('tables with array columns (the jsonb path)', () => {
  it('numeric(12,2) no longer rounds, and a too-long varchar is refused, on the jsonb path too', async () => {
    await db.pool.query(`CREATE TABLE public.arr (k integer PRIMARY KEY, tags text[], num numeric(12,2), vc varchar(5))`);
    const deps = await sinkFor('public.arr', 'exact_arr');
    const o = await applyBatch(deps, { partition: 0, headSeenAt: null, lagRecords: null, records: [
      rec({ k: 1, tags: ['a'], num: '1.25', vc: 'abc' }), rec({ k: 2, tags: ['b'], num: '1.005', vc: 'abc' }),
      rec({ k: 3, tags: [], num: '1.00', vc: 'abcdef' }), rec({ k: 4, num: 'NaN' }),
    ] });
    expect(o).toMatchObject({ applied: 1, dead: 3 });
    expect((await db.pool.query('SELECT k, tags, num::text, vc FROM public.arr')).rows).toEqual([{ k: 1, tags: ['a'], num: '1.25', vc: 'abc' }]);
  });
});
