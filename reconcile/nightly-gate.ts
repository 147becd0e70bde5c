/**
 * The gate as the morning report states it: the next step, the clean streak N of
 * M, eligible or exactly why not, and the earliest date the promotion can pass if
 * every window from now on is clean. The rules are the cutover gate's own
 * (src/core/cutover/evidence.ts); this only adds the date arithmetic.
 */
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Pool } from '../src/core/db/connect.ts';
import { gateForNextStep } from '../src/core/cutover/evidence.ts';
import type { StageRow } from '../src/core/stages.ts';
import { windowOf } from '../src/core/windows.ts';

export interface GateSummary {
  next: string | null;
  rule: 'none' | 'promoteAfter' | 'retireAfter' | null;
  clean: number;
  required: number;
  eligible: boolean;
  /** Why not, in the gate's words; empty when eligible. */
  missing: string[];
  /** YYYY-MM-DD (UTC) at the earliest; null when unknown (whole-table datasets) or at the last stage. */
  earliestDate: string | null;
  earliestNote: string;
  newestEvidenceAt: string | null;
}

export async function gateSummary(db: Pool, ds: DatasetConfig, row: StageRow, now: Date): Promise<GateSummary> {
  const gate = await gateForNextStep(db, ds, row, { now });
  if (!gate) return { next: null, rule: null, clean: 0, required: 0, eligible: false, missing: [], earliestDate: null, earliestNote: 'streaming-only is the last stage', newestEvidenceAt: null };
  const base = { next: gate.to, rule: gate.rule, clean: gate.clean, required: gate.required, eligible: gate.ok, missing: [...gate.missing], newestEvidenceAt: gate.newestEvidenceAt };
  if (gate.ok) return { ...base, earliestDate: day(now), earliestNote: gate.rule === 'none' ? 'no evidence needed' : 'eligible now' };
  const needed = Math.max(0, gate.required - gate.clean);
  if (needed === 0) return { ...base, earliestDate: day(now), earliestNote: 'after one fresh clean reconciliation' };
  const unit = ds.window ? `${ds.window.grain === 'day' ? 'daily' : 'hourly'} windows` : 'runs';
  if (!ds.window) return { ...base, earliestDate: null, earliestNote: `after ${needed} more clean ${unit}` };
  const at = await earliestWindowEnd(db, ds, needed, now);
  return { ...base, earliestDate: day(at), earliestNote: `after ${needed} more clean ${unit}, if every one is clean` };
}

/**
 * The newest judged window, then `needed` windows after it: the last of them can
 * be judged once it has ended and settled (and never before now).
 */
async function earliestWindowEnd(db: Pool, ds: DatasetConfig, needed: number, now: Date): Promise<Date> {
  const r = await db.query<{ s: Date | null }>(
    `SELECT max(window_start) AS s FROM dualrun.reconciliations WHERE dataset = $1 AND verdict <> 'pending'`, [ds.name]);
  const w0 = ds.window!;
  let w = windowOf(r.rows[0].s ?? now, w0.grain, w0.timezone);
  if (!r.rows[0].s) needed -= 1; // no window judged yet: the current one is the first candidate
  for (let i = 0; i < needed; i++) w = windowOf(w.end, w0.grain, w0.timezone);
  const ready = w.end.getTime() + ds.reconcile.settleMs;
  return new Date(Math.max(ready, now.getTime()));
}

const day = (d: Date) => d.toISOString().slice(0, 10);
