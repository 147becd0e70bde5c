/**
 * Every promotion decision (dualrun.gate_decisions): granted, forced and refused.
 * A refusal changes no stage, so the audit never sees it; this record is what
 * the nightly report and alerts read. Written in the promote transaction, so a
 * grant and its decision commit together; a refusal commits on its own.
 */
import type { Pool, PoolClient } from '../db/connect.ts';
import type { Stage } from '../stages.ts';
import type { GateResult } from './stage-gate.ts';

export type GateOutcome = 'granted' | 'refused' | 'forced';

export interface GateDecision {
  readonly id: string;
  readonly dataset: string;
  readonly from: Stage;
  readonly to: Stage;
  readonly outcome: GateOutcome;
  readonly actor: string;
  readonly reason: string;
  /** The gate's `missing` sentences (empty when granted). */
  readonly why: readonly string[];
  /** Reconciliation ids the gate counted. */
  readonly evidence: readonly string[];
  readonly gate: GateResult;
  readonly at: string;
}

interface Row { id: string; dataset: string; from_stage: Stage; to_stage: Stage; outcome: GateOutcome; actor: string; reason: string; why: string[]; evidence: string[]; gate: GateResult; at: Date }

const COLUMNS = 'id::text, dataset, from_stage, to_stage, outcome, actor, reason, why, evidence::text[] AS evidence, gate, at';

function fromRow(r: Row): GateDecision {
  return { id: r.id, dataset: r.dataset, from: r.from_stage, to: r.to_stage, outcome: r.outcome, actor: r.actor, reason: r.reason, why: r.why, evidence: r.evidence, gate: r.gate, at: r.at.toISOString() };
}

export async function recordGateDecision(c: PoolClient, d: Omit<GateDecision, 'id' | 'at' | 'why' | 'evidence'>): Promise<GateDecision> {
  const r = await c.query<Row>(
    `INSERT INTO dualrun.gate_decisions (dataset, from_stage, to_stage, outcome, actor, reason, why, evidence, gate)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bigint[], $9) RETURNING ${COLUMNS}`,
    [d.dataset, d.from, d.to, d.outcome, d.actor, d.reason, [...d.gate.missing], [...d.gate.evidence], JSON.stringify(d.gate)]);
  return fromRow(r.rows[0]);
}

/** Decisions since an instant (all datasets, or one), oldest first. */
export async function readGateDecisions(db: Pool | PoolClient, opts: { dataset?: string; since?: Date } = {}): Promise<GateDecision[]> {
  const r = await db.query<Row>(
    `SELECT ${COLUMNS} FROM dualrun.gate_decisions WHERE ($1::text IS NULL OR dataset = $1) AND ($2::timestamptz IS NULL OR at >= $2) ORDER BY id`,
    [opts.dataset ?? null, opts.since ?? null]);
  return r.rows.map(fromRow);
}
