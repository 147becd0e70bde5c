/**
 * What people did to a dataset's stage in the report's period: promotions
 * (forced ones marked), rollbacks (the cutover audit), and promotions the gate
 * refused (the cutover's gate decisions, outcome `refused`), each with actor and
 * reason, oldest first.
 */
import type { Pool } from '../src/core/db/connect.ts';
import { readGateDecisions } from '../src/core/cutover/gate-decisions.ts';

export interface StageEvent {
  kind: 'promote' | 'rollback' | 'init' | 'refused';
  at: string;
  from: string;
  to: string;
  actor: string;
  reason: string;
  forced: boolean;
  /** For a refusal: what the gate said was missing. For a forced promotion: what it bypassed. */
  missing: string[];
}

export async function stageEvents(db: Pool, datasets: readonly string[], from: Date, to: Date): Promise<Map<string, StageEvent[]>> {
  const [audit, decisions] = await Promise.all([
    db.query<{ dataset: string; action: StageEvent['kind']; from_stage: string; to_stage: string; actor: string; reason: string; forced: boolean; gate: { missing?: string[] } | null; at: Date }>(
      `SELECT dataset, action, from_stage, to_stage, actor, reason, forced, gate, at FROM dualrun.cutover_audit a
        WHERE dataset = ANY($1) AND at >= $2 AND at < $3 ORDER BY a.at, a.id`, [datasets, from, to]),
    readGateDecisions(db, { since: from }),
  ]);
  const wanted = new Set(datasets);
  const refusals = decisions.filter((d) => d.outcome === 'refused' && wanted.has(d.dataset) && d.at < to.toISOString());
  const out = new Map<string, StageEvent[]>(datasets.map((d) => [d, []]));
  for (const a of audit.rows) {
    out.get(a.dataset)!.push({ kind: a.action, at: a.at.toISOString(), from: a.from_stage, to: a.to_stage, actor: a.actor, reason: a.reason, forced: a.forced, missing: a.forced ? [...(a.gate?.missing ?? [])] : [] });
  }
  for (const r of refusals) {
    out.get(r.dataset)!.push({ kind: 'refused', at: r.at, from: r.from, to: r.to, actor: r.actor, reason: r.reason, forced: false, missing: [...r.why] });
  }
  for (const list of out.values()) list.sort((a, b) => a.at.localeCompare(b.at));
  return out;
}
