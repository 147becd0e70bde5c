/**
 * The canonical row encoding, as SQL expressions built from one side's column
 * types. Two rows encode to the same text exactly when they hold the same
 * values:
 *  - each value is normalised by type first: numerics lose trailing zeros
 *    (`trim_scale`: 10.0 and 10.00 are both `10`, and an int 10 is `10` too),
 *    timestamps become UTC instants (the session runs with TimeZone=UTC; a
 *    timestamp without time zone is read as UTC), json becomes jsonb text;
 *  - the values are then joined by Postgres's own record text format,
 *    `ROW(...)::text`, which quotes any value containing a delimiter, quote,
 *    backslash or space, writes '' as `""` and NULL as nothing. So `('a|b','c')`
 *    and `('a','b|c')` differ, and NULL differs from ''.
 * Identifiers are always quoted; nothing from config is spliced in as text.
 */
import { quoteIdent, quoteLiteral } from '../src/identifiers.ts';
import { embedExpression } from '../src/db/expression-type.ts';
import { logicalName, type ColumnInfo } from './table-columns.ts';

const INTEGER = new Set(['int2', 'int4', 'int8', 'oid']);
const FLOAT = new Set(['float4', 'float8']);
export const SUMMABLE = new Set(['numeric', 'int2', 'int4', 'int8', 'float4', 'float8']);

/** The settings every reconciler session runs with, so text output is deterministic. */
export const SESSION_SETTINGS: readonly (readonly [string, string])[] = [
  ['TimeZone', 'UTC'],
  ['DateStyle', 'ISO, YMD'],
  ['IntervalStyle', 'postgres'],
  ['extra_float_digits', '1'],
  ['bytea_output', 'hex'],
];

/**
 * The one SQL reference to a column on its side: a validated expression in
 * parentheses, on lines of its own exactly as it was validated (so a trailing
 * `-- comment` ends with its line), else the quoted (optionally alias-qualified) identifier.
 */
export function columnRef(col: ColumnInfo, alias?: string): string {
  if (col.expression !== undefined) return embedExpression(col.expression);
  return alias ? `${alias}.${quoteIdent(col.name)}` : quoteIdent(col.name);
}

/** One value as canonical text (NULL stays NULL). */
export function canonicalValueSql(col: ColumnInfo, alias?: string): string {
  const ref = columnRef(col, alias);
  if (col.type === 'numeric') return `trim_scale(${ref})::text`;
  if (INTEGER.has(col.type) || FLOAT.has(col.type)) return `${ref}::text`;
  if (col.type === 'timestamptz') return `${ref}::text`;
  // A wall-clock timestamp is taken as UTC so it compares with a timestamptz column.
  if (col.type === 'timestamp') return `(${ref} AT TIME ZONE 'UTC')::text`;
  if (col.type === 'json') return `${ref}::jsonb::text`;
  return `${ref}::text`;
}

/** A record of canonical values, as text: unambiguous by Postgres's record quoting. */
export function canonicalRecordSql(cols: readonly ColumnInfo[], alias?: string): string {
  return `ROW(${cols.map((c) => canonicalValueSql(c, alias)).join(', ')})::text`;
}

const NON_TEXT_KEY = new Set([...INTEGER, ...FLOAT, 'numeric', 'date', 'timestamp', 'timestamptz', 'uuid', 'bool']);

/**
 * The canonical key. A single key column of a type whose text can never be
 * `\N` (numbers, dates, instants, uuids) is its canonical value: cheaper than a
 * record and still unambiguous. Text-like and composite keys are records.
 */
export function canonicalKeySql(key: readonly ColumnInfo[], alias?: string): string {
  if (key.length === 1 && NON_TEXT_KEY.has(key[0].type)) return `coalesce(${canonicalValueSql(key[0], alias)}, '\\N')`;
  return canonicalRecordSql(key, alias);
}

/** 64 bits of hash of the canonical row (key included). */
export function rowHashSql(key: readonly ColumnInfo[], compared: readonly ColumnInfo[], alias?: string): string {
  return `hashtextextended(${canonicalRecordSql([...key, ...compared], alias)}, 0)`;
}

/**
 * How rows are spread over drill-down buckets; both sides must use the same.
 * `integer`: a single integer key on both sides is its own bucket (key mod
 * count): no text, no hash, so the extra cost over a bare scan stays small.
 * `hash`: any other key, by a hash of its canonical text.
 */
export interface Bucketing { count: number; mode: 'hash' | 'integer' }

export const INTEGER_TYPES = INTEGER;

/** The drill-down bucket of a row, in [0, count): a function of the key only, so both sides agree. */
export function bucketSql(key: readonly ColumnInfo[], b: Bucketing, alias?: string): string {
  if (!Number.isInteger(b.count) || b.count < 1) throw new Error(`invalid bucket count ${b.count}`);
  if (b.mode === 'integer') {
    const ref = columnRef(key[0], alias);
    // A NULL key still lands in a bucket, so no row escapes the fingerprint.
    return `coalesce(abs(${ref}::int8 % ${b.count}), 0)`;
  }
  return `((hashtextextended(${canonicalKeySql(key, alias)}, 1) & 9223372036854775807) % ${b.count})`;
}

/** The key as a JSON object of typed values, e.g. {"order_id": 42} (matches stream tombstones). */
export function keyJsonSql(key: readonly ColumnInfo[], alias?: string): string {
  return `jsonb_build_object(${key.map((c) => `${quoteLiteral(logicalName(c))}, ${columnRef(c, alias)}`).join(', ')})`;
}

/** The compared columns' canonical values as a text[] (for column-level comparison). */
export function valuesArraySql(compared: readonly ColumnInfo[], alias?: string): string {
  if (compared.length === 0) return `ARRAY[]::text[]`;
  return `ARRAY[${compared.map((c) => canonicalValueSql(c, alias)).join(', ')}]`;
}

/** Half-open window predicate; the bounds are typed to the window column's own type. */
export function windowPredicateSql(column: ColumnInfo | null, startParam: number, endParam: number): string {
  if (!column) return 'true';
  const cast = column.type === 'date' ? 'date' : column.type === 'timestamp' ? 'timestamp' : 'timestamptz';
  const ref = columnRef(column);
  return `${ref} >= $${startParam}::${cast} AND ${ref} < $${endParam}::${cast}`;
}

/** A bucket list as an inline constant, so Postgres hashes the IN-list (it is our own integers). */
export function bucketListSql(buckets: readonly number[]): string {
  for (const b of buckets) if (!Number.isInteger(b) || b < 0) throw new Error(`invalid bucket ${b}`);
  return `'{${buckets.join(',')}}'::bigint[]`;
}
