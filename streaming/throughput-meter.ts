/** Rows/s, lag and dead letters of one dataset, logged every few seconds and at the end. */
import type { Logger } from 'pino';
import type { BatchOutcome } from './exactly-once-sink.ts';

export class ThroughputMeter {
  applied = 0;
  dead = 0;
  redelivered = 0;
  private windowApplied = 0;
  private windowStart = Date.now();
  private readonly started = Date.now();
  private lagRecords: number | null = null;
  private lastSourceTs: Date | null = null;
  // Rows/s in the summary counts from the first batch, not from start-up and group join.
  private firstBatchAt: number | null = null;
  private lastBatchAt: number | null = null;

  constructor(private readonly log: Logger, private readonly dataset: string, private readonly everyMs = 5000) {}

  /** Call when a batch arrives (before it is applied). */
  begin(): void {
    this.firstBatchAt ??= Date.now();
  }

  add(o: BatchOutcome, batchSize: number, lagRecords: number | null): void {
    this.lastBatchAt = Date.now();
    this.applied += o.applied;
    this.dead += o.dead;
    this.redelivered += batchSize - o.fresh;
    this.windowApplied += o.applied + o.dead;
    if (lagRecords !== null) this.lagRecords = lagRecords;
    if (o.maxSourceTs) this.lastSourceTs = o.maxSourceTs;
    const now = Date.now();
    if (now - this.windowStart >= this.everyMs) {
      this.log.info({ dataset: this.dataset, rowsPerSec: Math.round((this.windowApplied * 1000) / (now - this.windowStart)), ...this.totals() }, 'streaming');
      this.windowApplied = 0;
      this.windowStart = now;
    }
  }

  totals(): Record<string, unknown> {
    return {
      applied: this.applied, deadLettered: this.dead, redeliveredSkipped: this.redelivered, lagRecords: this.lagRecords,
      lagSeconds: this.lastSourceTs ? Math.max(0, (Date.now() - this.lastSourceTs.getTime()) / 1000) : null,
    };
  }

  summary(): Record<string, unknown> {
    const secs = (Date.now() - this.started) / 1000;
    const active = this.firstBatchAt && this.lastBatchAt ? (this.lastBatchAt - this.firstBatchAt) / 1000 : 0;
    return {
      dataset: this.dataset, seconds: Number(secs.toFixed(2)), activeSeconds: Number(active.toFixed(2)),
      rowsPerSec: Math.round((this.applied + this.dead) / Math.max(active, 0.001)), ...this.totals(),
    };
  }
}
