/**
 * Results with history in dualrun.reconciliations: one row per judged window,
 * the whole WindowResult in `result`, the counts in columns for the cutover gate
 * and for trends, and the dataset definition it judged. A window that could not
 * be judged goes to dualrun.reconcile_errors: never evidence, and it breaks the
 * gate's streak like a mismatch (docs/cutover.md).
 */
import type { Pool } from '../src/core/db/connect.ts';
import { recordDefinition, type DatasetDefinition } from '../src/core/cutover/dataset-definition.ts';
import type { WindowResult } from './types.ts';
import { stringifyExact } from '../src/core/exact-json.ts';

export async function storeResult(db: Pool, r: WindowResult, startedAt: Date, definition: DatasetDefinition | null = null): Promise<number | null> {
  if (definition) await recordDefinition(db, r.dataset, definition, 'reconcile');
  if (r.verdict === 'error') return storeError(db, r, definition);
  const d = r.diff;
  const res = await db.query<{ id: string }>(
    `INSERT INTO dualrun.reconciliations
       (dataset, window_start, window_end, window_label, verdict, stage, batch_rows, batch_checksum, stream_rows, stream_checksum,
        missing_in_stream, missing_in_batch, changed, duplicate_keys, in_flight, result, started_at, duration_ms, definition)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)
     RETURNING id`,
    [
      r.dataset, r.windowStart, r.windowEnd, r.window, r.verdict, r.stage,
      r.batch?.rows ?? null, r.batch?.checksum ?? null, r.stream?.rows ?? null, r.stream?.checksum ?? null,
      d?.missingInStream ?? 0, d?.missingInBatch ?? 0, d?.changed ?? 0, d?.duplicateKeys ?? 0, d?.inFlight ?? 0,
      stringifyExact(r), startedAt.toISOString(), r.durationMs, definition?.fingerprint ?? null,
    ],
  );
  return Number(res.rows[0].id);
}

/** A failed window; its id is not a reconciliation id, so the result keeps `id: null`. */
async function storeError(db: Pool, r: WindowResult, definition: DatasetDefinition | null): Promise<null> {
  const e = r.error ?? { code: 'DUALRUN_RECONCILE_FAILED', message: 'the reconciliation failed without a message' };
  await db.query(
    `INSERT INTO dualrun.reconcile_errors (dataset, window_start, window_end, window_label, stage, code, message, error, definition)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [r.dataset, r.windowStart, r.windowEnd, r.window, r.stage, e.code, e.message, JSON.stringify(e), definition?.fingerprint ?? null]);
  return null;
}
