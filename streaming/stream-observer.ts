/**
 * What one dataset's pipeline reports after each batch: metrics (applied, dead
 * letters by stage, apply latency, lag), and the `stream.maxDeadLetterRate`
 * check, which alerts once per breach (re-armed when the rate falls back).
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { deadLetterRateAlert } from '../src/core/alerts/pipeline-alerts.ts';
import { DeadLetterRate, type RateReading } from './dead-letter-rate.ts';
import type { BatchOutcome } from './exactly-once-sink.ts';
import type { SourceBatch } from './transport.ts';

export interface StreamObserver {
  batch(batch: SourceBatch, outcome: BatchOutcome, seconds: number): void;
  idle(partitions: readonly number[]): void;
  /** Fields for the run summary: the first breach of the dead-letter rate, if any. */
  summary(): Record<string, unknown>;
}

interface RateState { rate: DeadLetterRate; breached: boolean; firstBreach: RateReading | null }

// Per runtime and dataset, so a pipeline restarted by the supervisor keeps its window and its breach.
const rateStates = new WeakMap<Runtime, Map<string, RateState>>();

function rateState(rt: Runtime, ds: DatasetConfig): RateState | null {
  const limit = ds.stream.maxDeadLetterRate;
  if (!limit) return null;
  let m = rateStates.get(rt);
  if (!m) { m = new Map(); rateStates.set(rt, m); }
  let st = m.get(ds.name);
  if (!st) { st = { rate: new DeadLetterRate(limit), breached: false, firstBreach: null }; m.set(ds.name, st); }
  return st;
}

export function streamObserver(rt: Runtime, ds: DatasetConfig): StreamObserver {
  const limit = ds.stream.maxDeadLetterRate;
  const st = rateState(rt, ds);
  return {
    batch(batch, o, seconds) {
      const deadByStage = o.deadByStage ?? (o.dead > 0 ? { unknown: o.dead } : {});
      rt.metrics.streamBatch({
        dataset: ds.name, partition: batch.partition, applied: o.applied, deadByStage, seconds,
        lagRecords: batch.lagRecords, atHead: batch.headSeenAt !== null, maxSourceTs: o.maxSourceTs,
      });
      if (!st || !limit) return;
      const r = st.rate.add(o.fresh, o.dead);
      if (r.exceeded && !st.breached) {
        st.breached = true;
        st.firstBreach ??= r;
        rt.metrics.deadLetterRateExceeded(ds.name, true);
        rt.log.error({ dataset: ds.name, deadLettered: r.dead, records: r.records, ...limit }, 'dead-letter rate above stream.maxDeadLetterRate');
        rt.alerts.emit(deadLetterRateAlert(ds.name, { dead: r.dead, records: r.records, ...limit }));
      } else if (!r.exceeded && st.breached) {
        st.breached = false;
        rt.metrics.deadLetterRateExceeded(ds.name, false);
        rt.log.info({ dataset: ds.name, deadLettered: r.dead, records: r.records, ...limit }, 'dead-letter rate back under stream.maxDeadLetterRate');
      }
    },
    idle(partitions) {
      rt.metrics.streamIdle(ds.name, partitions);
    },
    summary() {
      const first = st?.firstBreach;
      return first && limit ? { deadLetterRateExceeded: { deadLettered: first.dead, records: first.records, ...limit } } : {};
    },
  };
}
