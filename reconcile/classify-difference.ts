/**
 * Classifying one key whose rows differ between the sides. Pure: the drill-down
 * (SQL or Node) hands over both sides' rows for a key as canonical values.
 */
import type { ColumnValues, DifferenceKind } from './types.ts';
import { parseDecimal, toDecimal, withinAbsolute } from './exact-decimal.ts';

export interface SideRows {
  /** Rows carrying this key on this side. */
  n: number;
  /** Canonical values of the compared columns (of one of the rows). */
  values: (string | null)[];
  /** Stream side: `_dr_source_ts` of the row (when the stream last changed it). */
  sourceTs?: Date | null;
}

export interface KeyPair {
  /** Canonical key text (what the sides are joined on). */
  k: string;
  /** The key as JSON text, e.g. {"order_id": 42}. */
  key: string;
  batch: SideRows | null;
  stream: SideRows | null;
}

export interface Difference {
  k: string;
  key: string;
  kind: DifferenceKind;
  columns?: Record<string, ColumnValues>;
  count?: { batch: number; stream: number };
  /** When the stream side last changed this key (row or tombstone); null when unknown. */
  streamTs: Date | null;
}

export type Tolerance = Readonly<Record<string, number>>;

/** How a side holds a number: exactly (integers, numeric, money) or as a float (float4, float8). */
export type NumberKind = 'exact' | 'float';

/**
 * The compared columns that hold numbers on BOTH sides, with how each side holds them:
 * a tolerance applies to these only. Any other column compares its text, tolerance or
 * not (a text `5` and ` 5.`, or jsonb `1` and `1.001`, read as numbers, are not equal).
 */
export type NumberSides = ReadonlyMap<string, readonly [NumberKind, NumberKind]>;

const NUMBER_TYPES: Readonly<Record<string, NumberKind>> = { int2: 'exact', int4: 'exact', int8: 'exact', numeric: 'exact', money: 'exact', float4: 'float', float8: 'float' };

/** How a column of this base type (domains resolved) holds a number; null when it does not. */
export function numberKind(baseType: string | undefined): NumberKind | null {
  return (baseType !== undefined && Object.hasOwn(NUMBER_TYPES, baseType)) ? NUMBER_TYPES[baseType] : null;
}

/**
 * Null when the key does not differ (e.g. only within tolerance). `numbers`: the
 * compared columns that are numbers on both sides (only those take a tolerance); a
 * float side's canonical values are taken as the exact doubles they denote.
 */
export function classifyPair(pair: KeyPair, columns: readonly string[], tolerance: Tolerance, numbers: NumberSides = new Map()): Difference | null {
  const { k, key, batch, stream } = pair;
  const streamTs = stream?.sourceTs ?? null;
  if ((batch?.n ?? 0) > 1 || (stream?.n ?? 0) > 1) {
    return { k, key, kind: 'duplicate_key', count: { batch: batch?.n ?? 0, stream: stream?.n ?? 0 }, streamTs: null };
  }
  if (!stream) return { k, key, kind: 'missing_in_stream', streamTs: null };
  if (!batch) return { k, key, kind: 'missing_in_batch', streamTs };
  const diff: Record<string, ColumnValues> = {};
  columns.forEach((col, i) => {
    const b = batch.values[i] ?? null;
    const s = stream.values[i] ?? null;
    if (b === s) return;
    const kinds = numbers.get(col);
    if (tolerance[col] !== undefined && kinds && withinTolerance(b, s, tolerance[col], [kinds[0] === 'float', kinds[1] === 'float'])) return;
    diff[col] = { batch: b, stream: s };
  });
  if (Object.keys(diff).length === 0) return null;
  return { k, key, kind: 'changed', columns: diff, streamTs };
}

/**
 * |batch - stream| <= tolerance for two canonical numbers, exactly: decimal
 * arithmetic on the canonical decimal texts (floats as the doubles they are),
 * the tolerance as the decimal written in the config, absolute, no hidden slack.
 * NULL against a value is never within tolerance; a non-number only equals itself.
 */
export function withinTolerance(batch: string | null, stream: string | null, tolerance: number, float: boolean | readonly [boolean, boolean] = false): boolean {
  if (batch === null || stream === null) return batch === stream;
  if (batch === stream) return true;
  const [bf, sf] = typeof float === 'boolean' ? [float, float] : float;
  const a = toDecimal(batch, bf);
  const b = toDecimal(stream, sf);
  // String(0.005) is the shortest decimal that denotes the configured double: what the user wrote.
  const limit = parseDecimal(String(tolerance));
  if (!a || !b || !limit) return false;
  return withinAbsolute(a, b, limit);
}

export function isInFlight(d: Difference, snapshotAt: Date | null): boolean {
  if (!snapshotAt || !d.streamTs || d.kind === 'duplicate_key') return false;
  return d.streamTs.getTime() > snapshotAt.getTime();
}
