/**
 * Counts differences as the drill-down finds them and keeps a bounded,
 * deterministic set of samples (the first N by kind then key, whatever order
 * the rows arrive in), so memory does not grow with the number of differences
 * and both drill-down strategies report the same samples.
 */
import type { DiffSummary, DifferenceKind, DifferenceSample } from './types.ts';
import { isInFlight, type Difference } from './classify-difference.ts';

const KIND_ORDER: Record<DifferenceKind, number> = { duplicate_key: 0, missing_in_stream: 1, missing_in_batch: 2, changed: 3 };
const TOMBSTONE_BATCH = 500;

/** Looks up when the stream deleted keys (JSON texts) -> newest tombstone time. */
export type TombstoneLookup = (keys: string[]) => Promise<Map<string, Date>>;

export class DiffAccumulator {
  private readonly summary: DiffSummary = {
    missingInStream: 0, missingInBatch: 0, changed: 0, duplicateKeys: 0, inFlight: 0, columns: {}, samples: [], inFlightSamples: [],
  };
  private readonly failing: Difference[] = [];
  private readonly flight: Difference[] = [];
  private awaitingTombstones: Difference[] = [];

  constructor(private readonly opts: { samples: number; snapshotAt: Date | null; tombstones: TombstoneLookup | null }) {}

  async add(d: Difference): Promise<void> {
    // A key missing in the stream may have been deleted after the batch snapshot: ask the tombstones.
    if (d.kind === 'missing_in_stream' && this.opts.snapshotAt && this.opts.tombstones) {
      this.awaitingTombstones.push(d);
      if (this.awaitingTombstones.length >= TOMBSTONE_BATCH) await this.flushTombstones();
      return;
    }
    this.count(d);
  }

  async finish(): Promise<DiffSummary> {
    await this.flushTombstones();
    this.summary.samples = trim(this.failing, this.opts.samples).map(toSample);
    this.summary.inFlightSamples = trim(this.flight, this.opts.samples).map((d) => ({ ...toSample(d), inFlight: true }));
    return this.summary;
  }

  /** Failing differences counted so far. */
  get failingCount(): number {
    const s = this.summary;
    return s.missingInStream + s.missingInBatch + s.changed + s.duplicateKeys;
  }

  private async flushTombstones(): Promise<void> {
    const pending = this.awaitingTombstones;
    this.awaitingTombstones = [];
    if (pending.length === 0) return;
    const found = await this.opts.tombstones!(pending.map((d) => d.key));
    for (const d of pending) this.count({ ...d, streamTs: found.get(d.key) ?? null });
  }

  private count(d: Difference): void {
    const s = this.summary;
    if (isInFlight(d, this.opts.snapshotAt)) {
      s.inFlight += 1;
      keep(this.flight, d, this.opts.samples);
      return;
    }
    if (d.kind === 'missing_in_stream') s.missingInStream += 1;
    else if (d.kind === 'missing_in_batch') s.missingInBatch += 1;
    else if (d.kind === 'duplicate_key') s.duplicateKeys += 1;
    else {
      s.changed += 1;
      for (const col of Object.keys(d.columns ?? {})) s.columns[col] = (s.columns[col] ?? 0) + 1;
    }
    keep(this.failing, d, this.opts.samples);
  }
}

function compare(a: Difference, b: Difference): number {
  return KIND_ORDER[a.kind] - KIND_ORDER[b.kind] || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0);
}

function keep(list: Difference[], d: Difference, n: number): void {
  if (n <= 0) return;
  list.push(d);
  if (list.length > 2 * n) { list.sort(compare); list.length = n; }
}

function trim(list: Difference[], n: number): Difference[] {
  return list.sort(compare).slice(0, Math.max(0, n));
}

function toSample(d: Difference): DifferenceSample {
  const sample: DifferenceSample = { key: JSON.parse(d.key) as Record<string, unknown>, kind: d.kind };
  if (d.columns) sample.columns = d.columns;
  if (d.count) sample.count = d.count;
  return sample;
}
