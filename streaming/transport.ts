/**
 * The one seam between "where change events come from" and the exactly-once sink.
 *
 * A Transport delivers batches of raw records, in order within a partition, and
 * waits for `handle(batch)` to resolve before it moves past that batch. `handle`
 * resolves only once the batch's effects and its position are committed in
 * Postgres; only then may the transport acknowledge upstream (Kafka: commit the
 * group offsets, so standard lag tools work). A transport never decides what is
 * applied: the sink re-reads the stored position under a lock and skips anything
 * at or below it, so redeliveries (rebalance, crash, restart) are harmless.
 *
 * Three implementations: kafka-transport.ts (kafkajs consumer group, eachBatch, no
 * auto-commit), changelog-transport.ts (the `dualrun.changelog` table written by
 * capture triggers) and logical-transport.ts (a logical replication slot).
 */

/**
 * A position in a partition, compared lexicographically. Kafka: (offset, 0).
 * Changelog: (tx_id, id), see changelog-reader.ts for why.
 */
export interface Position {
  readonly major: bigint;
  readonly minor: bigint;
}

export const BEFORE_EVERYTHING: Position = Object.freeze({ major: -1n, minor: 0n });

export function comparePositions(a: Position, b: Position): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  return a.minor === b.minor ? 0 : a.minor < b.minor ? -1 : 1;
}

export interface SourceRecord {
  readonly position: Position;
  /** The message key as sent (Kafka), or null. */
  readonly key: Buffer | null;
  /** The raw payload; null is a Kafka tombstone. Kept verbatim for dead letters. */
  readonly value: Buffer | string | null;
  /** Broker (or changelog) time of the record; fallback source time and version order. */
  readonly timestamp: Date;
  /** Offset-derived version, used when the payload carries none (Kafka offset, changelog id). */
  readonly fallbackVersion: bigint;
}

export interface SourceBatch {
  readonly partition: number;
  readonly records: readonly SourceRecord[];
  /** When the batch ends at the head of the partition: the time the head was observed (the watermark may advance to it). */
  readonly headSeenAt: Date | null;
  /** Records behind the head after this batch, when the transport knows. */
  readonly lagRecords: number | null;
}

/**
 * What a handler may say of a batch (nothing: it is committed). Only the Kafka
 * transport is handed batches by a handler that keeps transactions open.
 */
export interface BatchAck {
  /** Applied inside a transaction still open: acknowledge upstream only with a later batch. */
  readonly pending: boolean;
  /** Nothing of it is applied (its transaction rolled back): deliver the partition again from the stored position. */
  readonly rewind?: boolean;
}

/** How a handler reaches the transport about a batch's partition after it returned (a commit that ran later). */
export interface BatchContext {
  /** Everything through this position is committed in Postgres (Kafka: commit the group offset). */
  acknowledge(through: Position): void;
  /** The open transaction rolled back: deliver the partition again from the stored position. */
  redeliver(): void;
  /** A commit failed for good: stop with this error (the reconnect policy decides what next). */
  fail(e: unknown): void;
}

export interface TransportRunOptions {
  /** Stops at the next batch boundary when aborted. */
  readonly signal: AbortSignal;
  /** Resolve `run` once every partition is caught up with its head. */
  readonly untilIdle: boolean;
  /** Called when idle and caught up, so watermarks can advance with no traffic. */
  readonly onIdle?: (partitions: readonly number[], headSeenAt: Date) => Promise<void>;
  /** Called once the transport reached its service (Kafka: joined the group), for the reconnect policy. */
  readonly onConnected?: (service: 'postgres' | 'kafka') => void;
  /** Kafka: partitions this worker had and lost in a rebalance (their open transactions should commit now). */
  readonly onRevoked?: (partitions: readonly number[]) => void;
  /** During an outage, how long a connect step may still wait (from the reconnect policy). */
  readonly connectBudgetMs?: () => number;
}

export interface Transport {
  readonly kind: 'kafka' | 'changelog' | 'logical';
  /** The `source` column of stream_positions and dead_letters: topic or changelog table. */
  readonly source: string;
  /** Delivers batches until stopped (or idle with `untilIdle`); rejects on a fatal error. */
  run(handle: (batch: SourceBatch, ctx?: BatchContext) => Promise<BatchAck | void>, opts: TransportRunOptions): Promise<void>;
}
