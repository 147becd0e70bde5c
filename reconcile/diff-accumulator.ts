/**
 * Counts differences as the drill-down finds them and keeps a bounded,
 * deterministic set of samples (the first N by kind then key value, whatever
 * order the rows arrive in; reconcile/key-order.ts), so memory does not grow
 * with the number of differences and both drill-down strategies report the
 * same samples. Keys stay exact: 64-bit ids are bigints, never float64s.
 */
import type { DiffSummary, DifferenceKind, DifferenceSample } from './types.ts';
import { isInFlight, type Difference } from './classify-difference.ts';
import { parseExactJson } from '../src/core/exact-json.ts';
import { compareKeyTuples } from './key-order.ts';

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

  private readonly order: SampleOrder;

  constructor(private readonly opts: { samples: number; snapshotAt: Date | null; tombstones: TombstoneLookup | null; keyColumns?: readonly string[] }) {
    this.order = new SampleOrder(opts.keyColumns ?? []);
  }

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
    this.summary.samples = this.order.trim(this.failing, this.opts.samples).map((d) => this.order.sample(d));
    this.summary.inFlightSamples = this.order.trim(this.flight, this.opts.samples).map((d) => ({ ...this.order.sample(d), inFlight: true }));
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
      this.order.keep(this.flight, d, this.opts.samples);
      return;
    }
    if (d.kind === 'missing_in_stream') s.missingInStream += 1;
    else if (d.kind === 'missing_in_batch') s.missingInBatch += 1;
    else if (d.kind === 'duplicate_key') s.duplicateKeys += 1;
    else {
      s.changed += 1;
      for (const col of Object.keys(d.columns ?? {})) s.columns[col] = (s.columns[col] ?? 0) + 1;
    }
    this.order.keep(this.failing, d, this.opts.samples);
  }
}

/** Sample order and shape: kind, then key value column by column; keys parsed exactly, once. */
class SampleOrder {
  private readonly keys = new WeakMap<Difference, Record<string, unknown>>();

  constructor(private readonly columns: readonly string[]) {}

  /** The key object in key-column order (columns the config does not name follow in their JSON order). */
  key(d: Difference): Record<string, unknown> {
    let key = this.keys.get(d);
    if (!key) {
      const parsed = parseExactJson(d.key) as Record<string, unknown>;
      key = {};
      for (const c of this.columns) if (c in parsed) key[c] = parsed[c];
      for (const [c, v] of Object.entries(parsed)) if (!(c in key)) key[c] = v;
      this.keys.set(d, key);
    }
    return key;
  }

  readonly compare = (a: Difference, b: Difference): number =>
    KIND_ORDER[a.kind] - KIND_ORDER[b.kind]
    || compareKeyTuples(Object.values(this.key(a)), Object.values(this.key(b)))
    || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0);

  /** Per list, its n-th difference at the last trim: n kept ones come before it, so a later one after it never is a sample. */
  private readonly bounds = new WeakMap<Difference[], Difference>();

  keep(list: Difference[], d: Difference, n: number): void {
    if (n <= 0) return;
    const bound = this.bounds.get(list);
    // Without the bound, every difference was kept and sorted again (2M keys, 1,000 samples: 2,000 sorts of 2,000).
    if (bound && this.compare(d, bound) > 0) return;
    list.push(d);
    if (list.length > 2 * n) {
      list.sort(this.compare);
      list.length = n;
      this.bounds.set(list, list[n - 1]);
    }
  }

  trim(list: Difference[], n: number): Difference[] {
    return list.sort(this.compare).slice(0, Math.max(0, n));
  }

  sample(d: Difference): DifferenceSample {
    const sample: DifferenceSample = { key: this.key(d), kind: d.kind };
    if (d.columns) sample.columns = d.columns;
    if (d.count) sample.count = d.count;
    return sample;
  }
}
