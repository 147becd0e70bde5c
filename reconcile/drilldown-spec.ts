/** What both drill-down strategies need to know about a window's comparison. */
import type { SideSpec } from './window-fingerprint.ts';
import type { Bucketing } from './canonical-row-sql.ts';

export interface DrilldownSpec {
  batch: SideSpec;
  stream: SideSpec;
  buckets: Bucketing;
  /** Buckets whose fingerprints differ: only their rows are read. */
  mismatched: number[];
  /** Window bounds per side (typed to each side's window column), or null. */
  batchBounds: [string, string] | null;
  streamBounds: [string, string] | null;
  /** Rows in the mismatched buckets, both sides (known from the fingerprints): bounds what drill-down reads. */
  candidateRows: number;
  /** Limits for reading in one round trip; default IN_MEMORY_ROWS and PROBE_ROWS. */
  limits: { inMemoryRows: number; probeRows: number };
}

/** Up to this many candidate rows, drill-down results are read in one round trip (parallel plans allowed). */
export const IN_MEMORY_ROWS = 50_000;
/** Same database: up to this many differing keys are read in one round trip (tried with a LIMIT first). */
export const PROBE_ROWS = 10_000;

/** The stream's `_dr_source_ts` when the table has it (in-flight detection), else NULL. */
export function sourceTsSql(side: SideSpec, alias?: string): string {
  if (!side.shape.columns.has('_dr_source_ts')) return 'NULL::timestamptz';
  return alias ? `${alias}."_dr_source_ts"` : '"_dr_source_ts"';
}

/** One query over both sides: the window bounds as parameters, batch's first ($bStart), then stream's ($sStart). */
export function windowParams(spec: DrilldownSpec): { params: string[]; bStart: number; sStart: number } {
  const params: string[] = [];
  const bStart = params.length + 1;
  if (spec.batch.windowColumn && spec.batchBounds) params.push(...spec.batchBounds);
  const sStart = params.length + 1;
  if (spec.stream.windowColumn && spec.streamBounds) params.push(...spec.streamBounds);
  return { params, bStart, sStart };
}
