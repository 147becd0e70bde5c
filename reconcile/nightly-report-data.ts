/**
 * The facts of one night's report, read from the stored history: for every
 * configured dataset, the newest result per window among the reconciliations
 * that finished on that date (UTC), and per night over the last N nights the
 * worst verdict and the number of failing differences (the trend chart).
 */
import { DualrunError } from '../src/errors.ts';
import type { Runtime } from '../src/runtime.ts';
import { readStages } from '../src/stages.ts';
import type { WindowResult, WindowStatus } from './types.ts';
import { worstStatus } from './verdict-exit-code.ts';
import { parseExactJson } from '../src/exact-json.ts';

export type NightStatus = WindowStatus | 'none';

export interface NightPoint { date: string; status: NightStatus; differences: number; inFlight: number; windows: number }

export interface DatasetNight {
  dataset: string;
  stage: string;
  status: NightStatus;
  windows: WindowResult[];
  history: NightPoint[];
}

export interface NightlyReport {
  date: string;
  generatedAt: string;
  status: NightStatus;
  nights: number;
  datasets: DatasetNight[];
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function reportDate(date: string | undefined): string {
  const d = date ?? new Date().toISOString().slice(0, 10);
  if (!DATE.test(d) || Number.isNaN(Date.parse(`${d}T00:00:00Z`))) throw new DualrunError('DUALRUN_USAGE', `--date: ${JSON.stringify(d)} is not a date (expected YYYY-MM-DD)`);
  return d;
}

export async function buildNightlyReport(rt: Runtime, opts: { date?: string; nights?: number } = {}): Promise<NightlyReport> {
  const date = reportDate(opts.date);
  const nights = Math.max(1, opts.nights ?? rt.config.report.history);
  const names = Object.keys(rt.config.datasets);
  const db = await rt.db();
  const [latest, trend, stages] = await Promise.all([
    db.query<{ dataset: string; result: string }>(
      // As text, parsed exactly: 64-bit keys must not pass through float64.
      `SELECT DISTINCT ON (dataset, window_label) dataset, result::text AS result
         FROM dualrun.reconciliations
        WHERE dataset = ANY($1) AND finished_at >= $2::date::timestamp AT TIME ZONE 'UTC'
          AND finished_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
        ORDER BY dataset, window_label, finished_at DESC, id DESC`, [names, date]),
    db.query<{ dataset: string; night: string; verdicts: WindowStatus[]; differences: string; in_flight: string }>(
      `SELECT dataset, night::text AS night, array_agg(verdict) AS verdicts,
              sum(missing_in_stream + missing_in_batch + changed + duplicate_keys)::text AS differences, sum(in_flight)::text AS in_flight
         FROM (SELECT DISTINCT ON (dataset, (finished_at AT TIME ZONE 'UTC')::date, window_label) *, (finished_at AT TIME ZONE 'UTC')::date AS night
                 FROM dualrun.reconciliations
                WHERE dataset = ANY($1) AND finished_at >= ($2::date - $3::int + 1)::timestamp AT TIME ZONE 'UTC'
                  AND finished_at < ($2::date + 1)::timestamp AT TIME ZONE 'UTC'
                ORDER BY dataset, (finished_at AT TIME ZONE 'UTC')::date, window_label, finished_at DESC, id DESC) x
        GROUP BY dataset, night`, [names, date, nights]),
    readStages(db, names),
  ]);
  const nightDates = lastNights(date, nights);
  const datasets = names.map((name): DatasetNight => {
    const windows = latest.rows.filter((r) => r.dataset === name).map((r) => parseExactJson(r.result) as WindowResult)
      .sort((a, b) => String(a.window).localeCompare(String(b.window)));
    const history = nightDates.map((night): NightPoint => {
      const row = trend.rows.find((t) => t.dataset === name && t.night === night);
      if (!row) return { date: night, status: 'none', differences: 0, inFlight: 0, windows: 0 };
      return { date: night, status: worstStatus(row.verdicts), differences: Number(row.differences), inFlight: Number(row.in_flight), windows: row.verdicts.length };
    });
    return { dataset: name, stage: stages.get(name) ?? 'batch', status: windows.length ? worstStatus(windows.map((w) => w.verdict)) : 'none', windows, history };
  });
  const judged = datasets.filter((d) => d.status !== 'none').map((d) => d.status as WindowStatus);
  return { date, generatedAt: new Date().toISOString(), status: judged.length ? worstStatus(judged) : 'none', nights, datasets };
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
