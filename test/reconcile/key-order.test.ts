/**
 * Samples are listed by key, text "by code point" (docs/reconcile.md). JavaScript's `<`
 * compares UTF-16 code units instead, which puts every character above U+FFFF (an emoji,
 * a CJK extension letter: two surrogates from U+D800) before U+E000..U+FFFF (private use,
 * U+FF21 'Ａ', U+FFFD): the kept and listed samples followed that order, not the documented one.
 */
import { describe, expect, it } from 'vitest';
import { compareKeyTuples, compareKeyValue } from '../../reconcile/key-order.ts';

describe('sample key order', () => {
  it('text keys order by code point, also where UTF-16 code units order otherwise (U+1F600 after U+FF21)', () => {
    const keys = ['\u{1F600}', '\uFF21', 'b', '\u{20000}', '\uFFFD', 'a\u{1F600}', 'a\uE000', 'a', ''];
    expect([...keys].sort(compareKeyValue)).toEqual(['', 'a', 'a\uE000', 'a\u{1F600}', 'b', '\uFF21', '\uFFFD', '\u{1F600}', '\u{20000}']);
    expect(compareKeyValue('\u{1F600}', '\u{1F600}')).toBe(0);
    expect(compareKeyValue('\u{1F600}', '\u{1F601}')).toBeLessThan(0);
    expect(compareKeyTuples([1, '\u{1F600}'], [1, '\uFF21'])).toBeGreaterThan(0);
  });
});
