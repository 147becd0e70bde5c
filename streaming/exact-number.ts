/**
 * A JSON number a double would change (beyond 2^53, more than 15 significant digits,
 * an exponent beyond a double's range), kept as its text. Decoders turn a row's own
 * fields into that text; inside a nested object (a json/jsonb column) it stays an
 * ExactNumber so `stringifyExact` writes it as the number it is. `JSON.stringify`
 * elsewhere (keyed state, logs) writes its text as a string, as before.
 */
import crypto from 'node:crypto';

export class ExactNumber {
  constructor(readonly text: string) {}
  toJSON(): string { return this.text; }
  toString(): string { return this.text; }
}

const MARK = `\u0001dualrun-exact-${crypto.randomBytes(6).toString('hex')}:`;
// JSON.stringify writes the marker's U+0001 as the escape \u0001, which no other string's text can end up as unescaped.
const MARKED = new RegExp(`"${JSON.stringify(MARK).slice(1, -1).replace(/\\/g, '\\\\')}([^"]*)"`, 'g');

/** JSON text of a json/jsonb column's value: nested ExactNumbers as the numbers they are (their digits), not strings. */
export function stringifyExact(v: unknown): string {
  let found = false;
  const text = JSON.stringify(v, function (this: Record<string, unknown>, k: string, x: unknown) {
    const o = this[k];
    if (o instanceof ExactNumber) { found = true; return MARK + o.text; }
    return x;
  });
  return found ? text.replace(MARKED, '$1') : text;
}
