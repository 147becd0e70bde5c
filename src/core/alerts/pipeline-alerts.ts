/**
 * The alert each emission point sends, built from what that point already has,
 * so a call site stays one line: `rt.alerts.emit(batchFailedAlert(...))`.
 * The mismatch alert is built by the reconciler (reconcile/mismatch-alert.ts):
 * it reads a reconciliation result, and src/core never imports the paths.
 */
import type { DualrunError } from '../errors.ts';
import type { StageChange } from '../cutover/stage-change.ts';
import type { GateResult } from '../cutover/stage-gate.ts';
import { alertEvent, type AlertEvent } from './alert-event.ts';

export function gateRefusedAlert(e: DualrunError): AlertEvent {
  const g = e.details.gate as GateResult | undefined;
  const dataset = String(e.details.dataset ?? '');
  return alertEvent('gate_refused', dataset, null, g ? `${g.from} → ${g.to} refused (${Math.min(g.clean, g.required)}/${g.required} clean): ${g.missing.join('; ')}` : e.message, {
    from: g?.from ?? null, to: g?.to ?? null, clean: g?.clean ?? null, required: g?.required ?? null, missing: g?.missing ?? [],
  });
}

export function stageChangeAlert(c: StageChange): AlertEvent {
  const forced = c.forced ? ' (FORCED: gate bypassed)' : '';
  return alertEvent(c.action === 'promote' ? 'promoted' : 'rolled_back', c.dataset, null,
    `${c.from} → ${c.to}${forced} by ${c.audit.actor}: ${c.audit.reason}`, {
      from: c.from, to: c.to, forced: c.forced, actor: c.audit.actor, reason: c.audit.reason, auditId: c.audit.id, serving: c.serving,
    });
}

/**
 * Wraps a stage change: alerts `promoted` / `rolled_back` once it committed, or
 * `gate_refused` when the gate said no; the outcome is returned (or thrown) unchanged.
 */
export async function alertingStageChange(alerts: { emit(e: AlertEvent): void }, change: Promise<StageChange>): Promise<StageChange> {
  try {
    const c = await change;
    alerts.emit(stageChangeAlert(c));
    return c;
  } catch (e) {
    if ((e as DualrunError)?.code === 'DUALRUN_GATE_REFUSED') alerts.emit(gateRefusedAlert(e as DualrunError));
    throw e;
  }
}

export function batchFailedAlert(dataset: string, window: string | null, runId: number, error: DualrunError): AlertEvent {
  return alertEvent('batch_failed', dataset, window, error.message, { runId, code: error.code, ...(error.db?.code ? { sqlstate: error.db.code } : {}) });
}

export function deadLetterRateAlert(dataset: string, o: { dead: number; records: number; ratio: number; window: number }): AlertEvent {
  return alertEvent('dead_letter_rate', dataset, null,
    `${o.dead} of the last ${o.records} records were dead-lettered (limit ${o.ratio} × ${o.window} = ${o.ratio * o.window}); see dualrun.dead_letters`,
    { deadLettered: o.dead, records: o.records, ratio: o.ratio, window: o.window });
}

export function streamStalledAlert(dataset: string, o: { lagRecords: number | null; stalledSeconds: number; applied: number }): AlertEvent {
  const lag = o.lagRecords === null ? 'not at the head' : `${o.lagRecords} records behind`;
  return alertEvent('stream_stalled', dataset, null, `no record applied for ${Math.round(o.stalledSeconds)} s while ${lag}`,
    { lagRecords: o.lagRecords, stalledSeconds: Math.round(o.stalledSeconds), applied: o.applied });
}
