/**
 * The order samples are listed in: by key value, column by column in the
 * dataset's key order. Numbers compare numerically and exactly (bigint and long
 * decimals included: 9 before 10, 2^63-1 after 2^53+1), text by code point,
 * NULL first; values of different kinds by kind. Deterministic, so both
 * drill-down strategies list the same samples.
 */
import { ExactNumber } from '../src/core/exact-json.ts';

type Numeric = number | bigint | ExactNumber;
const isNumeric = (v: unknown): v is Numeric => typeof v === 'number' || typeof v === 'bigint' || v instanceof ExactNumber;

function rank(v: unknown): number {
  if (v === null || v === undefined) return 0;
  if (typeof v === 'boolean') return 1;
  if (isNumeric(v)) return 2;
  if (typeof v === 'string') return 3;
  return 4;
}

/** Sign, digits without leading zeros, and the decimal point's position in them. */
function decimal(v: Numeric): { neg: boolean; digits: string; point: number } {
  const text = typeof v === 'number' ? (Number.isInteger(v) && Math.abs(v) < 1e21 ? v.toFixed(0) : String(v)) : v.toString();
  const m = /^(-?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return { neg: false, digits: '', point: 0 };
  let digits = `${m[2]}${m[3] ?? ''}`;
  let point = m[2].length + Number(m[4] ?? 0);
  const lead = digits.length - digits.replace(/^0+/, '').length;
  digits = digits.slice(lead).replace(/0+$/, '');
  point -= lead;
  return { neg: m[1] === '-' && digits.length > 0, digits, point: digits.length ? point : 0 };
}

export function compareNumeric(a: Numeric, b: Numeric): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  const x = decimal(a);
  const y = decimal(b);
  if (x.neg !== y.neg) return x.neg ? -1 : 1;
  const sign = x.neg ? -1 : 1;
  const xz = x.digits.length === 0;
  const yz = y.digits.length === 0;
  if (xz || yz) return xz && yz ? 0 : xz ? -1 : 1; // both non-negative here
  if (x.point !== y.point) return (x.point < y.point ? -1 : 1) * sign;
  return (x.digits < y.digits ? -1 : x.digits > y.digits ? 1 : 0) * sign;
}

export function compareKeyValue(a: unknown, b: unknown): number {
  const ra = rank(a);
  const rb = rank(b);
  if (ra !== rb) return ra - rb;
  if (ra === 2) return compareNumeric(a as Numeric, b as Numeric);
  if (ra === 1) return Number(a) - Number(b);
  const sa = ra === 3 ? (a as string) : JSON.stringify(a);
  const sb = ra === 3 ? (b as string) : JSON.stringify(b);
  return compareCodePoints(sa, sb);
}

/**
 * Strings by code point. JavaScript's `<` compares UTF-16 code units, which puts a character
 * above U+FFFF (a surrogate pair from U+D800) before U+E000..U+FFFF: compared at the first
 * differing unit as whole code points instead (equal leading units are equal code points).
 */
export function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === n) return a.length - b.length;
  return a.codePointAt(i)! - b.codePointAt(i)!;
}

/** Key tuples (values in key-column order), compared column by column. */
export function compareKeyTuples(a: readonly unknown[], b: readonly unknown[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const c = compareKeyValue(a[i], b[i]);
    if (c !== 0) return c;
  }
  return 0;
}
