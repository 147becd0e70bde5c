/**
 * Exact decimal arithmetic for tolerances: a number is `n / 10^scale` with a
 * BigInt `n`, so `|batch - stream| <= tolerance` is decided exactly, with no
 * binary rounding and no hidden slack. A float is taken as the exact binary
 * value it holds (0.1 as a float8 is 0.1000000000000000055511151231257827...),
 * which is what "compared as the float values they are" means.
 */
export interface Decimal { n: bigint; scale: number }

const DECIMAL_TEXT = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;

/** A decimal text (`-12.340`, `1e-7`, `1.5e+20`) exactly; null when it is not a finite number. */
export function parseDecimal(text: string): Decimal | null {
  const m = DECIMAL_TEXT.exec(text.trim());
  if (!m || (m[2] === '' && (m[3] ?? '') === '')) return null;
  const digits = `${m[2]}${m[3] ?? ''}` || '0';
  let scale = (m[3] ?? '').length - Number(m[4] ?? 0);
  let n = BigInt(digits);
  if (scale < 0) { n *= 10n ** BigInt(-scale); scale = 0; }
  return { n: m[1] === '-' ? -n : n, scale };
}

/** The exact value of a finite IEEE double; null for NaN and infinities. */
export function exactFloat(x: number): Decimal | null {
  if (!Number.isFinite(x)) return null;
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const bits = view.getBigUint64(0);
  const negative = bits >> 63n === 1n;
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & ((1n << 52n) - 1n);
  const mant = exp === 0 ? frac : frac | (1n << 52n);
  const e = (exp === 0 ? 1 : exp) - 1075; // value = mant * 2^e
  const sign = negative ? -1n : 1n;
  if (e >= 0) return { n: sign * (mant << BigInt(e)), scale: 0 };
  return { n: sign * mant * 5n ** BigInt(-e), scale: -e };
}

/** A canonical value as a number: decimal text as written, or (floats) the double it denotes. */
export function toDecimal(text: string, float: boolean): Decimal | null {
  if (!float) return parseDecimal(text);
  if (parseDecimal(text) === null) return null; // NaN, Infinity: only equal to themselves
  return exactFloat(Number(text));
}

function align(a: Decimal, scale: number): bigint {
  return a.n * 10n ** BigInt(scale - a.scale);
}

/** |a - b| <= limit, exactly. */
export function withinAbsolute(a: Decimal, b: Decimal, limit: Decimal): boolean {
  const scale = Math.max(a.scale, b.scale, limit.scale);
  let d = align(a, scale) - align(b, scale);
  if (d < 0n) d = -d;
  return d <= align(limit, scale);
}
