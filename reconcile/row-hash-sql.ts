/**
 * The row hash behind every checksum and bucket fingerprint, computed from the
 * stored values where that is exact, so a scan does not pay for printing every
 * value as text (`timestamptz` output alone costs half a bare hashing scan).
 *
 * Each field is hashed by Postgres's own type-aware extended hash
 * (`hash_record_extended`, Postgres 14+) where that hash equates exactly the
 * values the equality rules equate (value-codec.ts) and nothing more:
 *  - only when both sides hold the very same type (a pair of different types
 *    keeps its canonical text, as before);
 *  - int2/int4/date/bool/uuid/bytea/numeric/float: the hash of the value
 *    (numeric's ignores scale, as the `decimal` rule does; float's equates -0
 *    and 0 and every NaN, as the `float` rule does);
 *  - strings under the "C" collation, so a non-deterministic collation cannot
 *    make 'a' and 'A' hash alike; never when the servers' encodings differ;
 *  - int8 and the timestamps through their 8-byte binary form: Postgres's own
 *    int8 hash folds 64 bits into 32 (1 and 4294967296 hash alike; so do two
 *    instants 71.6 minutes apart), which would let a real change pass;
 *  - everything else (interval: `1 day` vs `24 hours` hash alike; jsonb: 1.0 vs
 *    1.00; enums: by oid; arrays, composites, json, citext...) as canonical text.
 * Two degenerate cases of those hashes are taken care of:
 *  - numeric's hash ignores the sign (5 and -5 hash alike) and gives NaN,
 *    Infinity and -Infinity all the seed: a numeric is hashed with `v < 0` and
 *    `v = 'NaN'` beside it (so 5 / -5, and NaN / Infinity / -Infinity, differ),
 *    or, when both sides are numeric of one scale (numeric(12,2) alike), as its
 *    binary form (equal values are equal bytes there; one field costs less);
 *  - the record hash hashes a NULL field as 0, and float's hash of 0 and
 *    numeric's of NaN/±Infinity are the seed itself (numeric 0: the seed - 1):
 *    with the seed 0, NULL and 0.0 (or NaN) would hash alike, so the record is
 *    hashed with a seed that neither it nor it - 1 is 0.
 * The record hash combines fields linearly (31 * h + next); summed over rows a
 * linear hash would let values swap between rows unseen, so the record hash is
 * hashed once more before it is summed.
 */
import type { TypeDesc } from './table-columns.ts';

/** Types hashed as their value, by base type name: the cast that names the type (domains resolve to it). */
const BY_VALUE: Readonly<Record<string, string>> = {
  int2: 'int2', int4: 'int4', numeric: 'numeric', float4: 'float4', float8: 'float8',
  bool: 'bool', date: 'date', uuid: 'uuid', bytea: 'bytea',
};
/** Strings: hashed as their bytes under the C collation (bpchar without its trailing blanks, as its text). */
const STRINGS: Readonly<Record<string, string>> = { text: 'text', varchar: 'text', bpchar: 'bpchar' };
/** 64-bit values whose own hash folds them to 32 bits: hashed through their binary send form. */
const BY_BYTES: Readonly<Record<string, string>> = { int8: 'int8send', timestamptz: 'timestamptz_send', timestamp: 'timestamp_send' };

/** How one column is hashed on both sides: its value (`native`), or its canonical text. */
export type FieldHash = { native: 'value' | 'string' | 'bytes'; type: string } | { native: null };

/** The field hash for a column typed `b` on the batch side and `s` on the stream side. */
export function planFieldHash(b: TypeDesc, s: TypeDesc): FieldHash {
  if (b.kind !== 'base' || s.kind !== 'base' || b.name !== s.name) return { native: null };
  const name = b.name;
  // One scale on both sides (numeric(p,s) alike): equal values have equal binary forms, which carry
  // the sign and NaN/±Infinity; one field, cheaper than the value with its two comparisons (below).
  if (name === 'numeric' && b.typmod !== undefined && b.typmod >= 0 && b.typmod === s.typmod) return { native: 'bytes', type: 'numeric_send' };
  if (BY_VALUE[name]) return { native: 'value', type: BY_VALUE[name] };
  if (STRINGS[name]) return { native: 'string', type: STRINGS[name] };
  if (BY_BYTES[name]) return { native: 'bytes', type: BY_BYTES[name] };
  return { native: null };
}

/**
 * One field of the hashed record. `canonical`: the field's canonical text SQL,
 * used when the value cannot be hashed natively. `utf8`: the servers' encodings
 * differ, so strings are hashed as the hex of their UTF-8 bytes (the caller's
 * canonical text already is) and never natively.
 */
export function hashFieldSql(plan: FieldHash | undefined, ref: string, canonical: string, utf8: boolean): string {
  // numeric's hash ignores the sign and equates NaN and ±Infinity: two comparisons tell them apart
  // (sign() would not: its result is a numeric too, so -1 and 1 hash alike).
  if (plan && plan.native === 'value' && plan.type === 'numeric') return `(${ref})::numeric, (${ref})::numeric < 0, (${ref})::numeric = 'NaN'::numeric`;
  if (plan && plan.native === 'value') return `(${ref})::${plan.type}`;
  if (plan && plan.native === 'bytes') return `pg_catalog.${plan.type}(${ref})`;
  if (plan && plan.native === 'string' && !utf8) return `(${ref})::${plan.type} COLLATE "C"`;
  return `(${canonical}) COLLATE "C"`;
}

/**
 * The record hash's seed, passed on to every field's hash. Not 0 and not 1: a
 * NULL field hashes as 0 whatever the seed, while float's hash of 0 and numeric's
 * of NaN/±Infinity return the seed and numeric's of 0 the seed - 1.
 */
export const RECORD_SEED = '7046029254386353131';

/**
 * 64 bits of hash of a record of fields, non-linear in the fields (see above):
 * the record hash is hashed again as an exact numeric (every bit counts), the
 * cheapest full 64-bit rehash Postgres offers (measured against rehashing its
 * 8 bytes or its text).
 */
export function recordHashSql(fields: readonly string[]): string {
  if (fields.length <= CHUNK) return rehashed(fields);
  // A ROW holds at most 1664 entries (a numeric is three: 555 numeric columns are too many for one):
  // each chunk of columns is hashed as above, and the chunks' hashes are hashed as one more record.
  const chunks: string[] = [];
  for (let i = 0; i < fields.length; i += CHUNK) chunks.push(`(${rehashed(fields.slice(i, i + CHUNK))})::int8`);
  return rehashed(chunks);
}

/** Columns hashed in one record: each is one or (a numeric hashed by value) three ROW entries, 1500 at most. */
const CHUNK = 500;

function rehashed(fields: readonly string[]): string {
  // Qualified: with the user's schemas on the path (reconcile.expressions), an overload taking the literal's
  // integer would be preferred to pg_catalog's bigint one, and could hash every row alike.
  return `pg_catalog.hash_numeric_extended(pg_catalog.hash_record_extended(ROW(${fields.join(', ')}), ${RECORD_SEED}::int8)::numeric, 0::int8)`;
}

/**
 * Whether both servers can hash records (14+) and agree on the hash functions:
 * one server, or two of the same major version.
 */
export function recordHashUsable(batchVersionNum: number, streamVersionNum: number, sameDatabase: boolean): boolean {
  if (batchVersionNum < 140000 || streamVersionNum < 140000) return false;
  return sameDatabase || Math.floor(batchVersionNum / 10000) === Math.floor(streamVersionNum / 10000);
}
