/**
 * JSON with exact numbers. JSON.parse turns every number into a float64, so a
 * 64-bit id such as 1234567890123456789 comes back as 1234567890123456768 (a
 * neighbouring id that does not exist). Keys and values travel from Postgres as
 * JSON text; here a number that a float64 cannot hold exactly stays exact: an
 * integer becomes a bigint, any other such number an ExactNumber keeping its
 * text. stringifyExact writes both back as plain JSON numbers, digit for digit.
 */

/** A JSON number kept as its text (e.g. numeric 1.50 or 0.1000000000000000000001). */
export class ExactNumber {
  constructor(readonly text: string) {}
  toString(): string { return this.text; }
  /** Plain JSON.stringify (not stringifyExact) writes it as a string rather than losing digits. */
  toJSON(): string { return this.text; }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// A marker no JSON text from Postgres contains (NUL cannot occur in text or jsonb).
const MARK = '\u0000dualrun-exact:';

/** null when a float64 holds the number exactly (JSON.parse may keep it), else its exact form. */
function exactOrNull(text: string): bigint | ExactNumber | null {
  if (/^-?\d+$/.test(text)) return Number.isSafeInteger(Number(text)) ? null : BigInt(text);
  const plain = text.replace(/(\.\d*?)0+(?=$|[eE])/, '$1').replace(/\.(?=$|[eE])/, '');
  return String(Number(text)) === plain ? null : new ExactNumber(text);
}

/** JSON.parse, except that numbers a float64 cannot hold exactly stay exact (bigint / ExactNumber). */
export function parseExactJson(text: string): unknown {
  let marked = '';
  let last = 0;
  let changed = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 34 /* " */) {
      for (i++; i < text.length && text.charCodeAt(i) !== 34; i++) if (text.charCodeAt(i) === 92 /* \ */) i++;
      continue;
    }
    if (ch === 45 /* - */ || (ch >= 48 && ch <= 57)) {
      NUMBER.lastIndex = i;
      const m = NUMBER.exec(text);
      if (!m) continue;
      const num = m[0];
      if (exactOrNull(num) !== null) {
        marked += `${text.slice(last, i)}"\\u0000dualrun-exact:${num}"`;
        last = i + num.length;
        changed = true;
      }
      i += num.length - 1;
    }
  }
  if (!changed) return JSON.parse(text);
  return JSON.parse(marked + text.slice(last), (_k, v) => (typeof v === 'string' && v.startsWith(MARK) ? exactOrNull(v.slice(MARK.length)) : v));
}

/** JSON.stringify that writes bigint and ExactNumber values as exact JSON numbers. */
export function stringifyExact(value: unknown, indent?: number): string {
  let found = false;
  const text = JSON.stringify(value, function (this: Record<string, unknown>, k: string, v: unknown) {
    const original = this[k]; // before toJSON
    if (typeof v === 'bigint') { found = true; return `${MARK}${v.toString()}`; }
    if (original instanceof ExactNumber) { found = true; return `${MARK}${original.text}`; }
    return v;
  }, indent);
  if (!found || text === undefined) return text;
  return text.replace(/"\\u0000dualrun-exact:(-?[0-9.eE+-]+)"/g, '$1');
}

/** A scalar as text for people: exact numbers as their digits, strings as they are, the rest as JSON. */
export function scalarText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || v instanceof ExactNumber) return v.toString();
  return stringifyExact(v);
}
