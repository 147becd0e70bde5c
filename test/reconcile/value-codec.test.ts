/** The equality rules (value-codec.ts) and exact tolerances (exact-decimal.ts): pure logic, no database. */
import { describe, expect, it } from 'vitest';
import { encodeSql, jsonUnfitBeforeSql, planCodec } from '../../reconcile/value-codec.ts';
import type { TypeDesc } from '../../reconcile/table-columns.ts';
import { exactFloat, parseDecimal } from '../../reconcile/exact-decimal.ts';
import { withinTolerance } from '../../reconcile/classify-difference.ts';

const t = (name: string, typmod = -1): TypeDesc => ({ kind: 'base', name, category: '', typmod });
const arr = (elem: TypeDesc): TypeDesc => ({ kind: 'array', name: `_${elem.kind === 'base' ? elem.name : 'x'}`, category: 'A', elem });
const rec = (...fields: TypeDesc[]): TypeDesc => ({ kind: 'composite', name: 'r', category: 'C', fields: fields.map((type, i) => ({ name: `f${i}`, type })) });
const codec = (b: TypeDesc, s: TypeDesc) => planCodec(b, s);
/** A Decimal as plain decimal text without trailing zeros. */
function text(d: { n: bigint; scale: number }): string {
  const neg = d.n < 0n;
  const digits = (neg ? -d.n : d.n).toString().padStart(d.scale + 1, '0');
  const int = digits.slice(0, digits.length - d.scale);
  const frac = digits.slice(digits.length - d.scale).replace(/0+$/, '');
  return `${neg ? '-' : ''}${int}${frac ? `.${frac}` : ''}`;
}

describe('equality rules by type pair', () => {
  it('picks one codec per pair, plain text where the sides already agree', () => {
    expect(codec(t('int4'), t('int8'))).toEqual({ k: 'text' });
    expect(codec(t('int4'), t('numeric'))).toEqual({ k: 'decimal' });
    expect(codec(t('numeric', 786438), t('numeric', 786438))).toEqual({ k: 'text' });
    expect(codec(t('numeric', 786438), t('numeric'))).toEqual({ k: 'decimal' });
    expect(codec(t('float4'), t('float8'))).toEqual({ k: 'float' });
    expect(codec(t('int8'), t('float8'))).toEqual({ k: 'decimal' }); // a float against an exact number: as decimals
    expect(codec(t('float4'), t('numeric'))).toEqual({ k: 'decimal' });
    expect(codec(t('money'), t('float8'))).toHaveProperty('reason');
    expect(codec(t('uuid'), t('text'))).toEqual({ k: 'text' });
    expect(codec(t('bpchar'), t('varchar'))).toEqual({ k: 'text' });
    expect(codec(t('timestamp'), t('timestamp'))).toEqual({ k: 'text' });
    expect(codec(t('timestamp'), t('timestamptz'))).toEqual({ k: 'instant' });
    expect(codec(t('json'), t('jsonb'))).toEqual({ k: 'json' });
    expect(codec(t('interval'), t('interval'))).toEqual({ k: 'text' });
  });

  it('recurses into arrays and composites, element by element only when needed', () => {
    expect(codec(arr(t('int4')), arr(t('int8')))).toEqual({ k: 'array', elem: { k: 'text' }, perElement: false });
    expect(codec(arr(t('numeric', 655366)), arr(t('numeric')))).toEqual({ k: 'array', elem: { k: 'decimal' }, perElement: true });
    expect(codec(rec(t('numeric'), t('timestamptz')), rec(t('numeric'), t('timestamptz')))).toMatchObject({ k: 'record', perField: true });
    expect(codec(rec(t('text'), t('int4')), rec(t('varchar'), t('int4')))).toMatchObject({ k: 'record', perField: false });
    // char(n) prints padded inside arrays and records: element by element unless both sides are the same char(n)
    expect(codec(arr(t('bpchar', 9)), arr(t('text')))).toMatchObject({ perElement: true });
    expect(codec(arr(t('bpchar', 9)), arr(t('bpchar', 9)))).toMatchObject({ perElement: false });
    expect(codec(rec(t('bpchar', 9)), rec(t('bpchar', 12)))).toMatchObject({ perField: true });
    // the same field names in another order pair by name, other names by position
    const named = (...f: [string, TypeDesc][]): TypeDesc => ({ kind: 'composite', name: 'r', category: 'C', fields: f.map(([name, type]) => ({ name, type })) });
    const ab = named(['a', t('int4')], ['b', t('text')]);
    expect(codec(ab, named(['b', t('text')], ['a', t('int4')]))).toMatchObject({ k: 'record', perField: true, byName: ['a', 'b'] });
    expect(codec(ab, named(['x', t('int4')], ['y', t('text')]))).toMatchObject({ k: 'record', perField: false });
    // by name, a is int4 against text: no rule (by position both fields would have lined up)
    expect(codec(ab, named(['b', t('int4')], ['a', t('text')]))).toHaveProperty('reason');
  });

  it('reports pairs no rule equates (schema drift), never compares them as text', () => {
    expect(codec(t('bool'), t('int4'))).toHaveProperty('reason');
    expect(codec(t('text'), t('int4'))).toHaveProperty('reason');
    expect(codec(arr(t('int4')), t('int4'))).toHaveProperty('reason');
    expect(codec(rec(t('int4')), rec(t('int4'), t('int4')))).toHaveProperty('reason');
  });

  it('writes SQL per side: -0 becomes 0, json that jsonb cannot hold keeps its text', () => {
    expect(encodeSql({ k: 'float' }, t('float4'), 'x')).toBe('(x::float8 + 0::float8)::text');
    expect(encodeSql({ k: 'decimal' }, t('int4'), 'x')).toBe('x::text');
    expect(encodeSql({ k: 'decimal' }, t('numeric'), 'x')).toBe('pg_catalog.trim_scale((x)::numeric)::text');
    expect(encodeSql({ k: 'json' }, t('jsonb'), 'x')).toBe('x::text');
    expect(encodeSql({ k: 'json' }, t('json'), 'x')).toContain(jsonUnfitBeforeSql('x::text'));
    expect(encodeSql({ k: 'json' }, { kind: 'base', name: 'json', category: 'U', softInput: true }, 'x')).toContain(`NOT pg_input_is_valid(x::text, 'jsonb')`);
  });
});

describe('exact tolerances', () => {
  it('parses decimal text exactly, floats as the doubles they are', () => {
    expect(parseDecimal('-12.340')).toEqual({ n: -12340n, scale: 3 });
    expect(parseDecimal('1e-7')).toEqual({ n: 1n, scale: 7 });
    expect(parseDecimal('1.5e+3')).toEqual({ n: 1500n, scale: 0 });
    expect(parseDecimal('NaN')).toBeNull();
    expect(text(exactFloat(0.5)!)).toBe('0.5');
    expect(text(exactFloat(0.1)!)).toBe('0.1000000000000000055511151231257827021181583404541015625');
    expect(text(exactFloat(-3)!)).toBe('-3');
  });

  it('is absolute and exact: no slack on large values, the edge is within, NULL never is', () => {
    expect(withinTolerance('1000000000000000', '1000000000000000.01', 0.005)).toBe(false);
    expect(withinTolerance('1000000000000000', '1000000000000000.005', 0.005)).toBe(true);
    expect(withinTolerance('10', '10.005', 0.005)).toBe(true);
    expect(withinTolerance('10', '10.0050000000000000001', 0.005)).toBe(false);
    expect(withinTolerance('0.5', '0.6000000000000001', 0.1, true)).toBe(false);
    expect(withinTolerance('0.5', '0.6', 0.1, true)).toBe(true); // the double 0.6 is 0.59999999999999997779...
    expect(withinTolerance(null, '0', 1)).toBe(false);
    expect(withinTolerance('NaN', '1', 10)).toBe(false);
    expect(withinTolerance('NaN', 'NaN', 0)).toBe(true);
  });
});
