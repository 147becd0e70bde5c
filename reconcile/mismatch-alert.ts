/**
 * The `mismatch` alert for a reconciliation result (the other alerts are in
 * src/core/alerts/pipeline-alerts.ts; this one reads a WindowResult, so it lives with
 * the reconciler: the core never imports the paths).
 */
import { alertEvent, type AlertEvent } from '../src/core/alerts/alert-event.ts';
import type { WindowResult } from './types.ts';

export function mismatchAlert(r: WindowResult): AlertEvent {
  const d = r.diff;
  const keys = d ? d.missingInStream + d.missingInBatch + d.changed + d.duplicateKeys : null;
  const parts = d ? [`missing_in_stream ${d.missingInStream}`, `missing_in_batch ${d.missingInBatch}`, `changed ${d.changed}`, `duplicate_keys ${d.duplicateKeys}`] : [];
  const cols = d && Object.keys(d.columns).length ? `; columns ${Object.keys(d.columns).join(', ')}` : '';
  return alertEvent('mismatch', r.dataset, r.window, `${keys ?? 'some'} keys differ (${parts.join(', ')}${cols})`, {
    reconciliationId: r.id, stage: r.stage, batchRows: r.batch?.rows ?? null, streamRows: r.stream?.rows ?? null,
    missingInStream: d?.missingInStream ?? null, missingInBatch: d?.missingInBatch ?? null, changed: d?.changed ?? null,
    duplicateKeys: d?.duplicateKeys ?? null, columns: d?.columns ?? {},
  });
}
