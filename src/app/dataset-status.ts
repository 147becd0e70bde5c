/**
 * One line of facts per dataset for `dualrun datasets`: stage, last batch run,
 * stream progress, last reconciliation verdict. One query per table, not per dataset.
 */
import type { Pool } from '../core/db/connect.ts';
import type { DatasetConfig, DualrunConfig } from '../core/config/types.ts';
import { readStages } from '../core/stages.ts';
import { abandonOrphanedRuns } from '../../legacy-batch/run-ledger.ts';
import { openWindows, retriedByFires, type OpenState, type OpenWindow } from '../../legacy-batch/open-windows.ts';
import { lookbackStart } from './scheduler/fire-open-windows.ts';
import { formatByteSize } from '../core/byte-size.ts';
import { slotStatuses } from '../../streaming/capture/logical-slot.ts';
import { changelogSizes, type ChangelogSize } from '../../streaming/capture/changelog-size.ts';
import { triggerTable } from '../../streaming/capture/changelog-consumers.ts';

/** The replication slot of each logical-capture dataset, with a warning when it retains too much WAL. */
async function logicalSlots(db: Pool, config: DualrunConfig): Promise<Map<string, NonNullable<DatasetStatus['slot']>>> {
  const logical = Object.values(config.datasets).flatMap((ds) => {
    const src = ds.stream.source;
    return src && src.kind === 'table' && src.capture === 'logical' ? [{ name: ds.name, limit: src.maxRetainedWalBytes }] : [];
  });
  const statuses = await slotStatuses(db, logical.map((l) => l.name));
  const out = new Map<string, NonNullable<DatasetStatus['slot']>>();
  for (const { name, limit } of logical) {
    const s = statuses.get(name)!;
    const over = s.retainedBytes !== null && s.retainedBytes > limit;
    const warning = !s.exists ? `replication slot ${s.slot} does not exist: run dualrun capture`
      : over ? `replication slot ${s.slot} retains ${formatByteSize(s.retainedBytes!)} of WAL (limit ${formatByteSize(limit)}): is the stream worker running?` : null;
    out.set(name, { name: s.slot, exists: s.exists, retainedBytes: s.retainedBytes, warning });
  }
  return out;
}

export interface DatasetStatus {
  dataset: string;
  stage: string;
  lastBatchRun: { window: string | null; status: string; rows: number | null; finishedAt: string | null } | null;
  /**
   * Read where the stream worker writes them (stream.database, else the toolkit database).
   * `error` (and nulls) when that database could not be read: never a made-up 0.
   */
  stream: { watermark: string | null; lagSeconds: number | null; deadLetters: number | null; error?: string };
  /** The newest reconciliation attempt; `error` (with its message) when it could not judge. */
  lastVerdict: { window: string | null; verdict: string; at: string; error?: string } | null;
  /**
   * Windows batch fires left waiting (adopted: the external job had not finished) or failed,
   * oldest first; `retried`: whether fires still handle them (docs/batch.md, "Open windows").
   * They stay here until a run of theirs succeeds, however many newer windows succeed.
   */
  openWindows: { window: string; state: OpenState; attempts: number; retried: boolean; firstFireAt: string; lastFireAt: string; detail: string | null }[];
  /** Logical capture only: the slot and the WAL it holds back; `warning` when over stream.source.maxRetainedWal. */
  slot?: { name: string; exists: boolean; retainedBytes: number | null; warning: string | null };
  /** Trigger capture only: rows in its source table's dualrun.changelog and what pruning deleted. */
  changelog?: ChangelogSize;
}

/** Whether fires still handle an open window: retries left, and within the lookback of a fire now. */
function stillRetried(ds: DatasetConfig, o: OpenWindow, now: Date): boolean {
  const from = lookbackStart(ds, now);
  return retriedByFires(o) && from !== null && o.start >= from;
}

/** Opens the pool of a dataset's own database (rt.pool). */
export type PoolFor = (url: string) => Promise<Pool>;

const iso = (d: Date | null | undefined) => (d ? d.toISOString() : null);

/** Watermark and open dead letters of the datasets whose stream side lives in `db`. */
async function streamFactsIn(db: Pool, names: string[]): Promise<Map<string, DatasetStatus['stream']>> {
  const out = new Map<string, DatasetStatus['stream']>();
  // A stream database gets the dualrun schema when its worker first runs: before that, nothing streamed.
  const has = await db.query<{ t: string | null }>(`SELECT to_regclass('dualrun.dead_letters')::text AS t`);
  const [marks, dead] = has.rows[0].t ? await Promise.all([
    db.query(`SELECT dataset, event_time, extract(epoch FROM now() - event_time)::float8 AS lag
              FROM dualrun.watermarks WHERE dataset = ANY($1)`, [names]),
    db.query(`SELECT dataset, count(*)::int AS n FROM dualrun.dead_letters WHERE dataset = ANY($1) AND status = 'open' GROUP BY dataset`, [names]),
  ]) : [{ rows: [] }, { rows: [] }];
  const wm = new Map(marks.rows.map((r) => [r.dataset as string, r]));
  const dl = new Map(dead.rows.map((r) => [r.dataset as string, r.n as number]));
  for (const n of names) out.set(n, { watermark: iso(wm.get(n)?.event_time), lagSeconds: wm.get(n)?.lag ?? null, deadLetters: dl.get(n) ?? 0 });
  return out;
}

/** Stream facts of every dataset, each read from its stream database (stream.database, else the toolkit one). */
async function streamFacts(db: Pool, config: DualrunConfig, poolFor?: PoolFor): Promise<Map<string, DatasetStatus['stream']>> {
  const groups = new Map<string | null, string[]>();
  for (const ds of Object.values(config.datasets)) {
    const url = poolFor ? ds.stream.database : null;
    groups.set(url, [...(groups.get(url) ?? []), ds.name]);
  }
  const parts = await Promise.all([...groups].map(async ([url, names]) => {
    if (!url) return streamFactsIn(db, names);
    try {
      return await streamFactsIn(await poolFor!(url), names);
    } catch (e) {
      const error = (e as Error).message;
      return new Map(names.map((n) => [n, { watermark: null, lagSeconds: null, deadLetters: null, error }]));
    }
  }));
  return new Map(parts.flatMap((m) => [...m]));
}

/** `now`: when `openWindows[].retried` is judged (a fire at that time). */
export async function datasetStatuses(db: Pool, config: DualrunConfig, poolFor?: PoolFor, now = new Date()): Promise<DatasetStatus[]> {
  const names = Object.keys(config.datasets);
  // A run whose process died (SIGKILL) must not show as the one still going.
  await abandonOrphanedRuns(db);
  const [stages, runs, stream, verdicts, open] = await Promise.all([
    readStages(db, names),
    db.query(`SELECT DISTINCT ON (dataset) dataset, window_label, status, rows, finished_at
              FROM dualrun.batch_runs WHERE dataset = ANY($1) ORDER BY dataset, id DESC`, [names]),
    streamFacts(db, config, poolFor),
    // The newest attempt, a failed one included: an older match is not the last word after an error.
    db.query(`SELECT DISTINCT ON (dataset) dataset, window_label, verdict, finished_at, message FROM (
                SELECT dataset, window_label, verdict, finished_at, NULL::text AS message, 0 AS kind, id
                  FROM dualrun.reconciliations WHERE dataset = ANY($1)
                UNION ALL
                SELECT dataset, window_label, 'error', at, code || ': ' || message, 1, id
                  FROM dualrun.reconcile_errors WHERE dataset = ANY($1)) v
              ORDER BY dataset, finished_at DESC, kind DESC, id DESC`, [names]),
    openWindows(db, names),
  ]);
  const by = <T extends { dataset: string }>(rows: T[]) => new Map(rows.map((r) => [r.dataset, r]));
  const ru = by(runs.rows), ve = by(verdicts.rows);
  const slots = await logicalSlots(db, config);
  const triggers = new Map(names.flatMap((n) => { const t = triggerTable(config.datasets[n]); return t ? [[n, t] as const] : []; }));
  const sizes = await changelogSizes(db, [...triggers.values()]);
  return names.map((name) => {
    const r = ru.get(name), v = ve.get(name);
    return {
      ...(slots.has(name) ? { slot: slots.get(name) } : {}),
      ...(triggers.has(name) ? { changelog: sizes.get(triggers.get(name)!) } : {}),
      dataset: name,
      stage: stages.get(name)!,
      lastBatchRun: r ? { window: r.window_label, status: r.status, rows: r.rows === null ? null : Number(r.rows), finishedAt: iso(r.finished_at) } : null,
      openWindows: open.filter((o) => o.dataset === name).map((o) => ({
        window: o.label, state: o.state, attempts: o.attempts, retried: stillRetried(config.datasets[name], o, now), firstFireAt: iso(o.firstFireAt)!, lastFireAt: iso(o.lastFireAt)!, detail: o.detail,
      })),
      stream: stream.get(name)!,
      lastVerdict: v ? { window: v.window_label, verdict: v.verdict, at: iso(v.finished_at)!, ...(v.message ? { error: v.message } : {}) } : null,
    };
  });
}
