/**
 * Keys and values that differ only in characters a reader cannot see were reported as
 * differences (rightly) but printed alike in text, Markdown and HTML: `changed v: "é" → "é"`
 * (NFC against NFD), `k=a` missing in stream and `k=a` missing in batch (a no-break space).
 * Such characters are now escaped (`"e\u0301"`, `"a\u00a0"`); ordinary text prints as it is.
 */
import { describe, expect, it } from 'vitest';
import { keyText, sampleRow } from '../../reconcile/sample-rows.ts';

describe('samples show what differs', () => {
  it('NFC vs NFD, a no-break space, a zero-width space and a BOM are visible in a changed value and in keys', () => {
    const row = sampleRow({ kind: 'changed', key: { id: 1n }, columns: { v: { batch: '\u00e9', stream: 'e\u0301' }, w: { batch: 'a b', stream: 'a\u00a0b' }, z: { batch: 'x', stream: '\u200bx\ufeff' } } });
    expect(row.detail).toBe('v: "é" → "e\\u0301"; w: "a b" → "a\\u00a0b"; z: "x" → "\\u200bx\\ufeff"');
    expect(keyText({ k: 'e\u0301', n: 'a\u00a0', id: 7n })).toBe('k="e\\u0301", n="a\\u00a0", id=7');
    expect(keyText({ k: 'a b', t: 'tab\there' })).toBe('k=a b, t="tab\\there"');
  });

  it('text in NFC keeps its combining marks and letters; emoji keep their variation selectors', () => {
    expect(keyText({ k: 'क्षत्रिय', e: 'é', h: '❤️', c: 'a,b "q" \\' })).toBe('k=क्षत्रिय, e=é, h=❤️, c=a,b "q" \\');
    expect(sampleRow({ kind: 'changed', key: { id: 1 }, columns: { v: { batch: 'Ünïcödé', stream: null } } }).detail).toBe('v: "Ünïcödé" → NULL');
  });
});
