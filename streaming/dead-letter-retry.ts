/**
 * `dualrun dead-letters retry`: sends chosen dead letters through the dataset's
 * *current* decoder, schema and transform and applies them with the sink's own
 * apply step (exactly-once-sink.ts applyRecords), so the version rules of the live
 * path hold: a retried record older than the stored row (or a tombstone) for its
 * key changes nothing.
 *
 * Exactly once: each chunk is one transaction that applies the records AND marks
 * their dead letters `retried` (or records the new failure), under the
 * partition's advisory lock and with the dead-letter rows locked. A retry killed
 * at any point either committed a chunk (its letters are no longer open, so a
 * second retry skips them) or left nothing behind.
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import { inTransaction, type Pool, type PoolClient } from '../src/core/db/connect.ts';
import { DualrunError } from '../src/core/errors.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { filterSql, type DeadLetterFilter } from './dead-letter-store.ts';
import { errorJson } from './dead-letters.ts';
import { decoderFor } from './decoder.ts';
import { applyRecords, type SinkDeps } from './exactly-once-sink.ts';
import { mergeStatements } from './output-merge.ts';
import { prepareOutputTable } from './output-table.ts';
import { lockPartition } from './positions.ts';
import type { DeadLetter } from './record-pipeline.ts';
import { loadValidator } from './record-validator.ts';
import { streamDatabase } from './stream-database.ts';
import { loadTransform } from './transform-module.ts';
import type { SourceRecord } from './transport.ts';

export interface RetryOptions { actor: string; batchSize?: number; signal?: AbortSignal; onChunk?: (done: RetryOutcome) => void }

export interface RetryOutcome {
  dataset: string;
  /** Applied (marked retried); ids as text. */
  retried: string[];
  /** Failed again: still open, with the new stage and reason. */
  failed: { id: string; stage: string; reason: string }[];
}

type Deps = SinkDeps;

export async function retryDeadLetters(rt: Runtime, ds: DatasetConfig, filter: DeadLetterFilter, opts: RetryOptions): Promise<RetryOutcome> {
  const db = await streamDatabase(rt, ds);
  const deps = await currentPipeline(rt, ds, db);
  const size = opts.batchSize ?? 500;
  const total: RetryOutcome = { dataset: ds.name, retried: [], failed: [] };
  let after: Cursor | null = null;
  for (;;) {
    if (opts.signal?.aborted) break;
    const chunk = await nextChunk(db, ds.name, filter, size, after);
    if (!chunk) break;
    after = chunk.last;
    const done = await inTransaction(db, (c) => retryChunk(c, { ...deps, source: chunk.source }, chunk, opts.actor));
    total.retried.push(...done.retried);
    total.failed.push(...done.failed);
    opts.onChunk?.(done);
  }
  return total;
}

/** The decoder, schema, transform and output the stream worker would use now. */
async function currentPipeline(rt: Runtime, ds: DatasetConfig, db: Pool): Promise<Deps> {
  const transform = await loadTransform(ds.stream.transform);
  if (transform.stateKey) {
    throw new DualrunError('DUALRUN_USAGE',
      `dataset ${ds.name} has a stateful transform (stateKey): a retried record would update keyed state out of source order. ` +
      `Fix the transform, then rebuild with a replay (dualrun stream --dataset ${ds.name} --from-beginning --reset-output), or discard the dead letters`);
  }
  const src = ds.stream.source;
  if (!src) throw new DualrunError('DUALRUN_USAGE', `dataset ${ds.name} has an adopted stream output (no stream.source): an external pipeline writes it, so dualrun has no pipeline to retry through`);
  const output = await prepareOutputTable(db, ds.stream.output, ds.key, { file: rt.config.path, dataset: ds.name });
  return {
    db, dataset: ds.name, key: ds.key, source: '', // set per chunk
    committed: new Map(), // unused: a retry has no position fence of its own
    merge: mergeStatements(output, { guardVersions: true }),
    decode: decoderFor(src.kind === 'topic' ? src.format : 'debezium'),
    validate: loadValidator(ds.stream.schema),
    transform,
  };
}

interface Cursor { source: string; partition: number; position: string; id: string }
interface Chunk { source: string; partition: number; ids: string[]; last: Cursor }

/**
 * The next chosen ids in source order after the cursor, at most `size`, all of one
 * partition (a chunk is applied under that partition's lock). Keyset paging keeps
 * memory bounded by the chunk, whatever the number of dead letters.
 */
async function nextChunk(db: Pool, dataset: string, filter: DeadLetterFilter, size: number, after: Cursor | null): Promise<Chunk | null> {
  const { where, values } = filterSql(dataset, { ...filter, status: 'open' });
  const n = values.length;
  const cursor = after ? ` AND (d.source, d.partition, d.position, d.id) > ($${n + 1}, $${n + 2}, $${n + 3}::bigint, $${n + 4}::bigint)` : '';
  const r = await db.query<Cursor>(
    `SELECT d.source, d.partition, d.position::text AS position, d.id::text AS id FROM dualrun.dead_letters d
      WHERE ${where}${cursor} ORDER BY d.source, d.partition, d.position, d.id LIMIT ${size}`,
    after ? [...values, after.source, after.partition, after.position, after.id] : values);
  if (r.rows.length === 0) return null;
  const first = r.rows[0];
  const rows = r.rows.filter((x) => x.source === first.source && x.partition === first.partition);
  return { source: first.source, partition: first.partition, ids: rows.map((x) => x.id), last: rows[rows.length - 1] };
}

interface LetterRow { id: string; position: string; payload: Buffer | null; message_key: Buffer | null; record_ts: Date | null; at: Date; stage: string; reason: string }

async function retryChunk(c: PoolClient, deps: Deps, chunk: Chunk, actor: string): Promise<RetryOutcome> {
  // The live sink applies this partition under the same lock: no interleaving with it.
  await lockPartition(c, { dataset: deps.dataset, source: chunk.source, partition: chunk.partition });
  const r = await c.query<LetterRow>(
    `SELECT id::text, position::text, payload, message_key, record_ts, at, stage, reason FROM dualrun.dead_letters d
      WHERE dataset = $1 AND id = ANY($2::bigint[]) AND status = 'open' ORDER BY d.position, d.id FOR UPDATE`, [deps.dataset, chunk.ids]);
  const byRecord = new Map<SourceRecord, LetterRow>();
  for (const row of r.rows) byRecord.set(toRecord(row), row);
  if (byRecord.size === 0) return { dataset: deps.dataset, retried: [], failed: [] };
  const { deadLetters: dead } = await applyRecords(c, deps, [...byRecord.keys()]);
  const failed = dead.map((d) => ({ row: byRecord.get(d.record)!, d }));
  const failedIds = new Set(failed.map((f) => f.row.id));
  const retried = r.rows.filter((row) => !failedIds.has(row.id)).map((row) => row.id);
  await markRetried(c, deps.dataset, retried, actor);
  await markFailedAgain(c, deps.dataset, failed, actor);
  return { dataset: deps.dataset, retried, failed: failed.map(({ row, d }) => ({ id: row.id, stage: d.stage, reason: d.reason })) };
}

function toRecord(row: LetterRow): SourceRecord {
  const position = BigInt(row.position);
  return {
    position: { major: position, minor: 0n },
    key: row.message_key,
    value: row.payload,
    // Dead letters written before record_ts existed: their write time is the best source-time fallback.
    timestamp: row.record_ts ?? row.at,
    fallbackVersion: position,
  };
}

async function markRetried(c: PoolClient, dataset: string, ids: string[], actor: string): Promise<void> {
  if (ids.length === 0) return;
  await c.query(
    `WITH done AS (
       UPDATE dualrun.dead_letters SET status = 'retried', resolved_at = now(), resolved_by = $3, last_retry_at = now()
        WHERE dataset = $1 AND id = ANY($2::bigint[]) RETURNING id, stage, reason)
     INSERT INTO dualrun.dead_letter_actions (dead_letter_id, dataset, action, actor, detail)
     SELECT id, $1, 'retried', $3, jsonb_build_object('stage', stage, 'reason', reason) FROM done`, [dataset, ids, actor]);
}

async function markFailedAgain(c: PoolClient, dataset: string, failed: { row: LetterRow; d: DeadLetter }[], actor: string): Promise<void> {
  if (failed.length === 0) return;
  await c.query(
    `WITH f AS (SELECT * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[]) AS f(id, stage, reason, error)),
     done AS (
       UPDATE dualrun.dead_letters d SET stage = f.stage, reason = f.reason, error = f.error::jsonb, retries = d.retries + 1, last_retry_at = now()
         FROM f WHERE d.dataset = $1 AND d.id = f.id RETURNING d.id, f.stage, f.reason)
     INSERT INTO dualrun.dead_letter_actions (dead_letter_id, dataset, action, actor, detail)
     SELECT done.id, $1, 'failed_again', $6, jsonb_build_object('stage', done.stage, 'reason', done.reason, 'previous', jsonb_build_object('stage', p.stage, 'reason', p.reason))
       FROM done JOIN unnest($2::bigint[], $7::text[], $8::text[]) AS p(id, stage, reason) ON p.id = done.id`,
    [dataset, failed.map((f) => f.row.id), failed.map((f) => f.d.stage), failed.map((f) => f.d.reason.replace(/\0/g, '')),
      failed.map((f) => errorJson(f.d.error)), actor,
      failed.map((f) => f.row.stage), failed.map((f) => f.row.reason)]);
}
