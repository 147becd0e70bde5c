/**
 * The facts of one night's report (one UTC day), read from stored history, per
 * configured dataset: the stage and its gate (streak N of M, eligible or exactly
 * why not, the earliest date); every verdict of the night, superseded ones
 * included (a mismatch healed by a replay shows as healed, with its samples);
 * the standing result per window; stage changes, forced promotions, rollbacks
 * and refused promotions with actor and reason; dead letters; stream lag and
 * watermark age; and the trend over the last N nights that had reconciliations.
 * Markdown, HTML and JSON render these same facts.
 */
import { DualrunError } from '../src/core/errors.ts';
import { parseInstant } from '../src/core/parse-instant.ts';
import type { Runtime } from '../src/core/runtime.ts';
import { readStageRows } from '../src/core/stages.ts';
import type { WindowResult, WindowStatus } from './types.ts';
import { worstStatus } from './verdict-exit-code.ts';
import { nightVerdicts, standing, type NightVerdict } from './nightly-verdicts.ts';
import { gateSummary, type GateSummary } from './nightly-gate.ts';
import { stageEvents, type StageEvent } from './nightly-events.ts';
import { streamSide, type DeadLetterFacts, type StreamFacts } from './nightly-stream.ts';

export type NightStatus = WindowStatus | 'none';

export interface NightPoint {
  date: string;
  /** Worst standing verdict of the night (after replays healed what they healed). */
  status: NightStatus;
  differences: number;
  inFlight: number;
  windows: number;
  /** Windows that mismatched that night and were a match by its end. */
  healed: number;
}

export interface DatasetNight {
  dataset: string;
  stage: string;
  /** Worst standing verdict of this night. */
  status: NightStatus;
  /** The standing result per window at the end of the night. */
  windows: WindowResult[];
  /** Every verdict of the night, oldest first, superseded ones included. */
  verdicts: NightVerdict[];
  healed: number;
  /** The gate of the next step, as of generatedAt. */
  gate: GateSummary;
  /** Stage changes and refused promotions in the period, oldest first. */
  events: StageEvent[];
  deadLetters: DeadLetterFacts;
  stream: StreamFacts;
  history: NightPoint[];
}

export interface NightlyReport {
  date: string;
  /** The period covered: [from, to). */
  period: { from: string; to: string };
  generatedAt: string;
  status: NightStatus;
  nights: number;
  datasets: DatasetNight[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function reportDate(date: string | undefined): string {
  const d = date ?? new Date().toISOString().slice(0, 10);
  if (!DATE.test(d) || parseInstant(d) === null) throw new DualrunError('DUALRUN_USAGE', `--date: ${JSON.stringify(d)} is not a real date (expected YYYY-MM-DD)`);
  return d;
}

export async function buildNightlyReport(rt: Runtime, opts: { date?: string; nights?: number; now?: Date } = {}): Promise<NightlyReport> {
  const date = reportDate(opts.date);
  const now = opts.now ?? new Date();
  const nights = Math.max(1, opts.nights ?? rt.config.report.history);
  const from = new Date(`${date}T00:00:00Z`);
  const to = new Date(from.getTime() + 86_400_000);
  const names = Object.keys(rt.config.datasets);
  const db = await rt.db();
  const [verdicts, trend, rows, events] = await Promise.all([
    nightVerdicts(db, names, from, to), trendPoints(rt, names, date, nights), readStageRows(db, names), stageEvents(db, names, from, to),
  ]);
  const datasets = await Promise.all(names.map(async (name): Promise<DatasetNight> => {
    const ds = rt.dataset(name);
    const row = rows.get(name)!;
    const [gate, side] = await Promise.all([gateSummary(db, ds, row, now), streamSide(rt, ds, from, to, now)]);
    const list = verdicts.get(name)!;
    const windows = standing(list);
    return {
      dataset: name, stage: row.stage, status: windows.length ? worstStatus(windows.map((w) => w.verdict)) : 'none',
      windows, verdicts: list, healed: list.filter((v) => v.healed).length, gate, events: events.get(name)!, ...side, history: trend.get(name)!,
    };
  }));
  const judged = datasets.filter((d) => d.status !== 'none').map((d) => d.status as WindowStatus);
  return {
    date, period: { from: from.toISOString(), to: to.toISOString() }, generatedAt: now.toISOString(),
    status: judged.length ? worstStatus(judged) : 'none', nights, datasets,
  };
}

/** Per dataset and night (UTC date of finishing): standing verdicts, differences, healed windows. */
async function trendPoints(rt: Runtime, names: string[], date: string, nights: number): Promise<Map<string, NightPoint[]>> {
  const db = await rt.db();
  const r = await db.query<{ dataset: string; night: string; verdicts: WindowStatus[]; differences: string; in_flight: string; healed: string }>(
    `WITH judged AS (
       SELECT dataset, window_label, verdict, missing_in_stream + missing_in_batch + changed + duplicate_keys AS diffs, in_flight, finished_at, 0 AS kind, id
         FROM dualrun.reconciliations
        WHERE dataset = ANY($1) AND finished_at >= ($2::date - $3::int + 1)::timestamp AT TIME ZONE 'UTC'
          AND finished_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
       UNION ALL -- windows that could not be judged: a night of failures is not a quiet night
       SELECT dataset, window_label, 'error', 0, 0, at, 1, id
         FROM dualrun.reconcile_errors
        WHERE dataset = ANY($1) AND at >= ($2::date - $3::int + 1)::timestamp AT TIME ZONE 'UTC'
          AND at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'),
     night AS (
       SELECT dataset, window_label, verdict, diffs, in_flight,
              (finished_at AT TIME ZONE 'UTC')::date AS night,
              row_number() OVER (PARTITION BY dataset, (finished_at AT TIME ZONE 'UTC')::date, window_label ORDER BY finished_at DESC, kind DESC, id DESC) AS rn,
              bool_or(verdict = 'mismatch') OVER (PARTITION BY dataset, (finished_at AT TIME ZONE 'UTC')::date, window_label) AS mismatched
         FROM judged)
     SELECT dataset, night::text AS night, array_agg(verdict) AS verdicts, sum(diffs)::text AS differences, sum(in_flight)::text AS in_flight,
            count(*) FILTER (WHERE mismatched AND verdict = 'match')::text AS healed
       FROM night WHERE rn = 1 GROUP BY dataset, night`, [names, date, nights]);
  const dates = lastNights(date, nights);
  return new Map(names.map((name) => [name, dates.map((night): NightPoint => {
    const row = r.rows.find((t) => t.dataset === name && t.night === night);
    if (!row) return { date: night, status: 'none', differences: 0, inFlight: 0, windows: 0, healed: 0 };
    return { date: night, status: worstStatus(row.verdicts), differences: Number(row.differences), inFlight: Number(row.in_flight), windows: row.verdicts.length, healed: Number(row.healed) };
  })]));
}

function lastNights(date: string, n: number): string[] {
  const end = Date.parse(`${date}T00:00:00Z`);
  return Array.from({ length: n }, (_, i) => new Date(end - (n - 1 - i) * 86_400_000).toISOString().slice(0, 10));
}

/** Failing differences of one window (in-flight excluded). */
export function failingDifferences(r: WindowResult): number {
  const d = r.diff;
  return d ? d.missingInStream + d.missingInBatch + d.changed + d.duplicateKeys : 0;
}
