/**
 * The append-only audit of stage changes (dualrun.cutover_audit). The toolkit
 * only ever INSERTs here; triggers from 0001-core refuse UPDATE, DELETE and
 * TRUNCATE for everyone else. The reason and the actor are typed by people, who paste
 * connection strings: they are stored scrubbed, as logs are, since nothing can mend them later.
 */
import type { Pool, PoolClient } from '../db/connect.ts';
import type { Stage } from '../stages.ts';
import type { GateResult } from './stage-gate.ts';
import { scrubSecrets } from '../secrets.ts';

export interface AuditEntry {
  readonly id: string;
  readonly dataset: string;
  readonly action: 'promote' | 'rollback' | 'init';
  readonly from: Stage;
  readonly to: Stage;
  readonly actor: string;
  readonly reason: string;
  readonly forced: boolean;
  /** Ids of the dualrun.reconciliations rows the decision rested on. */
  readonly evidence: readonly string[];
  readonly gate: GateResult | null;
  /** The table the serving view pointed at after the change (null: no view configured). */
  readonly serving: string | null;
  readonly stageVersion: number | null;
  /** What the change warned about (e.g. a rollback onto a batch output missing windows); empty: nothing. */
  readonly warnings: readonly string[];
  readonly at: string;
}

export type NewAuditEntry = Omit<AuditEntry, 'id' | 'at'>;

interface Row {
  id: string; dataset: string; action: AuditEntry['action']; from_stage: Stage; to_stage: Stage; actor: string; reason: string;
  forced: boolean; evidence: string[]; gate: GateResult | null; serving: string | null; stage_version: number | null; warnings: string[] | null; at: Date;
}

function fromRow(r: Row): AuditEntry {
  return {
    id: r.id, dataset: r.dataset, action: r.action, from: r.from_stage, to: r.to_stage, actor: r.actor, reason: r.reason,
    forced: r.forced, evidence: r.evidence, gate: r.gate, serving: r.serving, stageVersion: r.stage_version, warnings: r.warnings ?? [], at: r.at.toISOString(),
  };
}

const COLUMNS = 'id::text, dataset, action, from_stage, to_stage, actor, reason, forced, evidence::text[] AS evidence, gate, serving, stage_version, warnings, at';

export async function appendAudit(c: PoolClient, e: NewAuditEntry): Promise<AuditEntry> {
  const r = await c.query<Row>(
    `INSERT INTO dualrun.cutover_audit (dataset, action, from_stage, to_stage, actor, reason, forced, evidence, gate, serving, stage_version, warnings)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8::bigint[], $9, $10, $11, $12::text[]) RETURNING ${COLUMNS}`,
    [e.dataset, e.action, e.from, e.to, scrubSecrets(e.actor), scrubSecrets(e.reason), e.forced, e.evidence, e.gate === null ? null : JSON.stringify(e.gate), e.serving, e.stageVersion, e.warnings],
  );
  return fromRow(r.rows[0]);
}

/** A dataset's audit trail, oldest first. */
export async function readHistory(db: Pool | PoolClient, dataset: string): Promise<AuditEntry[]> {
  const r = await db.query<Row>(`SELECT ${COLUMNS} FROM dualrun.cutover_audit WHERE dataset = $1 ORDER BY id`, [dataset]);
  return r.rows.map(fromRow);
}

/** The newest audit entry per dataset. */
export async function latestAudit(db: Pool | PoolClient, datasets: readonly string[]): Promise<Map<string, AuditEntry>> {
  const r = await db.query<Row>(
    `SELECT DISTINCT ON (dataset) ${COLUMNS} FROM dualrun.cutover_audit WHERE dataset = ANY($1) ORDER BY dataset, id DESC`, [datasets]);
  return new Map(r.rows.map((x) => [x.dataset, fromRow(x)]));
}
