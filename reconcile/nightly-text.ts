/** Sentences of the nightly report shared by the Markdown and HTML renderings, so both say the same. */
import type { DatasetNight } from './nightly-report-data.ts';
import type { StageEvent } from './nightly-events.ts';
import type { NightVerdict } from './nightly-verdicts.ts';
import { LAG_CAP } from './nightly-stream.ts';
import { driftLines } from './schema-drift-text.ts';

/** How many samples a report shows per verdict (the stored result keeps them all). */
export const REPORT_SAMPLES = 20;

/** `2026-12-01 06:01:52Z`: an ISO instant shortened for tables. */
export function utcText(iso: string | null): string {
  return iso ? `${iso.slice(0, 10)} ${iso.slice(11, 19)}Z` : '-';
}

export function ageText(seconds: number | null): string {
  if (seconds === null) return 'unknown';
  if (seconds < 60) return `${seconds}s`;
  const m = Math.floor(seconds / 60), h = Math.floor(m / 60), d = Math.floor(h / 24);
  if (d > 0) return `${d}d ${h % 24}h`;
  if (h > 0) return `${h}h ${m % 60}m`;
  return `${m}m`;
}

export function streakText(d: DatasetNight): string {
  const g = d.gate;
  if (!g.next) return 'last stage (streaming-only)';
  if (g.rule === 'none') return `${d.stage} → ${g.next}: no evidence needed`;
  return `${d.stage} → ${g.next}: clean streak ${Math.min(g.clean, g.required)} of ${g.required} (${g.rule})`;
}

export function eligibleText(d: DatasetNight): string {
  const g = d.gate;
  if (!g.next) return 'nothing to promote to';
  return g.eligible ? 'eligible now' : `not eligible: ${g.missing.join('; ')}`;
}

export function earliestText(d: DatasetNight): string {
  const g = d.gate;
  if (!g.next) return '-';
  return g.earliestDate ? `${g.earliestDate} (${g.earliestNote})` : g.earliestNote;
}

export function eventWhat(e: StageEvent): string {
  if (e.kind === 'refused') return 'promotion REFUSED';
  if (e.kind === 'promote') return e.forced ? 'promotion FORCED (gate bypassed)' : 'promoted';
  if (e.kind === 'rollback') return 'rolled back';
  return e.kind;
}

/** What became of a verdict later that night. */
export function verdictFate(v: NightVerdict): string {
  if (v.healed) return `healed: superseded by #${v.supersededBy} (match)`;
  if (v.supersededBy) return `superseded by #${v.supersededBy}`;
  return 'standing';
}

export function verdictNote(v: NightVerdict): string {
  return [v.result.pendingReason ?? v.result.error?.message ?? '', ...driftLines(v.result)].filter(Boolean).join('; ');
}

export function deadLetterLine(d: DatasetNight): string {
  const x = d.deadLetters;
  return `${x.newInPeriod} new this night, ${x.open} open, ${x.retriedInPeriod} retried, ${x.discardedInPeriod} discarded`;
}

export function streamLine(d: DatasetNight): string {
  const s = d.stream;
  if (!s.watermark) return 'no stream watermark yet';
  const lag = s.lagRecords === null ? ', records behind: see dualrun_stream_lag_records' : `, ${s.lagRecords}${s.lagRecords >= LAG_CAP ? '+' : ''} changelog records behind`;
  return `watermark ${utcText(s.watermark)} (age ${ageText(s.watermarkAgeSeconds)}), last applied ${s.lastAppliedAt ? utcText(s.lastAppliedAt) : 'never'}${lag}`;
}
