/**
 * The canonical row encoding, as SQL expressions built from one side's column
 * types and each column's codec (value-codec.ts: chosen from the PAIR of types,
 * so both sides write equal values as the same text). Two rows encode to the
 * same text exactly when they hold equal values:
 *  - each value is normalised by its codec first: numerics lose trailing zeros
 *    (10.0 and 10.00 are both `10`, and an int 10 is `10` too), instants print in
 *    the session's zone, a `timestamp` is a wall clock in the dataset's window
 *    time zone, json compares as jsonb, arrays and composites recursively;
 *  - the values are then joined by Postgres's own record text format,
 *    `ROW(...)::text`, which quotes any value containing a delimiter, quote,
 *    backslash or space, writes '' as `""` and NULL as nothing. So `('a|b','c')`
 *    and `('a','b|c')` differ, and NULL differs from ''.
 * Identifiers are always quoted; nothing from config is spliced in as text.
 */
import { quoteLiteral } from '../src/core/identifiers.ts';
import { embedExpression } from '../src/core/db/expression-type.ts';
import { descOf, logicalName, type ColumnInfo } from './table-columns.ts';
import { encodeSql, selfCodec } from './value-codec.ts';
import { hashFieldSql, recordHashSql } from './row-hash-sql.ts';
import { sampleValueSql } from './sample-value.ts';

const INTEGER = new Set(['int2', 'int4', 'int8', 'oid']);
export const SUMMABLE = new Set(['numeric', 'int2', 'int4', 'int8', 'float4', 'float8']);

/**
 * The settings every reconciler session runs with, so text output is deterministic.
 * TimeZone is set per dataset (sessionSettings): the window time zone, which is
 * also the zone a `timestamp without time zone` is read in.
 */
export const SESSION_SETTINGS: readonly (readonly [string, string])[] = [
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, YMD'],
  ['IntervalStyle', 'postgres'],
  ['extra_float_digits', '1'],
  ['bytea_output', 'hex'],
  // The reconciler's own SQL writes backslashes as in standard SQL ('\\u' is two characters); a role or
  // database with standard_conforming_strings = off would read them as escapes ("invalid Unicode escape").
  ['standard_conforming_strings', 'on'],
  // A role that row-level security shows only some rows to must not get a verdict on that part:
  // with row_security off, Postgres raises an error naming the table instead of filtering (docs/reconcile.md).
  ['row_security', 'off'],
  // One side's session waits, idle in its transaction, while the other side scans (or Node walks
  // a drill-down): a role's idle_in_transaction_session_timeout would cut the connection mid-window.
  ['idle_in_transaction_session_timeout', '0'],
];

/** SESSION_SETTINGS with the dataset's time zone. */
export function sessionSettings(timeZone: string): (readonly [string, string])[] {
  return SESSION_SETTINGS.map(([k, v]) => (k === 'TimeZone' ? [k, timeZone] as const : [k, v] as const));
}

/**
 * The one SQL reference to a column on its side: a validated expression in
 * parentheses, on lines of its own exactly as it was validated (so a trailing
 * `-- comment` ends with its line), else the quoted (optionally alias-qualified) identifier.
 */
export function columnRef(col: ColumnInfo, alias?: string): string {
  if (col.expression !== undefined) return embedExpression(col.expression);
  return alias ? `${alias}.${quoteColumnName(col.name)}` : quoteColumnName(col.name);
}

/**
 * A column name as a quoted identifier. Names from config are identifiers
 * (validated when the config is compiled), but the compared columns are read
 * from the catalog, where a table nobody on the team wrote may have any name
 * ("Order Date", "a,b", "ünï", a quote): every name Postgres holds quotes
 * safely with its double quotes doubled.
 */
export function quoteColumnName(name: string): string {
  if (name.length === 0 || name.includes('\0')) throw new Error(`not a column name: ${JSON.stringify(name)}`);
  return `"${name.replace(/"/g, '""')}"`;
}

/** One value as canonical text (NULL stays NULL), by the column's codec (its own type's when none was planned). */
export function canonicalValueSql(col: ColumnInfo, alias?: string): string {
  const ref = columnRef(col, alias);
  const desc = descOf(col);
  return encodeSql(col.codec ?? selfCodec(desc), desc, ref);
}

/** A record of canonical values, as text: unambiguous by Postgres's record quoting. */
export function canonicalRecordSql(cols: readonly ColumnInfo[], alias?: string): string {
  return `ROW(${cols.map((c) => canonicalValueSql(c, alias)).join(', ')})::text`;
}

/**
 * The canonical key: always the record of its canonical values, whatever the
 * key's types, so the key text depends on the value only (a uuid key and the
 * same uuid as text, an int4 and an int8 key, land in the same place).
 */
export function canonicalKeySql(key: readonly ColumnInfo[], alias?: string): string {
  return canonicalRecordSql(key, alias);
}

/**
 * The text hashed for checksums and buckets. When the two databases use
 * different server encodings, hashtextextended would hash different bytes for
 * the same characters: then the text is hashed as the hex of its UTF-8 bytes
 * (pure ASCII, the same bytes in every server encoding). Only then: it costs.
 */
function hashInputSql(text: string, utf8: boolean): string {
  return utf8 ? `pg_catalog.encode(pg_catalog.convert_to(${text}, 'UTF8'::name), 'hex'::text)` : text;
}

/**
 * 64 bits of hash of the row (key included). With `recordHash` (both servers
 * can, row-hash-sql.ts) each value is hashed as stored where that is exact;
 * else the canonical row text is hashed.
 */
export function rowHashSql(key: readonly ColumnInfo[], compared: readonly ColumnInfo[], alias?: string, hashing: Pick<Bucketing, 'utf8Hash' | 'recordHash'> = {}): string {
  const cols = [...key, ...compared];
  const utf8 = hashing.utf8Hash ?? false;
  if (!hashing.recordHash) return `pg_catalog.hashtextextended(${hashInputSql(canonicalRecordSql(cols, alias), utf8)}, 0::int8)`;
  return recordHashSql(cols.map((c) => hashFieldSql(c.hash, columnRef(c, alias), hashInputSql(canonicalValueSql(c, alias), utf8), utf8)));
}

/**
 * How rows are spread over drill-down buckets; both sides must use the same.
 * `integer`: a single integer key on both sides is its own bucket (key mod
 * count): no text, no hash, so the extra cost over a bare scan stays small.
 * `range`: the same key when it can be NULL on neither side, by consecutive key
 * ranges of the window (key-ranges.ts): a mismatched bucket is then an index
 * range, so drill-down reads only its rows instead of scanning the window again.
 * `hash`: any other key, by a hash of its canonical text.
 */
export interface Bucketing {
  count: number;
  mode: 'hash' | 'integer' | 'range';
  /** `range`: the smallest key of the window on both sides, and the keys per bucket (decimal text, exact). */
  lo?: string;
  width?: string;
  /** The sides' server encodings differ: hash UTF-8 bytes (hashInputSql). Applies to row hashes too. */
  utf8Hash?: boolean;
  /** Both servers hash records alike (row-hash-sql.ts): row hashes read stored values where exact. */
  recordHash?: boolean;
}

export const INTEGER_TYPES = INTEGER;

/** The drill-down bucket of a row, in [0, count): a function of the key only, so both sides agree. */
export function bucketSql(key: readonly ColumnInfo[], b: Bucketing, alias?: string): string {
  if (!Number.isInteger(b.count) || b.count < 1) throw new Error(`invalid bucket count ${b.count}`);
  if (b.mode === 'range') {
    const [lo, width] = [BigInt(b.lo ?? 'x'), BigInt(b.width ?? 'x')];
    if (width < 1n) throw new Error(`invalid bucket width ${width}`);
    return `((${columnRef(key[0], alias)}::int8 - ${lo}::int8) / ${width}::int8)`;
  }
  if (b.mode === 'integer') {
    const ref = columnRef(key[0], alias);
    // A NULL key still lands in a bucket, so no row escapes the fingerprint.
    return `coalesce(pg_catalog.abs(${ref}::int8 % ${b.count}::int8), 0)`;
  }
  return `((pg_catalog.hashtextextended(${hashInputSql(canonicalKeySql(key, alias), b.utf8Hash ?? false)}, 1::int8) & 9223372036854775807::int8) % ${b.count}::int8)`;
}

/** The key as a JSON object of typed values, e.g. {"order_id": 42} (matches stream tombstones). */
export function keyJsonSql(key: readonly ColumnInfo[], alias?: string): string {
  return `jsonb_build_object(${key.map((c) => `${quoteLiteral(logicalName(c))}, ${keyValueSql(c, alias)}`).join(', ')})`;
}

/**
 * A key column's value as reported. A float4 against another type (float8, numeric) is compared
 * as the float8 it holds (0.1 is 0.10000000149011612): reported as float4 prints it, 0.1, its row
 * and the float8 0.1 looked like one key missing on both sides.
 */
function keyValueSql(c: ColumnInfo, alias?: string): string {
  const ref = columnRef(c, alias);
  const widened = c.type === 'float4' && c.codec !== undefined && c.codec.k !== 'text' && c.hash?.native !== 'value';
  return widened ? `(${ref})::float8` : ref;
}

/**
 * The compared columns' canonical values as a text[] (for column-level comparison and samples),
 * a long value as its start, length and digest (sample-value.ts).
 */
export function valuesArraySql(compared: readonly ColumnInfo[], alias?: string): string {
  if (compared.length === 0) return `ARRAY[]::text[]`;
  return `ARRAY[${compared.map((c) => sampleValueSql(`(${canonicalValueSql(c, alias)})`)).join(', ')}]`;
}

/**
 * Half-open window predicate; the bounds are typed to the window column's own
 * type (window-bounds.ts). A `timestamp` column holds wall clocks in the
 * dataset's zone (the session's TimeZone): its rows and bounds are compared as
 * the instants Postgres makes of them (timestamp-vs-timestamptz comparison
 * converts in the session zone, and stays indexable), the same rule that makes
 * its canonical value, so a row's window and its value never disagree, even for
 * wall clocks a DST change skips or repeats.
 */
export function windowPredicateSql(column: ColumnInfo | null, startParam: number, endParam: number): string {
  if (!column) return 'true';
  const ref = columnRef(column);
  if (column.type === 'date') return `${ref} >= $${startParam}::date AND ${ref} < $${endParam}::date`;
  const bound = (p: number) => (column.type === 'timestamp' ? `$${p}::timestamp::timestamptz` : `$${p}::timestamptz`);
  return `${ref} >= ${bound(startParam)} AND ${ref} < ${bound(endParam)}`;
}

/** A bucket list as an inline constant, so Postgres hashes the IN-list (it is our own integers). */
export function bucketListSql(buckets: readonly number[]): string {
  for (const b of buckets) if (!Number.isInteger(b) || b < 0) throw new Error(`invalid bucket ${b}`);
  return `'{${buckets.join(',')}}'::bigint[]`;
}
