/**
 * The nightly report as Markdown, with the same facts as the HTML and JSON: a
 * summary per dataset, then per dataset its gate, every verdict of the night
 * (superseded and healed ones marked, with their samples), stage changes and
 * refusals, dead letters and stream state, and the trend.
 */
import type { DatasetNight, NightlyReport, NightStatus } from './nightly-report-data.ts';
import { failingDifferences } from './nightly-report-data.ts';
import type { NightVerdict } from './nightly-verdicts.ts';
import {
  REPORT_SAMPLES, deadLetterLine, earliestText, eligibleText, eventWhat, streakText, streamLine, utcText, verdictFate, verdictNote,
} from './nightly-text.ts';
import { mdEscape } from './result-text.ts';
import { sampleRow } from './sample-rows.ts';

const MARK: Record<NightStatus, string> = { match: '✓', mismatch: '✗', pending: '…', error: '!', none: '·' };
const cell = (v: unknown) => mdEscape(v === null || v === undefined ? '-' : String(v));

export function markdownReport(r: NightlyReport): string {
  const out = [`# dualrun nightly report: ${r.date}`, '', `Overall: **${r.status.toUpperCase()}**. Reconciliations and changes from ${utcText(r.period.from)} to ${utcText(r.period.to)}; gates and stream state as of ${utcText(r.generatedAt)}.`, ''];
  out.push(`| dataset | stage | status | verdicts | healed | differences | in flight | gate | earliest promotion | dead letters | last ${r.nights} nights |`,
    '| --- | --- | --- | ---: | ---: | ---: | ---: | --- | --- | ---: | --- |');
  for (const d of r.datasets) {
    const diffs = d.windows.reduce((n, w) => n + failingDifferences(w), 0);
    const flight = d.windows.reduce((n, w) => n + (w.diff?.inFlight ?? 0), 0);
    const gate = d.gate.next ? `${Math.min(d.gate.clean, d.gate.required)}/${d.gate.required}${d.gate.eligible ? ' eligible' : ''}` : '-';
    out.push(`| ${mdEscape(d.dataset)} | ${d.stage} | ${d.status} | ${d.verdicts.length} | ${d.healed} | ${diffs} | ${flight} | ${gate} | ${d.gate.earliestDate ?? '-'} | ${d.deadLetters.newInPeriod} | ${d.history.map((h) => (h.healed ? '↻' : MARK[h.status])).join('')} |`);
  }
  out.push('', `Trend: ${Object.entries(MARK).map(([s, m]) => `${m} ${s}`).join(', ')}, ↻ a mismatch healed that night`, '');
  for (const d of r.datasets) out.push(...datasetPart(d));
  return `${out.join('\n').trimEnd()}\n`;
}

function datasetPart(d: DatasetNight): string[] {
  const out = [`## ${mdEscape(d.dataset)}: ${d.status} (stage ${d.stage})`, ''];
  out.push(`- Gate: ${mdEscape(streakText(d))}`, `- ${mdEscape(eligibleText(d)).replace(/^./, (c) => c.toUpperCase())}`, `- Earliest promotion: ${mdEscape(earliestText(d))}`, '');
  out.push(`### Verdicts of the night (${d.verdicts.length}${d.healed ? `, ${d.healed} healed` : ''})`, '');
  if (d.verdicts.length === 0) out.push('No reconciliation finished this night.', '');
  else {
    out.push('| finished (UTC) | id | window | verdict | fate | stage | batch rows | stream rows | missing in stream | missing in batch | changed | duplicate keys | in flight | note |',
      '| --- | --- | --- | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const v of d.verdicts) out.push(verdictLine(v));
    out.push('');
    for (const v of d.verdicts) out.push(...samplesPart(v));
  }
  out.push('### Stage changes and refusals', '');
  if (d.events.length === 0) out.push('No stage changes or refused promotions this night.', '');
  else {
    out.push('| at | what | stage | actor | reason | gate said |', '| --- | --- | --- | --- | --- | --- |');
    for (const ev of d.events) out.push(`| ${utcText(ev.at)} | ${cell(eventWhat(ev))} | ${cell(`${ev.from} → ${ev.to}`)} | ${cell(ev.actor)} | ${cell(ev.reason)} | ${cell(ev.missing.join('; ') || '-')} |`);
    out.push('');
  }
  out.push('### Streaming', '', `- Dead letters: ${mdEscape(deadLetterLine(d))}`);
  for (const t of d.deadLetters.topReasons) out.push(`  - ${t.count} × ${t.stage}: ${mdEscape(t.reason)}`);
  out.push(`- Stream: ${mdEscape(streamLine(d))}`, '');
  return out;
}

function verdictLine(v: NightVerdict): string {
  const w = v.result, x = w.diff;
  const fate = v.healed ? '**healed**' : v.supersededBy ? 'superseded' : 'standing';
  const note = [verdictFate(v) === 'standing' ? '' : verdictFate(v), verdictNote(v)].filter(Boolean).join('; ');
  return `| ${v.finishedAt.slice(11, 19)} | #${v.id} | ${cell(v.window ?? '(whole table)')} | ${v.verdict} | ${fate} | ${cell(v.stage)} | ${cell(w.batch?.rows)} | ${cell(w.stream?.rows)} | ${cell(x?.missingInStream)} | ${cell(x?.missingInBatch)} | ${cell(x?.changed)} | ${cell(x?.duplicateKeys)} | ${cell(x?.inFlight)} | ${cell(note || '-')} |`;
}

function samplesPart(v: NightVerdict): string[] {
  const all = [...(v.result.diff?.samples ?? []), ...(v.result.diff?.inFlightSamples ?? [])];
  if (all.length === 0) return [];
  const shown = all.slice(0, REPORT_SAMPLES).map(sampleRow);
  const more = all.length > shown.length ? ` (first ${shown.length} of ${all.length} stored; dualrun reconcile shows all)` : '';
  return [`Samples of #${v.id} ${mdEscape(v.window ?? '(whole table)')} ${v.verdict}${v.healed ? ', healed' : ''}${more}:`, '',
    '| key | kind | detail |', '| --- | --- | --- |', ...shown.map((s) => `| ${mdEscape(s.key)} | ${mdEscape(s.kind)} | ${mdEscape(s.detail)} |`), ''];
}
