/**
 * The Metrics implementation on prom-client. prom-client is loaded on first use
 * (synchronously, it is CommonJS), so commands that never report anything, and
 * `dualrun --help`, do not pay for it. One Registry per runtime, never the global
 * one, so several runtimes in one process (tests, the demo) do not collide.
 */
import { createRequire } from 'node:module';
import type * as Prom from 'prom-client';
import type { BatchRunStatus, Metrics, StreamBatchObservation, StreamProgress } from './metrics.ts';

const require = createRequire(import.meta.url);

/** Seconds buckets for a sink transaction (ms to tens of seconds). */
const APPLY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Seconds buckets for batch runs and scheduled jobs (seconds to hours). */
const RUN_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];

function instruments(prom: typeof Prom, register: Prom.Registry) {
  const registers = [register];
  prom.collectDefaultMetrics({ register, prefix: 'dualrun_' });
  return {
    applied: new prom.Counter({ name: 'dualrun_records_applied_total', help: 'Records applied to stream.output (including no-ops such as tombstones), by dataset.', labelNames: ['dataset'], registers }),
    dead: new prom.Counter({ name: 'dualrun_records_dead_lettered_total', help: 'Records written to dualrun.dead_letters, by dataset and pipeline stage (decode, validate, transform, apply).', labelNames: ['dataset', 'stage'], registers }),
    apply: new prom.Histogram({ name: 'dualrun_stream_apply_duration_seconds', help: 'Wall time of one source batch through the exactly-once sink (one Postgres transaction).', labelNames: ['dataset'], buckets: APPLY_BUCKETS, registers }),
    lagRecords: new prom.Gauge({ name: 'dualrun_stream_lag_records', help: 'Records behind the head of the partition, as last seen by this worker.', labelNames: ['dataset', 'partition'], registers }),
    stalled: new prom.Gauge({ name: 'dualrun_stream_stalled', help: '1 while the dataset has lag but made no progress for the stall period.', labelNames: ['dataset'], registers }),
    deadRate: new prom.Gauge({ name: 'dualrun_stream_dead_letter_rate_exceeded', help: '1 while the dead letters among the recent records are above stream.maxDeadLetterRate.', labelNames: ['dataset'], registers }),
    batchRuns: new prom.Counter({ name: 'dualrun_batch_runs_total', help: 'Managed batch runs by dataset and outcome.', labelNames: ['dataset', 'status'], registers }),
    batchDuration: new prom.Histogram({ name: 'dualrun_batch_run_duration_seconds', help: 'Duration of managed batch runs by dataset and outcome.', labelNames: ['dataset', 'status'], buckets: RUN_BUCKETS, registers }),
    jobs: new prom.Counter({ name: 'dualrun_scheduler_jobs_total', help: 'Scheduled job fires run by this scheduler, by job, kind and outcome.', labelNames: ['job', 'kind', 'outcome'], registers }),
    jobDuration: new prom.Histogram({ name: 'dualrun_scheduler_job_duration_seconds', help: 'Duration of scheduled job fires by job and kind.', labelNames: ['job', 'kind'], buckets: RUN_BUCKETS, registers }),
    alerts: new prom.Counter({ name: 'dualrun_alert_deliveries_total', help: 'Webhook alert deliveries by event and outcome (delivered, failed after every retry).', labelNames: ['event', 'outcome'], registers }),
    pruned: new prom.Counter({ name: 'dualrun_changelog_pruned_rows_total', help: 'Rows deleted from dualrun.changelog by pruning (rows every consumer had read), by source table.', labelNames: ['table'], registers }),
  };
}

interface Partition { lag: number | null; atHead: boolean }
interface Progress { applied: number; dead: number; partitions: Map<number, Partition>; lastBatchAt: Date | null; lastSourceTs: Date | null }

export class PromMetrics implements Metrics {
  private built: { prom: typeof Prom; registry: Prom.Registry; i: ReturnType<typeof instruments> } | undefined;
  private readonly progress = new Map<string, Progress>();

  /** The prom-client module and this runtime's registry (created on first use). */
  get prom(): { prom: typeof Prom; registry: Prom.Registry } { return this.build(); }

  private get i(): ReturnType<typeof instruments> { return this.build().i; }

  private build() {
    if (!this.built) {
      const prom = require('prom-client') as typeof Prom;
      const registry = new prom.Registry();
      this.built = { prom, registry, i: instruments(prom, registry) };
    }
    return this.built;
  }

  private progressOf(dataset: string): Progress {
    let p = this.progress.get(dataset);
    if (!p) { p = { applied: 0, dead: 0, partitions: new Map(), lastBatchAt: null, lastSourceTs: null }; this.progress.set(dataset, p); }
    return p;
  }

  streamBatch(o: StreamBatchObservation): void {
    const { i } = this;
    i.applied.inc({ dataset: o.dataset }, o.applied);
    let dead = 0;
    for (const [stage, n] of Object.entries(o.deadByStage)) { i.dead.inc({ dataset: o.dataset, stage }, n); dead += n; }
    i.apply.observe({ dataset: o.dataset }, o.seconds);
    const lag = o.lagRecords ?? (o.atHead ? 0 : null);
    if (lag !== null) i.lagRecords.set({ dataset: o.dataset, partition: String(o.partition) }, lag);
    const p = this.progressOf(o.dataset);
    p.applied += o.applied;
    p.dead += dead;
    p.lastBatchAt = new Date();
    if (o.maxSourceTs && (!p.lastSourceTs || o.maxSourceTs > p.lastSourceTs)) p.lastSourceTs = o.maxSourceTs;
    p.partitions.set(o.partition, { lag, atHead: o.atHead || lag === 0 });
  }

  streamIdle(dataset: string, partitions: readonly number[]): void {
    const p = this.progressOf(dataset);
    for (const n of partitions) {
      p.partitions.set(n, { lag: 0, atHead: true });
      this.i.lagRecords.set({ dataset, partition: String(n) }, 0);
    }
  }

  streamLag(dataset: string, partition: number, records: number): void {
    const p = this.progressOf(dataset);
    p.partitions.set(partition, { lag: records, atHead: records === 0 });
    this.i.lagRecords.set({ dataset, partition: String(partition) }, records);
  }

  streamStalled(dataset: string, stalled: boolean): void { this.i.stalled.set({ dataset }, stalled ? 1 : 0); }

  deadLetterRateExceeded(dataset: string, exceeded: boolean): void { this.i.deadRate.set({ dataset }, exceeded ? 1 : 0); }

  batchRun(o: { dataset: string; status: BatchRunStatus; seconds: number }): void {
    this.i.batchRuns.inc({ dataset: o.dataset, status: o.status });
    this.i.batchDuration.observe({ dataset: o.dataset, status: o.status }, o.seconds);
  }

  schedulerJob(o: { job: string; kind: string; outcome: string; seconds: number }): void {
    this.i.jobs.inc({ job: o.job, kind: o.kind, outcome: o.outcome });
    this.i.jobDuration.observe({ job: o.job, kind: o.kind }, o.seconds);
  }

  alertDelivery(event: string, outcome: 'delivered' | 'failed'): void { this.i.alerts.inc({ event, outcome }); }
  changelogPruned(table: string, rows: number): void { this.i.pruned.inc({ table }, rows); }

  streamProgress(dataset: string): StreamProgress | undefined {
    const p = this.progress.get(dataset);
    if (!p) return undefined;
    const parts = [...p.partitions.values()];
    const known = parts.filter((x) => x.lag !== null);
    return {
      applied: p.applied, deadLettered: p.dead,
      lagRecords: known.length ? known.reduce((s, x) => s + x.lag!, 0) : null,
      caughtUp: parts.length > 0 && parts.every((x) => x.atHead),
      lastBatchAt: p.lastBatchAt, lastSourceTs: p.lastSourceTs,
    };
  }
}

export function createMetrics(): PromMetrics {
  return new PromMetrics();
}
