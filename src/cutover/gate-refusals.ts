/**
 * Promotions the gate refused (dualrun.gate_refusals, append-only). A refusal
 * rolls back its own transaction, so it is written on a separate connection; a
 * failure to write it is logged and never hides the refusal itself.
 *
 * Where the cutover's own record of gate decisions exists (dualrun.gate_decisions,
 * outcome `refused`), that is the record: nothing is written here and refusals
 * are read from it.
 */
import type { Pool } from '../db/connect.ts';
import type { Logger } from '../logger.ts';
import type { Stage } from '../stages.ts';
import type { GateResult } from './stage-gate.ts';

export interface GateRefusal {
  readonly id: string;
  readonly dataset: string;
  readonly from: Stage;
  readonly to: Stage;
  readonly actor: string;
  readonly reason: string;
  readonly gate: GateResult;
  readonly at: string;
}

export async function recordGateRefusal(db: Pool, log: Logger, r: Omit<GateRefusal, 'id' | 'at'>): Promise<void> {
  try {
    if (await hasGateDecisions(db)) return;
    await db.query('INSERT INTO dualrun.gate_refusals (dataset, from_stage, to_stage, actor, reason, gate) VALUES ($1, $2, $3, $4, $5, $6)',
      [r.dataset, r.from, r.to, r.actor, r.reason, JSON.stringify(r.gate)]);
  } catch (e) {
    log.warn({ err: e, dataset: r.dataset }, 'the gate refusal could not be recorded (the refusal stands)');
  }
}

/** Refusals of these datasets in [from, to), oldest first. */
export async function readGateRefusals(db: Pool, datasets: readonly string[], from: Date, to: Date): Promise<GateRefusal[]> {
  const table = (await hasGateDecisions(db)) ? `dualrun.gate_decisions WHERE outcome = 'refused' AND` : 'dualrun.gate_refusals WHERE';
  const r = await db.query<{ id: string; dataset: string; from_stage: Stage; to_stage: Stage; actor: string; reason: string; gate: GateResult; at: Date }>(
    `SELECT id::text AS id, dataset, from_stage, to_stage, actor, reason, gate, at FROM ${table}
      dataset = ANY($1) AND at >= $2 AND at < $3 ORDER BY at, id::bigint`, [datasets, from, to]);
  return r.rows.map((x) => ({ id: x.id, dataset: x.dataset, from: x.from_stage, to: x.to_stage, actor: x.actor, reason: x.reason, gate: x.gate, at: x.at.toISOString() }));
}

async function hasGateDecisions(db: Pool): Promise<boolean> {
  return (await db.query<{ t: string | null }>(`SELECT to_regclass('dualrun.gate_decisions')::text AS t`)).rows[0].t !== null;
}
