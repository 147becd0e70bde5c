/**
 * Stored positions (dualrun.stream_positions), the exactly-once fence. Within the
 * batch transaction the sink first takes a transaction advisory lock for the
 * (dataset, source, partition) and only then reads the position in a new
 * statement, so two workers holding the same partition (a rebalance, a stale
 * process) serialise and the second one skips what the first committed.
 */
import type { PoolClient, Pool } from '../src/core/db/connect.ts';
import { BEFORE_EVERYTHING, type Position } from './transport.ts';
import { queueForLockFencingFrozen } from './frozen-holder-fence.ts';

export interface PartitionRef { readonly dataset: string; readonly source: string; readonly partition: number }

export interface PartitionLockOptions {
  /** How long a stream holder waits on its client before it counts as frozen (frozen-holder-fence.ts); tests shorten it. */
  readonly frozenAfterMs?: number;
}

/**
 * The partition's transaction advisory lock: the sink and a replay reset serialise on it.
 * The same statement turns row-level security off for the transaction: a policy that
 * hides rows from the worker's role made its deletes and upserts pass over them without
 * a word (the hidden rows stayed in the output); with it off Postgres refuses the
 * statement instead, naming the table.
 */
export async function lockPartition(c: PoolClient, p: PartitionRef, o: PartitionLockOptions = {}): Promise<void> {
  const key = `dualrun.stream/${p.dataset}/${p.source}/${p.partition}`;
  // Uncontended (the hot path): one round trip. Held by another (the previous owner
  // committing, a replay, a frozen worker): queue fairly, fencing a frozen holder.
  const got = await c.query<{ got: boolean }>(`SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS got, set_config('row_security', 'off', true)`, [key]);
  if (!got.rows[0].got) await queueForLockFencingFrozen(c, key, p.dataset, o.frozenAfterMs);
}

export async function lockAndReadPosition(c: PoolClient, p: PartitionRef): Promise<Position> {
  await lockPartition(c, p);
  const r = await c.query<{ position: string; sub_position: string }>(
    'SELECT position::text, sub_position::text FROM dualrun.stream_positions WHERE dataset = $1 AND source = $2 AND partition = $3',
    [p.dataset, p.source, p.partition]);
  return r.rows[0] ? { major: BigInt(r.rows[0].position), minor: BigInt(r.rows[0].sub_position) } : BEFORE_EVERYTHING;
}

export interface Advance {
  readonly to: Position;
  /** Newest source time applied, or when caught up the time the head was seen. */
  readonly eventTime: Date | null;
  readonly applied: number;
  readonly dead: number;
  /** The identity of the record at `to` (record-identity.ts), or null when not known. */
  readonly identity: string | null;
}

/** Moves the position (and the exactly-once counters), then recomputes the dataset watermark. */
export async function advancePosition(c: PoolClient, p: PartitionRef, a: Advance): Promise<void> {
  await c.query(
    `INSERT INTO dualrun.stream_positions AS s (dataset, source, partition, position, sub_position, event_time, records_applied, records_dead, last_record, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, now())
     ON CONFLICT (dataset, source, partition) DO UPDATE SET
       position = EXCLUDED.position, sub_position = EXCLUDED.sub_position, last_record = EXCLUDED.last_record,
       event_time = greatest(s.event_time, EXCLUDED.event_time),
       records_applied = s.records_applied + EXCLUDED.records_applied,
       records_dead = s.records_dead + EXCLUDED.records_dead, updated_at = now()`,
    [p.dataset, p.source, p.partition, a.to.major.toString(), a.to.minor.toString(), a.eventTime, a.applied, a.dead, a.identity]);
  await refreshWatermark(c, p, `${p.partition}:${a.to.major}${a.to.minor ? `.${a.to.minor}` : ''}`);
}

/**
 * The dataset watermark is the oldest partition contribution: every event at or
 * before it has been applied on every partition the dataset has consumed.
 */
export async function refreshWatermark(c: PoolClient | Pool, p: PartitionRef, position: string | null): Promise<void> {
  await c.query(
    `INSERT INTO dualrun.watermarks AS w (dataset, event_time, position, updated_at)
     SELECT $1, min(event_time), $3, now() FROM dualrun.stream_positions WHERE dataset = $1 AND source = $2
     ON CONFLICT (dataset) DO UPDATE SET event_time = EXCLUDED.event_time,
       position = coalesce(EXCLUDED.position, w.position), updated_at = now()`,
    [p.dataset, p.source, position]);
}

/** An idle, caught-up partition: its watermark contribution moves to the head time. */
export async function markHeadSeen(db: Pool, dataset: string, source: string, partitions: readonly number[], at: Date): Promise<void> {
  if (partitions.length === 0) return;
  await db.query(
    `UPDATE dualrun.stream_positions SET event_time = greatest(event_time, $4)
      WHERE dataset = $1 AND source = $2 AND partition = ANY($3)`, [dataset, source, partitions, at]);
  await refreshWatermark(db, { dataset, source, partition: partitions[0] }, null);
}

/** Stored positions of a dataset's source, by partition (used at start and for --until-idle). */
export async function readPositions(db: Pool, dataset: string, source: string): Promise<Map<number, Position>> {
  const stored = await readStoredRecords(db, dataset, source);
  return new Map([...stored].map(([partition, s]) => [partition, s.position]));
}

/** Per partition, the stored position and the identity of the record there (null: not known). */
export async function readStoredRecords(db: Pool, dataset: string, source: string): Promise<Map<number, { position: Position; identity: string | null }>> {
  const r = await db.query<{ partition: number; position: string; sub_position: string; last_record: string | null }>(
    'SELECT partition, position::text, sub_position::text, last_record FROM dualrun.stream_positions WHERE dataset = $1 AND source = $2', [dataset, source]);
  return new Map(r.rows.map((row) => [row.partition, { position: { major: BigInt(row.position), minor: BigInt(row.sub_position) }, identity: row.last_record }]));
}
