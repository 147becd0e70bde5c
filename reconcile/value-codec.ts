/**
 * The equality rules: for one column, from the types it has on the two sides,
 * the codec that turns a value into canonical text on each side, so that two
 * values get the same text exactly when the rule says they are equal
 * (docs/reconcile.md, "Equality rules", is this file as a table).
 *
 * The codec is chosen per type PAIR, recursively (array elements, composite
 * fields), so the per-row cost stays at a plain `::text` wherever the two sides
 * already store a value the same way, and normalising functions only appear
 * where the types differ or need them (numeric scale, json).
 * Every codec runs inside Postgres; the session settings (side-session.ts) fix
 * the text forms: TimeZone = the dataset's window time zone, ISO dates, hex bytea,
 * shortest exact floats.
 */
import type { TypeDesc } from './table-columns.ts';

export type Codec =
  /** `v::text`: same base type both sides, strings (text/varchar/char/name/enum/uuid), integers. */
  | { k: 'text' }
  /**
   * Exact numbers by value: integers, numeric (any scale), money: `10`, `10.0`, `10.00` are one value.
   * Against an exact number a float is the shortest decimal that reads back as it (its text), so
   * the float 0.1 equals the numeric 0.1, but the int8 9007199254740993 does not equal the float
   * 9007199254740992 (converting the int8 to float8 would round it onto the float).
   */
  | { k: 'decimal' }
  /** Two floats: both as float8; -0 is 0. */
  | { k: 'float' }
  /** An instant: timestamptz as is; a timestamp or date is a wall clock in the dataset's time zone. */
  | { k: 'instant' }
  /**
   * A date against a timestamp: two wall clocks, compared as wall clocks (the date as its midnight,
   * as Postgres's own `date = timestamp` does), never through a zone: where a zone skips midnight,
   * the date's midnight and the timestamp an hour later are one instant there.
   */
  | { k: 'wallclock' }
  /** json/jsonb by jsonb semantics (key order, whitespace, duplicate keys); json jsonb cannot hold (`\u0000`) by its text. */
  | { k: 'json' }
  /** Arrays: element by element when either side's elements need normalising, else as the array's text. */
  | { k: 'array'; elem: Codec; perElement: boolean }
  /**
   * Composites: field by field when any field needs normalising or the fields are ordered
   * differently, else as the record's text. Fields pair by name when both sides have the same
   * names (`byName`: the batch side's order, which both sides are encoded in), else by position.
   */
  | { k: 'record'; fields: Codec[]; perField: boolean; byName?: string[] };

/** Why a pair of types cannot be equated (reported as schema drift, never compared as unequal-everything). */
export interface Unequatable { reason: string }

const INTEGERS = new Set(['int2', 'int4', 'int8']);
const DECIMALS = new Set([...INTEGERS, 'numeric', 'money']);
const FLOATS = new Set(['float4', 'float8']);
const TEMPORAL = new Set(['timestamp', 'timestamptz', 'date']);
const JSONS = new Set(['json', 'jsonb']);
/** Compared by their text: Postgres casts char(n) to text without its trailing blanks, as its own `=` does. */
const STRINGS = new Set(['text', 'varchar', 'bpchar', 'name', 'citext', 'uuid']);

const base = (t: TypeDesc): string | null => (t.kind === 'base' ? t.name : null);
const sameTypmod = (b: TypeDesc, s: TypeDesc) => b.kind === 'base' && s.kind === 'base' && (b.typmod ?? -1) !== -1 && b.typmod === s.typmod;
const stringLike = (t: TypeDesc) => t.kind === 'enum' || (t.kind === 'base' && STRINGS.has(t.name));

/** The codec both sides use for a column typed `b` on the batch side and `s` on the stream side. */
export function planCodec(b: TypeDesc, s: TypeDesc): Codec | Unequatable {
  if (b.kind === 'array' || s.kind === 'array') {
    if (b.kind !== 'array' || s.kind !== 'array') return { reason: 'an array on one side only' };
    const elem = planCodec(b.elem, s.elem);
    if ('reason' in elem) return { reason: `array elements: ${elem.reason}` };
    const perElement = !wholeIsCanonical(elem, b.elem, s.elem);
    return { k: 'array', elem, perElement };
  }
  if (b.kind === 'composite' || s.kind === 'composite') {
    if (b.kind !== 'composite' || s.kind !== 'composite') return { reason: 'a composite on one side only' };
    if (b.fields.length !== s.fields.length) return { reason: `composites with ${b.fields.length} and ${s.fields.length} fields` };
    const byName = reorderedFields(b, s);
    const sField = (i: number) => (byName ? s.fields.find((f) => f.name === byName[i])! : s.fields[i]);
    const fields: Codec[] = [];
    for (let i = 0; i < b.fields.length; i++) {
      const f = planCodec(b.fields[i].type, sField(i).type);
      if ('reason' in f) return { reason: `field ${b.fields[i].name}: ${f.reason}` };
      fields.push(f);
    }
    const perField = !!byName || fields.some((f, i) => !wholeIsCanonical(f, b.fields[i].type, sField(i).type));
    return { k: 'record', fields, perField, ...(byName ? { byName } : {}) };
  }
  if (stringLike(b) && stringLike(s)) return { k: 'text' };
  const [bn, sn] = [base(b), base(s)];
  if (bn === null || sn === null) return { reason: 'different kinds of type' };
  if (INTEGERS.has(bn) && INTEGERS.has(sn)) return { k: 'text' };
  // numeric(p,s) on both sides: one scale, so equal values already print alike (no trim_scale per row).
  if (bn === 'numeric' && sn === 'numeric' && sameTypmod(b, s)) return { k: 'text' };
  if (DECIMALS.has(bn) && DECIMALS.has(sn)) return { k: 'decimal' };
  if (FLOATS.has(bn) && FLOATS.has(sn)) return { k: 'float' };
  // A float against an integer or numeric: as exact decimals (not both as float8, which rounds the number onto the float).
  const exact = (n: string) => INTEGERS.has(n) || n === 'numeric';
  if ((FLOATS.has(bn) && exact(sn)) || (exact(bn) && FLOATS.has(sn))) return { k: 'decimal' };
  if (bn === 'date' && sn === 'date') return { k: 'text' };
  if (bn === 'timestamp' && sn === 'timestamp') return { k: 'text' };
  if ((bn === 'date' && sn === 'timestamp') || (bn === 'timestamp' && sn === 'date')) return { k: 'wallclock' };
  if (TEMPORAL.has(bn) && TEMPORAL.has(sn)) return { k: 'instant' };
  if (JSONS.has(bn) && JSONS.has(sn)) return { k: 'json' };
  if (bn === sn) return { k: 'text' };
  return { reason: 'no equality rule for this pair' };
}

/**
 * The batch side's field names when the stream side has the same names in another order
 * (`(a int, b int)` and `(b int, a int)`): by position, a=1,b=2 and b=1,a=2 would print alike.
 * Null when the fields line up, or when the names differ (then they pair by position).
 */
function reorderedFields(b: Extract<TypeDesc, { kind: 'composite' }>, s: Extract<TypeDesc, { kind: 'composite' }>): string[] | null {
  const bn = b.fields.map((f) => f.name);
  const sn = s.fields.map((f) => f.name);
  if (bn.every((n, i) => n === sn[i])) return null;
  const sorted = (xs: string[]) => [...xs].sort().join('\u0000');
  return new Set(bn).size === bn.length && sorted(bn) === sorted(sn) ? bn : null;
}

/** The codec for a column compared with itself (a side described alone: tests, the bench). */
export function selfCodec(t: TypeDesc): Codec {
  const c = planCodec(t, t);
  return 'reason' in c ? { k: 'text' } : c;
}

/**
 * True when a container (array, composite) of these element types can be
 * compared as its own text: both sides' elements encode as `v::text`, and no
 * char(n) element keeps blanks there that the scalar rule drops (inside an
 * array or record char(n) prints padded; only equal char(n) types agree).
 */
function wholeIsCanonical(c: Codec, b: TypeDesc, s: TypeDesc): boolean {
  const bpchar = (t: TypeDesc) => t.kind === 'base' && t.name === 'bpchar';
  if ((bpchar(b) || bpchar(s)) && !(bpchar(b) && bpchar(s) && sameTypmod(b, s))) return false;
  return isPlainText(c, b) && isPlainText(c, s);
}

/**
 * json as jsonb text, unless jsonb cannot hold the value: `\u0000`, a lone
 * surrogate, an escape the server encoding cannot represent, or a number beyond
 * numeric's range (`1e200000`; all valid json). Such a value is compared by its
 * own text, marked with `~` so it never equals a jsonb text, and never fails the
 * run. Only values with a `\u` escape, an exponent of 5 digits or more, or (16+)
 * over 128 kB are tested: by pg_input_is_valid on Postgres 16+, else by
 * `jsonUnfitBeforeSql` (and any such exponent counts as beyond the range there).
 */
function jsonSql(t: TypeDesc, expr: string): string {
  const soft = t.kind === 'base' && t.softInput;
  const text = `${expr}::text`;
  const bigExponent = `${text} ~ '[0-9][eE][+-]?[0-9]{5}'`;
  const unfit = soft
    ? `(strpos(${text}, '\\u') > 0 OR ${bigExponent} OR octet_length(${text}) > 131072) AND NOT pg_input_is_valid(${text}, 'jsonb')`
    : `((strpos(${text}, '\\u') > 0 AND ${jsonUnfitBeforeSql(text)}) OR ${bigExponent})`;
  return `CASE WHEN ${unfit} THEN '~' || ${expr}::text ELSE ${expr}::jsonb::text END`;
}

/**
 * Without pg_input_is_valid (before Postgres 16): whether json text holds an escape
 * jsonb refuses. Escaped backslashes (`\\\\`) are replaced first so `\\\\u0000` (text, not
 * an escape) is not one; then `\u0000`, a surrogate left over once the valid pairs are
 * dropped, or an escape the database encoding cannot hold: in LATIN1 one above `\u00ff`
 * (LATIN1 is U+0000-U+00FF), in another encoding that is not UTF8 any above `\u007f`
 * (some fit, e.g. `\u20ac` in WIN1252: compared by text, they can only differ, never
 * fail the window; which fit cannot be told in SQL without trying the cast).
 */
export function jsonUnfitBeforeSql(text: string): string {
  // An escaped backslash becomes '~', not nothing: dropped, the text \\\ud800\\\udc00 (two lone surrogates) would read as one pair.
  const escapes = `replace(${text}, '\\\\', '~')`;
  const unpaired = `regexp_replace(${escapes}, '\\\\u[dD][89abAB][0-9a-fA-F]{2}\\\\u[dD][c-fC-F][0-9a-fA-F]{2}', '', 'g')`;
  return `(strpos(${escapes}, '\\u0000') > 0 OR ${unpaired} ~ '\\\\u[dD][89a-fA-F]'
    OR (current_setting('server_encoding') <> 'UTF8' AND ${escapes} ~ CASE current_setting('server_encoding') WHEN 'LATIN1' THEN '\\\\u(0[1-9a-fA-F]|[1-9a-fA-F])'
      ELSE '\\\\u(00[89a-fA-F]|0[1-9a-fA-F]|[1-9a-fA-F])' END))`;
}

/**
 * A float as the decimal its text denotes (shortest round-trip digits, `extra_float_digits = 1`),
 * trimmed as a numeric is: `3` for 3.0, `0.1` for 0.1, `5e-324` in full. -0 is 0; NaN stays NaN;
 * ±Infinity keep the float's text (numeric's own, on Postgres 14+; older servers have none).
 */
function floatAsDecimalSql(expr: string): string {
  const f = `(${expr}::float8 + 0::float8)`;
  return `CASE WHEN ${f} IN ('Infinity'::float8, '-Infinity'::float8) THEN ${f}::text ELSE trim_scale(${f}::text::numeric)::text END`;
}

/**
 * `v::text`, or the type's output where a cast to text of the user's would stand in for it
 * (table-columns.ts, userTextCast). format's `%s` prints by the type's output function.
 */
function asText(t: TypeDesc, expr: string): string {
  if (!t.userTextCast) return `${expr}::text`;
  return `CASE WHEN (${expr}) IS NOT DISTINCT FROM NULL THEN NULL ELSE pg_catalog.format('%s', ${expr}) END`;
}

/** True when the codec writes this side's values exactly as `v::text` does. */
function isPlainText(c: Codec, t: TypeDesc): boolean {
  return encodeSql(c, t, 'x') === 'x::text';
}

/** SQL: the canonical text of `expr` (a value of type `t` on this side) under codec `c`; NULL stays NULL. */
export function encodeSql(c: Codec, t: TypeDesc, expr: string, depth = 0): string {
  const name = base(t);
  switch (c.k) {
    case 'text':
      return asText(t, expr);
    case 'decimal':
      if (name && INTEGERS.has(name)) return `${expr}::text`;
      if (name && FLOATS.has(name)) return floatAsDecimalSql(expr);
      // Qualified and cast: a domain's value would find a trim_scale of the user's on that domain first.
      return `pg_catalog.trim_scale((${expr})::numeric)::text`;
    case 'float':
      // Adding +0 turns IEEE -0 into 0; NaN and Infinity keep their names.
      return `(${expr}::float8 + 0::float8)::text`;
    case 'instant': {
      if (name === 'timestamptz') return `${expr}::text`;
      // Within a day of timestamptz's range ends the conversion can fail ("timestamp out of range": a date
      // beyond 294276, or a wall clock there west of UTC): such a value has no instant, so it is compared by
      // its text, marked so it equals no instant, rather than failing the window.
      const [lo, hi] = name === 'date' ? [`'4714-11-25 BC'::date`, `'294276-12-30'::date`] : [`'4714-11-25 00:00 BC'::timestamp`, `'294276-12-30 00:00'::timestamp`];
      return `CASE WHEN (${expr} < ${lo} OR ${expr} > ${hi}) AND pg_catalog.isfinite(${expr}) THEN '~' || ${expr}::text ELSE ${expr}::timestamptz::text END`;
    }
    case 'wallclock':
      if (name !== 'date') return `${expr}::text`;
      // A date past 294276 has no timestamp (the cast fails): compared by its text, marked so it equals no timestamp.
      return `CASE WHEN ${expr} > '294276-12-31'::date AND pg_catalog.isfinite(${expr}) THEN '~' || ${expr}::text ELSE ${expr}::timestamp::text END`;
    case 'json':
      if (name === 'jsonb') return `${expr}::text`;
      return jsonSql(t, expr);
    case 'array': {
      if (!c.perElement || t.kind !== 'array') return asText(t, expr);
      // Dimensions first (they are part of an array's value), then the elements' canonical texts in order.
      const u = `u${depth}`;
      const elem = encodeSql(c.elem, t.elem, `${u}.e`, depth + 1);
      // unnest in the select list, not FROM: there a composite element would be expanded into its fields.
      const elems = `SELECT pg_catalog.unnest(${expr}) AS e, pg_catalog.generate_series(1, pg_catalog.cardinality(${expr})) AS o`;
      return `CASE WHEN ${expr} IS NULL THEN NULL ELSE coalesce(pg_catalog.array_dims(${expr}), '') || coalesce((SELECT pg_catalog.array_agg(${elem} ORDER BY ${u}.o) FROM (${elems}) ${u})::text, '{}') END`;
    }
    case 'record': {
      if (!c.perField || t.kind !== 'composite') return asText(t, expr);
      const field = (i: number) => (c.byName ? t.fields.find((x) => x.name === c.byName![i])! : t.fields[i]);
      const fields = c.fields.map((f, i) => encodeSql(f, field(i).type, `(${expr})."${field(i).name.replace(/"/g, '""')}"`, depth + 1));
      // A NULL composite is not a composite of NULLs (`IS NOT DISTINCT FROM NULL` tells them apart).
      return `CASE WHEN ${expr} IS NOT DISTINCT FROM NULL THEN NULL ELSE ROW(${fields.join(', ')})::text END`;
    }
  }
}
