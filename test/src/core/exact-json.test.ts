import { describe, expect, it } from 'vitest';
import { ExactNumber, parseExactJson, stringifyExact } from '../../../src/core/exact-json.ts';
import { compareKeyTuples, compareKeyValue } from '../../../reconcile/key-order.ts';

describe('exact JSON', () => {
  it('keeps 64-bit integers and long decimals digit for digit (JSON.parse turned 1234567890123456789 into ...768)', () => {
    const text = '{"id": 1234567890123456789, "min": -9223372036854775808, "d": 0.1000000000000000000001, "n": 42, "s": "9007199254740993 \\" 1.5", "f": 1.50}';
    const v = parseExactJson(text) as Record<string, unknown>;
    expect(v).toEqual({ id: 1234567890123456789n, min: -9223372036854775808n, d: new ExactNumber('0.1000000000000000000001'), n: 42, s: '9007199254740993 " 1.5', f: 1.5 });
    expect(stringifyExact(v)).toBe('{"id":1234567890123456789,"min":-9223372036854775808,"d":0.1000000000000000000001,"n":42,"s":"9007199254740993 \\" 1.5","f":1.5}');
    expect(JSON.stringify({ d: v.d })).toBe('{"d":"0.1000000000000000000001"}');
  });

  it('orders key values by value: numbers numerically (bigint and decimals too), text by code point, column by column', () => {
    const values: unknown[] = [10, 9n ** 20n, 'b', 9, -1n, new ExactNumber('9.5000000000000000001'), 'a', null, 9007199254740993n, 1e21];
    const sorted = [...values].sort(compareKeyValue);
    expect(sorted.map((x) => (typeof x === 'string' || x === null ? x : String(x)))).toEqual(
      [null, '-1', '9', '9.5000000000000000001', '10', '9007199254740993', String(9n ** 20n), '1e+21', 'a', 'b']);
    expect(compareKeyTuples([2, 'b'], [10, 'a'])).toBeLessThan(0);
    expect(compareKeyTuples([2, 'a'], [2, 'b'])).toBeLessThan(0);
    expect(compareKeyValue(-0.5, new ExactNumber('-0.50000000000000000001'))).toBeGreaterThan(0);
  });
});
