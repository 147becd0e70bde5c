/**
 * Writes a batch's dead letters in one statement, inside the batch transaction.
 * The message key and record time are kept beside the payload so that
 * `dualrun dead-letters retry` can rebuild the source record exactly.
 */
import type { PoolClient } from '../src/core/db/connect.ts';
import type { PartitionRef } from './positions.ts';
import type { DeadLetter } from './record-pipeline.ts';

export async function writeDeadLetters(c: PoolClient, p: PartitionRef, letters: readonly DeadLetter[]): Promise<void> {
  if (letters.length === 0) return;
  await c.query(
    `INSERT INTO dualrun.dead_letters (dataset, source, partition, position, record_key, payload, stage, reason, error, message_key, record_ts)
     SELECT $1, $2, $3, d.position, d.record_key, d.payload, d.stage, d.reason, d.error::jsonb, d.message_key, to_timestamp(d.ts_ms / 1000.0)
       FROM unnest($4::bigint[], $5::text[], $6::bytea[], $7::text[], $8::text[], $9::text[], $10::bytea[], $11::float8[])
         AS d(position, record_key, payload, stage, reason, error, message_key, ts_ms)`,
    [
      p.dataset, p.source, p.partition,
      letters.map((d) => d.record.fallbackVersion.toString()),
      letters.map((d) => d.recordKey ?? (d.record.key ? d.record.key.toString('utf8') : null)),
      letters.map((d) => (d.record.value === null ? null : typeof d.record.value === 'string' ? Buffer.from(d.record.value) : d.record.value)),
      letters.map((d) => d.stage),
      letters.map((d) => d.reason.replace(/\0/g, '')),
      letters.map((d) => errorJson(d.error)),
      letters.map((d) => d.record.key),
      letters.map((d) => d.record.timestamp.getTime()),
    ]);
}

/**
 * A dead letter's `error` as jsonb text. jsonb cannot hold U+0000 or a lone surrogate,
 * and either may be in it (the refused value, the database's message quoting it): they
 * are written as the visible text `\\u0000` / U+FFFD inside the strings. (Removing
 * `\\u0000` from the JSON text instead broke it when a message quoted that escape:
 * `"\\\\u0000"` became `"\\` and the whole batch failed, stopping the stream.)
 */
export function errorJson(error: unknown): string | null {
  if (error === null || error === undefined) return null;
  return JSON.stringify(error, (_k, v: unknown) => (typeof v === 'string' ? (v.replace(/\0/g, '\\u0000') as unknown as { toWellFormed(): string }).toWellFormed() : v));
}
