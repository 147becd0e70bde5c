/** Unit tests of the reconciler's pure logic: SQL builders, classification, checksums, exit codes, formats. */
import { describe, expect, it } from 'vitest';
import { jsonUnfitBeforeSql } from '../../reconcile/value-codec.ts';
import {
  bucketListSql, bucketSql, canonicalKeySql, canonicalRecordSql, canonicalValueSql, keyJsonSql, rowHashSql, windowPredicateSql,
} from '../../reconcile/canonical-row-sql.ts';
import { classifyPair, isInFlight, withinTolerance, type KeyPair } from '../../reconcile/classify-difference.ts';
import { checksumHex, mismatchedBuckets, rowsInBuckets } from '../../reconcile/window-fingerprint.ts';
import { exitCodeFor, worstStatus } from '../../reconcile/verdict-exit-code.ts';
import { nextPrime } from '../../reconcile/dataset-context.ts';
import { DiffAccumulator } from '../../reconcile/diff-accumulator.ts';
import { escapeHtml, trendCells } from '../../reconcile/html-report.ts';
import { markSuperseded, standing, type NightVerdict } from '../../reconcile/nightly-verdicts.ts';
import { mdEscape } from '../../reconcile/result-text.ts';
import { windowBounds } from '../../reconcile/window-bounds.ts';
import { parseWindow } from '../../src/core/windows.ts';

const col = (name: string, type: string) => ({ name, type });

describe('canonical row SQL', () => {
  it('normalises by type: numeric scale, instants in the session zone, json as jsonb unless it holds \\u0000', () => {
    expect(canonicalValueSql(col('amount', 'numeric'))).toBe('pg_catalog.trim_scale(("amount")::numeric)::text');
    expect(canonicalValueSql(col('at', 'timestamp'))).toBe('"at"::text');
    expect(canonicalValueSql({ ...col('at', 'timestamp'), codec: { k: 'instant' } })).toBe(`CASE WHEN ("at" < '4714-11-25 00:00 BC'::timestamp OR "at" > '294276-12-30 00:00'::timestamp) AND pg_catalog.isfinite("at") THEN '~' || "at"::text ELSE "at"::timestamptz::text END`);
    expect(canonicalValueSql(col('at', 'timestamptz'))).toBe('"at"::text');
    expect(canonicalValueSql(col('doc', 'json'))).toBe(`CASE WHEN ((strpos("doc"::text, '\\u') > 0 AND ${jsonUnfitBeforeSql('"doc"::text')}) OR "doc"::text ~ '[0-9][eE][+-]?[0-9]{5}') THEN '~' || "doc"::text ELSE "doc"::jsonb::text END`);
    expect(canonicalValueSql(col('n', 'int4'), 'b')).toBe('b."n"::text');
  });

  it('joins values with the record text format (unambiguous), key included in the row hash', () => {
    expect(canonicalRecordSql([col('a', 'text'), col('b', 'text')])).toBe('ROW("a"::text, "b"::text)::text');
    expect(rowHashSql([col('id', 'int8')], [col('a', 'text')])).toBe('pg_catalog.hashtextextended(ROW("id"::text, "a"::text)::text, 0::int8)');
  });

  it('every key is the record of its canonical values, whatever its types', () => {
    expect(canonicalKeySql([col('id', 'int8')])).toBe('ROW("id"::text)::text');
    expect(canonicalKeySql([col('id', 'uuid')])).toBe('ROW("id"::text)::text');
    expect(canonicalKeySql([col('k', 'text')])).toBe('ROW("k"::text)::text');
    expect(canonicalKeySql([col('r', 'text'), col('id', 'int4')])).toBe('ROW("r"::text, "id"::text)::text');
  });

  it('buckets: integer keys by modulo, others by hash; always in [0, count)', () => {
    expect(bucketSql([col('id', 'int8')], { count: 101, mode: 'integer' })).toBe('coalesce(pg_catalog.abs("id"::int8 % 101::int8), 0)');
    expect(bucketSql([col('k', 'text')], { count: 7, mode: 'hash' })).toBe('((pg_catalog.hashtextextended(ROW("k"::text)::text, 1::int8) & 9223372036854775807::int8) % 7::int8)');
    expect(() => bucketSql([col('id', 'int8')], { count: 0, mode: 'hash' })).toThrow();
    expect(bucketListSql([1, 5])).toBe(`'{1,5}'::bigint[]`);
    expect(() => bucketListSql([1.5])).toThrow();
  });

  it('quotes every identifier, whatever the catalog calls it (embedded quotes doubled)', () => {
    expect(keyJsonSql([col('order_id', 'int8'), col('Region', 'text')])).toBe(`jsonb_build_object('order_id', "order_id", 'Region', "Region")`);
    expect(canonicalValueSql(col('a"; DROP TABLE x; --', 'text'))).toBe('"a""; DROP TABLE x; --"::text');
    expect(canonicalValueSql(col('Order Date', 'date'))).toBe('"Order Date"::text');
  });

  it('window predicates are typed to the column', () => {
    expect(windowPredicateSql(col('d', 'date'), 1, 2)).toBe('"d" >= $1::date AND "d" < $2::date');
    expect(windowPredicateSql(col('t', 'timestamptz'), 3, 4)).toBe('"t" >= $3::timestamptz AND "t" < $4::timestamptz');
    expect(windowPredicateSql(col('w', 'timestamp'), 1, 2)).toBe('"w" >= $1::timestamp::timestamptz AND "w" < $2::timestamp::timestamptz');
    expect(windowPredicateSql(null, 1, 2)).toBe('true');
    const w = parseWindow('2026-11-20', 'day', 'Europe/Berlin');
    expect(windowBounds(w, col('d', 'date'), 'Europe/Berlin')).toEqual(['2026-11-20', '2026-11-21']);
    expect(windowBounds(w, col('t', 'timestamp'), 'Europe/Berlin')).toEqual(['2026-11-20 00:00:00', '2026-11-21 00:00:00']);
    expect(windowBounds(w, col('t', 'timestamptz'), 'Europe/Berlin')).toEqual(['2026-11-19T23:00:00.000Z', '2026-11-20T23:00:00.000Z']);
  });
});

describe('classification', () => {
  const pair = (batch: KeyPair['batch'], stream: KeyPair['stream']): KeyPair => ({ k: '1', key: '{"id": 1}', batch, stream });
  const cols = ['amount', 'status'];

  it('kinds: missing on either side, changed with only the differing columns, duplicates first', () => {
    expect(classifyPair(pair({ n: 1, values: ['1', 'a'] }, null), cols, {})?.kind).toBe('missing_in_stream');
    expect(classifyPair(pair(null, { n: 1, values: ['1', 'a'] }), cols, {})?.kind).toBe('missing_in_batch');
    expect(classifyPair(pair({ n: 1, values: ['1', 'a'] }, { n: 1, values: ['1', 'b'] }), cols, {})).toMatchObject({ kind: 'changed', columns: { status: { batch: 'a', stream: 'b' } } });
    expect(classifyPair(pair({ n: 2, values: ['1', 'a'] }, { n: 1, values: ['1', 'b'] }), cols, {})).toMatchObject({ kind: 'duplicate_key', count: { batch: 2, stream: 1 } });
    expect(classifyPair(pair({ n: 1, values: [null, 'a'] }, { n: 1, values: ['', 'a'] }), cols, {})?.columns).toEqual({ amount: { batch: null, stream: '' } });
  });

  it('tolerance: inside is equal, outside is changed, NULL is never within tolerance', () => {
    const numbers = new Map([['amount', ['exact', 'exact'] as const]]);
    expect(classifyPair(pair({ n: 1, values: ['10', 'a'] }, { n: 1, values: ['10.004', 'a'] }), cols, { amount: 0.005 }, numbers)).toBeNull();
    expect(classifyPair(pair({ n: 1, values: ['10', 'a'] }, { n: 1, values: ['10.006', 'a'] }), cols, { amount: 0.005 }, numbers)?.kind).toBe('changed');
    // A column that is not a number on both sides compares its text, tolerance or not.
    expect(classifyPair(pair({ n: 1, values: ['10', 'a'] }, { n: 1, values: ['10.004', 'a'] }), cols, { amount: 0.005 })?.kind).toBe('changed');
    expect(withinTolerance('10', '10.005', 0.005)).toBe(true);
    expect(withinTolerance(null, '0', 1)).toBe(false);
    expect(withinTolerance(null, null, 1)).toBe(true);
    expect(withinTolerance('abc', 'abd', 1)).toBe(false);
  });

  it('in flight: a stream change after the batch snapshot; duplicates never', () => {
    const snap = new Date('2026-11-21T02:00:00Z');
    const late = new Date('2026-11-21T03:00:00Z');
    expect(isInFlight({ k: '1', key: '{}', kind: 'changed', streamTs: late }, snap)).toBe(true);
    expect(isInFlight({ k: '1', key: '{}', kind: 'changed', streamTs: new Date('2026-11-21T01:00:00Z') }, snap)).toBe(false);
    expect(isInFlight({ k: '1', key: '{}', kind: 'changed', streamTs: late }, null)).toBe(false);
    expect(isInFlight({ k: '1', key: '{}', kind: 'duplicate_key', streamTs: late }, snap)).toBe(false);
  });

  it('the accumulator counts everything and keeps the same first samples whatever the arrival order', async () => {
    const diffs = Array.from({ length: 50 }, (_, i) => ({ k: String(i).padStart(3, '0'), key: `{"id": ${i}}`, kind: i % 2 ? 'missing_in_batch' as const : 'missing_in_stream' as const, streamTs: null }));
    const run = async (list: typeof diffs) => {
      const acc = new DiffAccumulator({ samples: 5, snapshotAt: null, tombstones: null });
      for (const d of list) await acc.add(d);
      return acc.finish();
    };
    const a = await run(diffs);
    const b = await run([...diffs].reverse());
    expect(a.missingInStream + a.missingInBatch).toBe(50);
    expect(a.samples).toEqual(b.samples);
    expect(a.samples.map((s) => s.key.id)).toEqual([0, 2, 4, 6, 8]);
  });
});

describe('fingerprints and verdicts', () => {
  it('checksum: the hash sum modulo 2^64 in hex, negative sums wrap', () => {
    expect(checksumHex('0')).toBe('0000000000000000');
    expect(checksumHex('-1')).toBe('ffffffffffffffff');
    expect(checksumHex((2n ** 64n + 5n).toString())).toBe('0000000000000005');
  });

  it('mismatched buckets include buckets present on one side only', () => {
    const b = new Map([[1, '2:10'], [2, '1:5'], [4, '1:1']]);
    const s = new Map([[1, '2:10'], [2, '1:6'], [3, '1:1']]);
    expect(mismatchedBuckets(b, s)).toEqual([2, 3, 4]);
    expect(rowsInBuckets([2, 3, 4], b, s)).toBe(4);
  });

  it('exit codes: worst wins, error > mismatch > pending > match', () => {
    expect(exitCodeFor(['match'])).toBe(0);
    expect(exitCodeFor(['match', 'pending'])).toBe(4);
    expect(exitCodeFor(['pending', 'mismatch'])).toBe(1);
    expect(exitCodeFor(['mismatch', 'error'])).toBe(3);
    expect(worstStatus([])).toBe('pending');
  });

  it('bucket counts are prime', () => {
    expect(nextPrime(16)).toBe(17);
    expect(nextPrime(3907)).toBe(3907);
  });
});

describe('report formats', () => {
  it('escapes HTML and Markdown', () => {
    expect(escapeHtml(`<a href="x">'&'</a>`)).toBe('&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
    expect(mdEscape('a|b <i>\n*')).toBe('a\\|b &lt;i&gt; \\*');
  });

  it('the trend is email-safe table cells, one per night, healed nights marked', () => {
    const html = trendCells([
      { date: '2026-11-20', status: 'match', differences: 0, inFlight: 0, windows: 1, healed: 0 },
      { date: '2026-11-21', status: 'match', differences: 0, inFlight: 0, windows: 1, healed: 1 },
      { date: '2026-11-22', status: 'mismatch', differences: 5, inFlight: 0, windows: 1, healed: 0 },
    ]);
    expect(html.match(/<td class="night"/g)).toHaveLength(3);
    expect(html).toContain('data-night="2026-11-22" data-status="mismatch"');
    expect(html).toContain('title="2026-11-21: match, 1 windows, 0 differences, 1 healed"');
    expect(html).not.toMatch(/<svg|https?:/);
  });

  it('a night\'s verdicts: a mismatch later matched is healed; one later mismatched again is only superseded', () => {
    const v = (id: string, window: string | null, verdict: 'match' | 'mismatch' | 'pending'): NightVerdict =>
      ({ id, window, verdict, stage: 'shadow', finishedAt: '', supersededBy: null, healed: false, result: {} as NightVerdict['result'] });
    const list = [v('1', 'a', 'mismatch'), v('2', 'b', 'mismatch'), v('3', 'a', 'pending'), v('4', 'a', 'match'), v('5', 'b', 'mismatch'), v('6', null, 'mismatch')];
    markSuperseded(list);
    expect(list.map((x) => [x.id, x.supersededBy, x.healed])).toEqual([
      ['1', '3', true], ['2', '5', false], ['3', '4', false], ['4', null, false], ['5', null, false], ['6', null, false],
    ]);
    // What stands per window is its newest verdict: a later pending means the newest attempt could not judge.
    const after = [...list, v('7', 'a', 'pending'), v('8', 'c', 'pending')].map((x) => ({ ...x, result: { window: x.window, verdict: x.verdict } as NightVerdict['result'] }));
    expect(standing(after).map((r) => [r.window, r.verdict])).toEqual([['a', 'pending'], ['b', 'mismatch'], ['c', 'pending'], [null, 'mismatch']]);
  });
});
