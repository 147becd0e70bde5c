/**
 * Loads what a gate needs: the latest result per window (reconciliations and
 * reconcile errors), each with its window's newest finished batch load, the
 * dataset's newest mismatch or error of any window, and the current dataset
 * definition. The SQL only narrows what is read; the rules live in stage-gate.ts.
 */
import type { Pool, PoolClient } from '../db/connect.ts';
import type { DatasetConfig } from '../config/types.ts';
import { nextStage, type StageRow } from '../stages.ts';
import { evaluateGate, type GateResult, type Verdict } from './stage-gate.ts';
import { currentDefinition } from './dataset-definition.ts';
import type { RowCounter } from './judged-rows.ts';
import type { OutputShape } from './output-shape.ts';
import { streamCoverage } from './stream-code.ts';
import { databaseNow } from '../db/database-clock.ts';

/** How many windows beyond `required` are examined (windows that do not count are skipped). */
const LOOKBACK = 200;

interface Row {
  id: string; window_label: string | null; window_start: Date | null; window_end: Date | null; settlement: { proof?: string; settleMs?: number; watermark?: string | null; reason?: string } | null;
  shapes: { batch?: OutputShape | null; stream?: OutputShape | null } | null; batch_writers: Writers; stream_writers: Writers; verdict: Verdict['verdict']; stage: string | null;
  started_at: Date; finished_at: Date; batch_rows: string | null; stream_rows: string | null; in_flight: string | null; batch_checksum: string | null; stream_checksum: string | null; definition: string | null; drift: boolean;
  run_id: string | null; run_status: string | null; run_finished_at: Date | null; run_definition: Record<string, string> | null;
  last_run_id: string | null; last_run_status: string | null; last_run_started_at: Date | null;
  open_state: string | null; open_last_fire_at: Date | null;
}

type Writers = { rows?: number; xminSum?: string } | null;

// Both tables as one stream of results; errors are results of their window too.
const RESULTS = `
  SELECT id::text AS id, window_start, window_end, result->'settlement' AS settlement, result->'shapes' AS shapes, result->'batchWriters' AS batch_writers, result->'streamWriters' AS stream_writers, window_label, verdict, stage, started_at, finished_at, batch_rows::text AS batch_rows,
         stream_rows::text AS stream_rows, in_flight::text AS in_flight, batch_checksum, stream_checksum, definition, coalesce(result->'schemaDrift' NOT IN ('null'::jsonb, '[]'::jsonb, '{}'::jsonb, 'false'::jsonb), false) AS drift, 'r' AS src
    FROM dualrun.reconciliations WHERE dataset = $1 AND verdict <> 'pending'
  UNION ALL
  SELECT id::text, window_start, window_end, NULL::jsonb, NULL::jsonb, NULL::jsonb, NULL::jsonb, window_label, 'error', stage, at, at, NULL, NULL, NULL, NULL, NULL, definition, false, 'e'
    FROM dualrun.reconcile_errors WHERE dataset = $1`;

export async function loadVerdicts(db: Pool | PoolClient, dataset: string, opts: { streamingSince?: Date | null; limit: number }): Promise<Verdict[]> {
  const retire = opts.streamingSince !== undefined;
  const r = await db.query<Row>(
    `WITH results AS (${RESULTS}),
     latest AS (
       SELECT DISTINCT ON (coalesce(window_start::text, window_label, src || id)) *
       FROM results
       WHERE ($2::boolean IS FALSE OR (stage = 'streaming' AND ($3::timestamptz IS NULL OR started_at >= $3)))
       ORDER BY coalesce(window_start::text, window_label, src || id), finished_at DESC, (src = 'e') DESC, id::bigint DESC
     )
     SELECT l.*, b.id::text AS run_id, b.status AS run_status, b.finished_at AS run_finished_at, b.definition AS run_definition,
            n.id::text AS last_run_id, n.status AS last_run_status, n.started_at AS last_run_started_at,
            ow.state AS open_state, ow.last_fire_at AS open_last_fire_at
     FROM latest l
     LEFT JOIN LATERAL (
       SELECT id, status, finished_at, definition FROM dualrun.batch_runs br
       WHERE br.dataset = $1 AND br.window_start IS NOT DISTINCT FROM l.window_start AND br.status IN ('succeeded', 'partial')
       ORDER BY id DESC LIMIT 1) b ON true
     LEFT JOIN LATERAL (
       SELECT id, status, started_at FROM dualrun.batch_runs br
       WHERE br.dataset = $1 AND br.window_start IS NOT DISTINCT FROM l.window_start
       ORDER BY id DESC LIMIT 1) n ON true
     LEFT JOIN dualrun.batch_open_windows ow ON ow.dataset = $1 AND ow.window_start = l.window_start
     ORDER BY coalesce(l.window_start, l.finished_at) DESC, l.finished_at DESC, l.id::bigint DESC
     LIMIT $4`,
    [dataset, retire, opts.streamingSince ?? null, opts.limit],
  );
  return r.rows.map(toVerdict);
}

/** The dataset's newest mismatch or error, any window, any stage. */
export async function loadLastFailure(db: Pool | PoolClient, dataset: string): Promise<Verdict | null> {
  const r = await db.query<Row>(
    `SELECT f.*, NULL AS run_id, NULL AS run_status, NULL::timestamptz AS run_finished_at, NULL::jsonb AS run_definition,
            NULL AS last_run_id, NULL AS last_run_status, NULL::timestamptz AS last_run_started_at,
            NULL AS open_state, NULL::timestamptz AS open_last_fire_at
     FROM (${RESULTS}) f WHERE verdict IN ('mismatch', 'error') ORDER BY finished_at DESC, id::bigint DESC LIMIT 1`, [dataset]);
  return r.rows[0] ? toVerdict(r.rows[0]) : null;
}

function toVerdict(x: Row): Verdict {
  return {
    id: x.id, windowLabel: x.window_label, windowStart: x.window_start, windowEnd: x.window_end, verdict: x.verdict, stage: x.stage,
    startedAt: x.started_at, finishedAt: x.finished_at,
    batchRows: x.batch_rows === null ? null : Number(x.batch_rows), streamRows: x.stream_rows === null ? null : Number(x.stream_rows),
    inFlight: x.in_flight === null ? null : Number(x.in_flight),
    batchChecksum: x.batch_checksum, streamChecksum: x.stream_checksum,
    definition: x.definition, schemaDrift: x.drift,
    batchLoad: x.run_id ? { runId: x.run_id, status: x.run_status!, finishedAt: x.run_finished_at, definition: x.run_definition } : null,
    openWindow: x.open_state && x.open_last_fire_at ? { state: x.open_state, lastFireAt: x.open_last_fire_at } : null,
    newestBatchRun: x.last_run_id ? { runId: x.last_run_id, status: x.last_run_status!, startedAt: x.last_run_started_at } : null,
    settlement: settlementOf(x.settlement),
    shapes: x.shapes && typeof x.shapes === 'object' ? { batch: x.shapes.batch ?? null, stream: x.shapes.stream ?? null } : null,
    batchWriters: writersOf(x.batch_writers),
    streamWriters: writersOf(x.stream_writers),
  };
}

/** A side's stored writers (its rows' count and xmin sum, src/core/cutover/row-versions.ts); null when not recorded. */
function writersOf(w: Writers): { rows: number; xminSum: string } | null {
  return w && typeof w.xminSum === 'string' ? { rows: Number(w.rows), xminSum: w.xminSum } : null;
}

/** The reconciler's settlement record (absent before dualrun kept it: only the wall-clock part of rule 4.3 applies). */
function settlementOf(s: Row['settlement']): Verdict['settlement'] {
  if (!s || typeof s !== 'object' || !['proven', 'unknown', 'behind'].includes(String(s.proof))) return null;
  return { proof: s.proof as 'proven' | 'unknown' | 'behind', settleMs: Number(s.settleMs ?? 0), watermark: s.watermark ? new Date(s.watermark) : null, reason: s.reason ?? null };
}

export interface GateOptions {
  now?: Date;
  /** Record a definition change seen now (promote does; status only reads). */
  recordDefinition?: string | null;
  /** Re-count the rows of the windows the gate would use (rule 4.6; `judgedRowCounter`). Absent: not checked. */
  countRows?: RowCounter;
}

/** The gate for the next step forward from the dataset's current stage; null at the last stage. */
export async function gateForNextStep(db: Pool | PoolClient, ds: DatasetConfig, row: StageRow, opts: GateOptions = {}): Promise<GateResult | null> {
  const to = nextStage(row.stage);
  if (!to) return null;
  const retire = row.stage === 'streaming';
  const required = retire ? ds.cutover.retireAfter : ds.cutover.promoteAfter;
  const needsEvidence = row.stage !== 'batch';
  const definition = needsEvidence ? await currentDefinition(db, ds, { record: opts.recordDefinition ?? null }) : undefined;
  // One after another: `db` may be one client inside a transaction, where queries at once are
  // queued by pg with a deprecation warning (an error from pg 9).
  const verdicts = needsEvidence ? await loadVerdicts(db, ds.name, { ...(retire ? { streamingSince: row.since } : {}), limit: required + LOOKBACK }) : [];
  const lastFailure = needsEvidence ? await loadLastFailure(db, ds.name) : null;
  const streamCode = needsEvidence ? await streamCoverage(db, ds) : undefined;
  // The database's clock, as the verdicts' and batch runs' times are (src/core/db/database-clock.ts).
  const now = opts.now ?? await databaseNow(db);
  const evaluate = (vs: readonly Verdict[]) => evaluateGate({
    from: row.stage, to, since: row.since, verdicts: vs, lastFailure, definition, now, windowed: ds.window !== null,
    promoteAfter: ds.cutover.promoteAfter, retireAfter: ds.cutover.retireAfter, maxEvidenceAgeMs: ds.cutover.maxEvidenceAgeMs,
    minRowsPerWindow: ds.cutover.minRowsPerWindow, settleMs: ds.reconcile.settleMs, streamCode, managedBatch: ds.batch.query !== null,
  });
  let gate = evaluate(verdicts);
  if (!opts.countRows || !needsEvidence) return gate;
  // Rule 4.6: re-count the windows the decision would rest on; a window that changed drops out and
  // the next one back takes its place, so count again until every window used was re-counted.
  let current = verdicts;
  for (;;) {
    const unchecked = current.filter((v) => v.verdict === 'match' && gate.evidence.includes(v.id) && !v.rowsNow);
    if (unchecked.length === 0) return gate;
    const counts = await opts.countRows(unchecked);
    current = current.map((v) => (v.verdict === 'match' && counts.has(v.id) && !v.rowsNow ? { ...v, rowsNow: counts.get(v.id)! } : v));
    gate = evaluate(current);
  }
}
