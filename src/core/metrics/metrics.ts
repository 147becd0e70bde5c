/**
 * What the paths (streaming/, legacy-batch/, the scheduler) report about their
 * work. They call this interface only; src/core/metrics/prom-metrics.ts turns the calls
 * into Prometheus series and keeps the per-dataset progress the stream heartbeat
 * reads. Every runtime has a real implementation (metrics are always counted,
 * served only with --metrics-port / metrics.port), so tests exercise the same code.
 */

export interface StreamBatchObservation {
  readonly dataset: string;
  readonly partition: number;
  /** Records applied (including no-ops such as tombstones). */
  readonly applied: number;
  /** Dead letters of the batch by pipeline stage (decode, validate, transform, apply). */
  readonly deadByStage: Readonly<Record<string, number>>;
  /** Wall time of the sink transaction. */
  readonly seconds: number;
  /** Records behind the head after this batch, when the transport knows. */
  readonly lagRecords: number | null;
  /** The batch ended at the head of its partition. */
  readonly atHead: boolean;
  /** Newest source time in the batch. */
  readonly maxSourceTs: Date | null;
}

/** One dataset's streaming progress in this process (for the heartbeat and stall check). */
export interface StreamProgress {
  readonly applied: number;
  readonly deadLettered: number;
  /** Sum over partitions of the last known lag; null when no partition's lag is known. */
  readonly lagRecords: number | null;
  /** Every partition seen is at its head. */
  readonly caughtUp: boolean;
  readonly lastBatchAt: Date | null;
  readonly lastSourceTs: Date | null;
}

export type BatchRunStatus = 'succeeded' | 'partial' | 'failed' | 'abandoned' | 'skipped' | 'not-run';

export interface Metrics {
  streamBatch(o: StreamBatchObservation): void;
  /** The transport found these partitions caught up with their head (no traffic). */
  streamIdle(dataset: string, partitions: readonly number[]): void;
  /** Records behind the head of a partition, measured apart from a batch (the changelog transport). */
  streamLag(dataset: string, partition: number, records: number): void;
  streamStalled(dataset: string, stalled: boolean): void;
  deadLetterRateExceeded(dataset: string, exceeded: boolean): void;
  batchRun(o: { dataset: string; status: BatchRunStatus; seconds: number }): void;
  schedulerJob(o: { job: string; kind: string; outcome: string; seconds: number }): void;
  alertDelivery(event: string, outcome: 'delivered' | 'failed'): void;
  /** Rows deleted from a source table's trigger changelog by pruning. */
  changelogPruned(table: string, rows: number): void;
  /** Progress of a dataset streamed by this process; undefined before its first report. */
  streamProgress(dataset: string): StreamProgress | undefined;
}
