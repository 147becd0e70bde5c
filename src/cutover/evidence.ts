/**
 * Loads the reconciliation history a gate needs. The SQL only narrows what is
 * read (latest verdict per window, newest windows first, enough of them to decide);
 * the rules themselves live in stage-gate.ts and are applied again there.
 */
import type { Pool, PoolClient } from '../db/connect.ts';
import type { DatasetConfig } from '../config/types.ts';
import { nextStage, type StageRow } from '../stages.ts';
import { evaluateGate, type GateResult, type Verdict } from './stage-gate.ts';


interface Row { id: string; window_label: string | null; window_start: Date | null; verdict: Verdict['verdict']; stage: string | null; finished_at: Date }

export async function loadVerdicts(db: Pool | PoolClient, dataset: string, opts: { streamingSince?: Date | null; limit: number }): Promise<Verdict[]> {
  const retire = opts.streamingSince !== undefined;
  const r = await db.query<Row>(
    `SELECT id::text, window_label, window_start, verdict, stage, finished_at FROM (
       SELECT DISTINCT ON (coalesce(window_start::text, window_label, 'run:' || id)) *
       FROM dualrun.reconciliations
       WHERE dataset = $1 AND verdict <> 'pending'
         AND ($2::boolean IS FALSE OR (stage = 'streaming' AND ($3::timestamptz IS NULL OR finished_at >= $3)))
       ORDER BY coalesce(window_start::text, window_label, 'run:' || id), finished_at DESC, id DESC
     ) latest
     ORDER BY coalesce(window_start, finished_at) DESC, finished_at DESC, id DESC
     LIMIT $4`,
    [dataset, retire, opts.streamingSince ?? null, opts.limit],
  );
  return r.rows.map((x) => ({ id: x.id, windowLabel: x.window_label, windowStart: x.window_start, verdict: x.verdict, stage: x.stage, finishedAt: x.finished_at }));
}

/** The gate for the next step forward from the dataset's current stage; null at the last stage. */
export async function gateForNextStep(db: Pool | PoolClient, ds: DatasetConfig, row: StageRow, now = new Date()): Promise<GateResult | null> {
  const to = nextStage(row.stage);
  if (!to) return null;
  const retire = row.stage === 'streaming';
  const required = retire ? ds.cutover.retireAfter : ds.cutover.promoteAfter;
  const verdicts = row.stage === 'batch' ? [] : await loadVerdicts(db, ds.name, {
    ...(retire ? { streamingSince: row.since } : {}),
    // One more than needed, so a refusal can name the mismatch that broke the streak.
    limit: required + 1,
  });
  return evaluateGate({
    from: row.stage, to, since: row.since, verdicts, now, windowed: ds.window !== null,
    promoteAfter: ds.cutover.promoteAfter, retireAfter: ds.cutover.retireAfter, maxEvidenceAgeMs: ds.cutover.maxEvidenceAgeMs,
  });
}
