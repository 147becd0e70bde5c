/**
 * Results with history in dualrun.reconciliations: one row per judged window,
 * the whole WindowResult in `result`, the counts in columns for the cutover gate
 * and for trends. Errors are not evidence and are not stored.
 */
import type { Pool } from '../src/db/connect.ts';
import type { WindowResult } from './types.ts';
import { stringifyExact } from '../src/exact-json.ts';

export async function storeResult(db: Pool, r: WindowResult, startedAt: Date): Promise<number | null> {
  if (r.verdict === 'error') return null;
  const d = r.diff;
  const res = await db.query<{ id: string }>(
    `INSERT INTO dualrun.reconciliations
       (dataset, window_start, window_end, window_label, verdict, stage, batch_rows, batch_checksum, stream_rows, stream_checksum,
        missing_in_stream, missing_in_batch, changed, duplicate_keys, in_flight, result, started_at, duration_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)
     RETURNING id`,
    [
      r.dataset, r.windowStart, r.windowEnd, r.window, r.verdict, r.stage,
      r.batch?.rows ?? null, r.batch?.checksum ?? null, r.stream?.rows ?? null, r.stream?.checksum ?? null,
      d?.missingInStream ?? 0, d?.missingInBatch ?? 0, d?.changed ?? 0, d?.duplicateKeys ?? 0, d?.inFlight ?? 0,
      stringifyExact(r), startedAt.toISOString(), r.durationMs,
    ],
  );
  return Number(res.rows[0].id);
}
