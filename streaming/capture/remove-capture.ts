/**
 * `dualrun capture --remove`: takes away what capture installed for the selected
 * datasets, and nothing else: the replication slot and publication (logical), or
 * the `dualrun_capture` trigger (trigger capture). The source table and its rows,
 * and the changelog already written, stay.
 */
import type { Runtime } from '../../src/core/runtime.ts';
import { removeLogicalCapture } from './logical-slot.ts';

export interface RemovedCapture { dataset: string; capture: 'logical' | 'trigger'; removed: string | null }

export async function removeCapture(rt: Runtime, datasets: readonly string[]): Promise<RemovedCapture[]> {
  const db = await rt.db();
  const out: RemovedCapture[] = [];
  for (const name of datasets) {
    const src = rt.dataset(name).stream.source;
    if (!src || src.kind !== 'table') continue;
    if (src.capture === 'logical') {
      const r = await removeLogicalCapture(db, name);
      out.push({ dataset: name, capture: 'logical', removed: r.removed ? `replication slot and publication ${r.slot}` : null });
      continue;
    }
    const has = await db.query(`SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND tgname = 'dualrun_capture'`, [src.table.sql]);
    if (has.rowCount) await db.query(`DROP TRIGGER dualrun_capture ON ${src.table.sql}`);
    out.push({ dataset: name, capture: 'trigger', removed: has.rowCount ? `trigger dualrun_capture on ${src.table.text}` : null });
  }
  return out;
}
