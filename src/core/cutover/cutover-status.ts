/** `dualrun cutover status`: each dataset's stage, serving table and progress towards its next gate. */
import type { Runtime } from '../runtime.ts';
import { nextStage } from '../stages.ts';
import { gateForNextStep } from './evidence.ts';
import { judgedRowCounter } from './judged-rows.ts';
import { latestAudit } from './audit-log.ts';
import { servingOf } from './serving.ts';
import type { GateResult } from './stage-gate.ts';

export interface CutoverStatus {
  dataset: string;
  stage: string;
  version: number;
  since: string | null;
  serving: { side: 'batch' | 'stream'; table: string; view: string | null };
  next: {
    stage: string;
    rule: 'none' | 'promoteAfter' | 'retireAfter';
    ready: boolean;
    /** e.g. `5/7 clean`; null when the step needs no evidence. */
    progress: string | null;
    clean: number;
    required: number;
    newestEvidenceAt: string | null;
    stale: boolean;
    missing: string[];
    /** The windows the gate counted, those newer than the breaker it did not count (and why), and what broke the streak. */
    counted: GateResult['counted'];
    notCounted: GateResult['notCounted'];
    breaker: GateResult['breaker'];
    /** Stretches between the windows used that were never judged (they do not break the streak). */
    gaps: GateResult['gaps'];
    minRowsPerWindow: number;
  } | null;
  lastChange: { action: string; from: string; to: string; actor: string; reason: string; forced: boolean; at: string } | null;
}

/** `now` absent: the database's clock (the gate's default). */
export async function cutoverStatus(rt: Runtime, now?: Date): Promise<CutoverStatus[]> {
  const db = await rt.db();
  const datasets = Object.values(rt.config.datasets);
  const [servings, audits] = await Promise.all([servingOf(db, datasets), latestAudit(db, datasets.map((d) => d.name))]);
  return Promise.all(servings.map(async (s, i) => {
    const gate = await gateForNextStep(db, datasets[i], { dataset: s.dataset, stage: s.stage, version: s.version, since: s.since }, { now, countRows: judgedRowCounter(rt, datasets[i]) });
    const a = audits.get(s.dataset);
    return {
      dataset: s.dataset,
      stage: s.stage,
      version: s.version,
      since: s.since?.toISOString() ?? null,
      serving: { side: s.side, table: s.table.text, view: s.view?.text ?? null },
      next: gate ? {
        stage: nextStage(s.stage)!,
        rule: gate.rule,
        ready: gate.ok,
        progress: gate.rule === 'none' ? null : `${Math.min(gate.clean, gate.required)}/${gate.required} clean`,
        clean: gate.clean,
        required: gate.required,
        newestEvidenceAt: gate.newestEvidenceAt,
        stale: gate.stale,
        missing: [...gate.missing],
        counted: gate.counted,
        notCounted: gate.notCounted,
        breaker: gate.breaker,
        gaps: gate.gaps,
        minRowsPerWindow: gate.minRowsPerWindow,
      } : null,
      lastChange: a ? { action: a.action, from: a.from, to: a.to, actor: a.actor, reason: a.reason, forced: a.forced, at: a.at } : null,
    };
  }));
}
