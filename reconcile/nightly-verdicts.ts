/**
 * Every verdict a night produced, superseded ones included: a window judged
 * twice (a mismatch, then a replay, then a match) shows both, the first marked
 * superseded and, when a later verdict of the same window was a match, healed.
 * Each keeps its stored result, so a healed mismatch still shows its samples.
 */
import type { Pool } from '../src/core/db/connect.ts';
import type { WindowResult, WindowStatus } from './types.ts';
import { parseExactJson } from '../src/core/exact-json.ts';

export interface NightVerdict {
  /** dualrun.reconciliations.id as text (64-bit exact). */
  id: string;
  window: string | null;
  verdict: WindowStatus;
  stage: string | null;
  finishedAt: string;
  /** A later verdict of the same window that night replaced this one. */
  supersededBy: string | null;
  /** A mismatch whose window was a match by the end of the night. */
  healed: boolean;
  result: WindowResult;
}

interface Row {
  id: string; dataset: string; window_label: string | null; verdict: WindowStatus; stage: string | null; finished_at: Date; result: string | null;
  error: string | null; window_start: Date | null; window_end: Date | null;
}

/**
 * The night's verdicts per dataset, oldest first. Windows that could not be judged
 * (dualrun.reconcile_errors) are verdicts too, `error`, with ids `e<id>`: left out,
 * a night whose every reconciliation failed was reported as `none` with exit 0.
 */
export async function nightVerdicts(db: Pool, datasets: readonly string[], from: Date, to: Date): Promise<Map<string, NightVerdict[]>> {
  const r = await db.query<Row>(
    `SELECT id::text AS id, dataset, window_label, verdict, stage, finished_at, result::text AS result, NULL::text AS error, window_start, window_end, 0 AS kind, id AS n
       FROM dualrun.reconciliations
      WHERE dataset = ANY($1) AND finished_at >= $2 AND finished_at < $3
     UNION ALL
     SELECT 'e' || id, dataset, window_label, 'error', stage, at, NULL, error::text, window_start, window_end, 1, id
       FROM dualrun.reconcile_errors
      WHERE dataset = ANY($1) AND at >= $2 AND at < $3
      ORDER BY dataset, finished_at, kind, n`, [datasets, from, to]);
  const out = new Map<string, NightVerdict[]>(datasets.map((d) => [d, []]));
  for (const row of r.rows) {
    // As text, parsed exactly: 64-bit keys must not pass through float64.
    const result = row.result === null ? errorResult(row) : parseExactJson(row.result) as WindowResult;
    out.get(row.dataset)!.push({
      id: row.id, window: row.window_label, verdict: row.verdict, stage: row.stage, finishedAt: row.finished_at.toISOString(),
      supersededBy: null, healed: false, result: row.result === null ? result : { ...result, id: result.id ?? Number(row.id) },
    });
  }
  for (const list of out.values()) markSuperseded(list);
  return out;
}

/** The result of a window that could not be judged, from its stored error. */
function errorResult(row: Row): WindowResult {
  return {
    dataset: row.dataset, window: row.window_label, verdict: 'error', batch: null, stream: null, diff: null,
    error: JSON.parse(row.error ?? '{}') as WindowResult['error'],
    windowStart: row.window_start?.toISOString() ?? null, windowEnd: row.window_end?.toISOString() ?? null,
    columns: [], schemaDrift: [], buckets: null, strategy: null, stage: row.stage, durationMs: 0, id: null,
  } as WindowResult;
}

/**
 * Within one window (a whole-table dataset: all its runs), each verdict is
 * superseded by the next one; a mismatch is healed when the window's last verdict
 * is a match. A later `pending` supersedes too: the newest attempt could not judge,
 * so what stood before is no longer known to hold.
 */
export function markSuperseded(list: NightVerdict[]): void {
  const byWindow = new Map<string, NightVerdict[]>();
  for (const v of list) {
    const k = v.window ?? '';
    byWindow.set(k, [...(byWindow.get(k) ?? []), v]);
  }
  for (const vs of byWindow.values()) {
    const last = vs[vs.length - 1];
    vs.forEach((v, i) => {
      if (i < vs.length - 1) v.supersededBy = vs[i + 1].id;
      v.healed = v.verdict === 'mismatch' && v !== last && last.verdict === 'match';
    });
  }
}

/** The standing result per window at the end of the night: its newest verdict. */
export function standing(list: readonly NightVerdict[]): WindowResult[] {
  const latest = new Map<string, NightVerdict>();
  for (const v of list) latest.set(v.window ?? '', v);
  return [...latest.values()].map((v) => v.result).sort((a, b) => String(a.window).localeCompare(String(b.window)));
}
