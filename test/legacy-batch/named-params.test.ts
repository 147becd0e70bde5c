import { describe, expect, it } from 'vitest';
import { rewriteNamedParams } from '../../legacy-batch/named-params.ts';

const W = ['window_start', 'window_end'];

describe('rewriteNamedParams', () => {
  it('numbers names in first-use order and reuses a number', () => {
    const r = rewriteNamedParams('SELECT * FROM t WHERE d >= :window_start AND d < :window_end OR d = :window_start', W);
    expect(r.text).toBe('SELECT * FROM t WHERE d >= $1 AND d < $2 OR d = $1');
    expect(r.names).toEqual(['window_start', 'window_end']);
  });

  it('keeps casts, including a cast right after a parameter', () => {
    const r = rewriteNamedParams('SELECT x::text, :window_end::date, a::window_start FROM t', W);
    expect(r.text).toBe('SELECT x::text, $1::date, a::window_start FROM t');
    expect(r.names).toEqual(['window_end']);
  });

  it('leaves literals, quoted identifiers and comments alone', () => {
    const sql = [
      "SELECT ':window_start' AS a, 'it''s :window_end' AS b, E'\\' :window_end' AS c,",
      '  $$ :window_start $$ AS d, $q$ :window_end $q$ AS e, ":window_start" AS f -- :window_end',
      '/* :window_start /* nested :window_end */ still :window_start */ FROM t WHERE d < :window_end',
    ].join('\n');
    const r = rewriteNamedParams(sql, W);
    expect(r.names).toEqual(['window_end']);
    expect(r.text.endsWith('WHERE d < $1')).toBe(true);
    expect(r.text.replace('WHERE d < $1', '')).toBe(sql.replace('WHERE d < :window_end', ''));
  });

  it('ignores unknown names, array slices and names glued to identifiers', () => {
    const r = rewriteNamedParams('SELECT arr[1:2], arr[lo:hi], x:window_start, :other FROM t', W);
    expect(r.text).toBe('SELECT arr[1:2], arr[lo:hi], x:window_start, :other FROM t');
    expect(r.names).toEqual([]);
  });

  it('does not treat a $ inside a word as a dollar quote', () => {
    const r = rewriteNamedParams('SELECT a$b$c, :window_start FROM t', W);
    expect(r.text).toBe('SELECT a$b$c, $1 FROM t');
  });
});
