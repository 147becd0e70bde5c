/**
 * How the serving view casts a stream value to the batch column's type so that readers get the
 * value the reconciler compared (reconcile/value-codec.ts), whatever their session settings.
 * A plain `::` is used wherever it gives that value; the pairs where it does not are converted:
 * scalars, arrays element by element, composites field by field.
 */
import { quoteIdent, quoteLiteral } from '../identifiers.ts';
import type { ServedType } from './served-type.ts';

/** A stream type that cannot be served as the batch type with the compared values: the promotion is refused, naming it. */
export class Unservable extends Error {}

const WALL_CLOCKS = new Set(['timestamp', 'date']);
const FLOATS = new Set(['float4', 'float8']);

/**
 * A stream scalar cast to the batch's type `to`, or null when a plain `::` gives what was compared.
 * Between a wall clock (`timestamp`, `date`) and an instant (`timestamptz`) a plain `::` converts
 * in each reader's session TimeZone, while the reconciler compared them in the dataset's window time
 * zone: there a reader in UTC was served `2026-11-19 23:30` for the batch's Berlin `2026-11-20 00:30`.
 * Converted in that zone instead. A float under a numeric goes through dualrun.float_decimal (migration 1490).
 */
function scalarCast(ref: string, s: string, b: string, to: string, z: string): string | null {
  if (s === 'timestamptz' && WALL_CLOCKS.has(b)) return `(${ref} AT TIME ZONE ${z})::${to}`;
  if (b === 'timestamptz' && WALL_CLOCKS.has(s)) return `(${ref}::timestamp AT TIME ZONE ${z})::${to}`;
  // A float under a numeric: as the decimal the reconciler compared (its shortest round-trip text).
  // float8::numeric keeps 15 digits: 0.30000000000000004 matched and was served as 0.3.
  if (FLOATS.has(s) && b === 'numeric') return `dualrun.float_decimal(${ref}::float8)::${to}`;
  return null;
}

/**
 * The stream field paired with each batch field, as the reconciler pairs them: by name when both
 * have the same names in another order, else by position (value-codec.ts, reorderedFields).
 */
function pairedFields(s: NonNullable<ServedType['fields']>, b: NonNullable<ServedType['fields']>): NonNullable<ServedType['fields']> {
  const bn = b.map((f) => f.name);
  const sn = s.map((f) => f.name);
  const sorted = (xs: string[]) => [...xs].sort().join('\u0000');
  const byName = !bn.every((n, i) => n === sn[i]) && new Set(bn).size === bn.length && sorted(bn) === sorted(sn);
  return byName ? bn.map((n) => s.find((f) => f.name === n)!) : s;
}

/**
 * A composite built as the batch type, each field cast by these rules, in the batch type's order.
 * A plain `::` cast the fields with float8::numeric and the reader's TimeZone (or paired them by
 * position when the reconciler paired them by name). A NULL composite stays NULL (not a row of NULLs).
 */
function compositeCast(ref: string, s: ServedType, b: ServedType, z: string, depth: number): string | null {
  if (!s.fields && !b.fields) return null;
  // The reconciler reports these as schema drift (never a match): there is no batch value to serve.
  if (!s.fields || !b.fields) throw new Unservable('a composite on one side only');
  if (s.fields.length !== b.fields.length) throw new Unservable(`composites with ${b.fields.length} and ${s.fields.length} fields`);
  const paired = pairedFields(s.fields, b.fields);
  const fields = b.fields.map((bf, i) => {
    const sf = paired[i];
    const at = `(${ref}).${quoteIdent(sf.name)}`;
    try {
      return convert(at, sf.type, bf.type, z, depth) ?? `${at}::${bf.type.type}`;
    } catch (e) {
      if (e instanceof Unservable) throw new Unservable(`field ${bf.name}: ${e.message}`);
      throw e;
    }
  });
  return `CASE WHEN ${ref} IS NOT DISTINCT FROM NULL THEN NULL::${b.type} ELSE ROW(${fields.join(', ')})::${b.type} END`;
}

/**
 * An array of such a pair (or of composites holding one) converted element by element, as the
 * reconciler compared it. The elements keep their order, NULL elements stay NULL, and
 * dualrun.array_shaped (migration 1500) puts back the dimensions and lower bounds, which the
 * reconciler counted as part of the value.
 */
function arrayCast(ref: string, s: ServedType, b: ServedType, z: string, depth: number): string | null {
  if (!s.elem || !b.elem) return null;
  const u = `u${depth}`;
  const elem = convert(`${u}.e`, s.elem, b.elem, z, depth + 1);
  if (elem === null) return null;
  // unnest in the select list, not FROM: there a composite element would be expanded into its fields.
  const elems = `SELECT pg_catalog.unnest(${ref}) AS e, pg_catalog.generate_series(1, pg_catalog.cardinality(${ref})) AS o`;
  const flat = `ARRAY(SELECT ${elem} FROM (${elems}) ${u} ORDER BY ${u}.o)`;
  return `(CASE WHEN ${ref} IS NULL THEN NULL ELSE dualrun.array_shaped(${flat}, pg_catalog.array_dims(${ref})) END)::${b.type}`;
}

/** `ref` (of stream type `s`) as batch type `b`, or null when a plain `::` gives what was compared. */
function convert(ref: string, s: ServedType, b: ServedType, z: string, depth: number): string | null {
  if (s.type === b.type) return null;
  return scalarCast(ref, s.base, b.base, b.type, z) ?? compositeCast(ref, s, b, z, depth) ?? arrayCast(ref, s, b, z, depth);
}

/** SQL: the stream column `ref` served as the batch column's type; throws Unservable where that cannot be done faithfully. */
export function servedCastSql(ref: string, s: ServedType, b: ServedType, zone: string): string {
  return convert(ref, s, b, quoteLiteral(zone), 0) ?? `${ref}::${b.type}`;
}
