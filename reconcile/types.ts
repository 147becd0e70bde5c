/**
 * The reconciler's vocabulary: what a window's comparison produces. The JSON
 * shape of a WindowResult is DESIGN's `dualrun reconcile --format json` object
 * (more fields may be added, none renamed).
 */
import type { OutputShape } from '../src/core/cutover/output-shape.ts';

export type Verdict = 'match' | 'mismatch' | 'pending';
/** `error` is a per-window failure (results over exceptions); never stored as evidence. */
export type WindowStatus = Verdict | 'error';

export type DifferenceKind = 'missing_in_stream' | 'missing_in_batch' | 'changed' | 'duplicate_key';

/** One side's fingerprint of a window, computed inside Postgres in one scan. */
export interface SideFingerprint {
  rows: number;
  /** Sum of the 64-bit row hashes modulo 2^64, as 16 hex digits. */
  checksum: string;
  /** Sums of numeric compared columns (decimal text; null when every value is NULL). */
  sums: Record<string, string | null>;
}

export interface ColumnValues { batch: string | null; stream: string | null }

export interface DifferenceSample {
  key: Record<string, unknown>;
  kind: DifferenceKind;
  /** For `changed`: each differing column with both canonical values. */
  columns?: Record<string, ColumnValues>;
  /** For `duplicate_key`: rows carrying this key on each side. */
  count?: { batch: number; stream: number };
  /** True when the stream changed this key after the batch snapshot. */
  inFlight?: boolean;
  /** For `missing_in_stream`: the newest dead letter of this key (reconcile/dead-letter-notes.ts). */
  deadLetter?: { id: string; stage: string; reason: string; at: string; status: string };
}

export interface DiffSummary {
  missingInStream: number;
  missingInBatch: number;
  changed: number;
  duplicateKeys: number;
  /** Differences explained by stream changes after the batch snapshot (not failing). */
  inFlight: number;
  /** Per column: keys whose value differs (changed rows only, in-flight excluded). */
  columns: Record<string, number>;
  samples: DifferenceSample[];
  /** In-flight differences, listed apart from the failing ones. */
  inFlightSamples: DifferenceSample[];
}

/**
 * A column the two outputs do not share as comparable: present on one `side`
 * only, or (`side: 'both'`) typed so that no equality rule can equate them.
 * Any drift makes the verdict `mismatch`: at cutover readers would lose the
 * column or see it change type.
 */
export interface SchemaDrift {
  column: string;
  side: 'batch' | 'stream' | 'both';
  /** The column's type on each side; null on the side that lacks it. */
  batchType: string | null;
  streamType: string | null;
  reason: string;
}

export interface WindowResult {
  dataset: string;
  window: string | null;
  verdict: WindowStatus;
  batch: SideFingerprint | null;
  stream: SideFingerprint | null;
  diff: DiffSummary | null;
  /** Why a window is pending. */
  pendingReason?: string;
  /**
   * How settled the window was when judged: `proven`, `unknown` (no record to tell) or
   * `behind` (judged with --assume-settled while dualrun knew it was not settled), the
   * `reconcile.settle` then, and the stream watermark read. The cutover gate reads it.
   */
  settlement?: { proof: 'proven' | 'unknown' | 'behind'; settleMs: number; watermark: string | null; reason?: string };
  /** Each output's table object and column list when judged (src/core/cutover/output-shape.ts); the gate checks they still are. */
  shapes?: { batch: OutputShape | null; stream: OutputShape | null };
  /** Which transactions wrote the batch rows judged: their count and xmin sum (src/core/cutover/row-versions.ts); absent for a batch output without row versions (a view). The gate checks it still holds. */
  batchWriters?: { rows: number; xminSum: string };
  /** The same for the stream rows judged (a late or replayed event, a replay, a manual write moves it); the gate's rule stream-rewritten. */
  streamWriters?: { rows: number; xminSum: string };
  /** For `verdict: 'error'`. */
  error?: { code: string; message: string; db?: Record<string, string> };
  windowStart: string | null;
  windowEnd: string | null;
  columns: string[];
  /** Columns read differently on the two sides (reconcile.map / reconcile.expressions): what each side reads. */
  columnNames?: Record<string, { batch: string; stream: string }>;
  /** Schema drift between the outputs (the reconciler always sets it, [] when none); any entry makes the verdict `mismatch`. */
  schemaDrift?: SchemaDrift[];
  buckets: { total: number; mismatched: number; mode: 'hash' | 'integer' | 'range' } | null;
  strategy: 'same-database' | 'cross-database' | null;
  stage: string | null;
  durationMs: number;
  /** Where the time went: the fingerprint scans, then drill-down and classification. */
  timings?: { fingerprintMs: number; drilldownMs: number };
  /** Id in dualrun.reconciliations; null when not stored. */
  id: number | null;
}

export interface ReconcileOptions {
  /** Day/hour labels; omitted: the newest window with a succeeded batch run. Ignored for whole-table datasets. */
  windows?: string[];
  samples?: number;
  assumeSettled?: boolean;
  /** Store results in dualrun.reconciliations (default true). */
  store?: boolean;
  /** Overrides reconcile.buckets (tests, bench). */
  buckets?: number;
  /** Overrides the in-memory drill-down limits (tests: 0 forces the cursor paths). */
  inMemoryRows?: number;
  /** Called with a short line as each phase starts (the CLI shows them on a TTY). */
  progress?: (line: string) => void;
  /** Called with each window's result as soon as it is known (the CLI prints it then). */
  onResult?: (result: WindowResult) => void;
}
