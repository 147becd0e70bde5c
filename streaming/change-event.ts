/**
 * What a decoder makes of one raw record: zero or more change events for one key,
 * or a failure with a reason (results, not exceptions: a bad record is data).
 */
export type JsonRow = Record<string, unknown>;

export interface UpsertEvent {
  readonly op: 'upsert';
  /** Debezium op (c/u/r) or 'c' for plain JSON; handed to the transform. */
  readonly sourceOp: 'c' | 'u' | 'r';
  readonly row: JsonRow;
  readonly before: JsonRow | null;
  readonly version: bigint;
  readonly sourceTs: Date;
}

export interface DeleteEvent {
  readonly op: 'delete';
  /** The row image before the delete, or at least its key columns. */
  readonly row: JsonRow;
  readonly version: bigint;
  readonly sourceTs: Date;
}

export type ChangeEvent = UpsertEvent | DeleteEvent;

export type PipelineStage = 'decode' | 'validate' | 'transform' | 'apply';

export type DecodeResult =
  | { readonly ok: true; readonly event: ChangeEvent | null } // null: nothing to do (e.g. a Debezium tombstone)
  | { readonly ok: false; readonly reason: string };

/** Parses a version from a number or decimal string; null when absent or not an integer. */
export function parseVersion(v: unknown): bigint | null {
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  if (typeof v === 'bigint') return v;
  if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) return BigInt(v);
  return null;
}

/** Epoch milliseconds (number or string) to a Date, or null. */
export function parseEpochMs(v: unknown): Date | null {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? new Date(n) : null;
}
