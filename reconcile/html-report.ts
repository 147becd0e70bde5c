/**
 * The nightly report as one self-contained HTML page that reads the same in a
 * browser and in an email client: inline style attributes only (mail clients
 * drop <style> blocks), tables for layout, the trend as coloured table cells (no
 * SVG, which most mail clients do not render), no scripts, fonts, images or URLs.
 * Elements carry data-* attributes naming what they show, for tests and tooling.
 */
import type { DatasetNight, NightlyReport, NightPoint, NightStatus } from './nightly-report-data.ts';
import { failingDifferences } from './nightly-report-data.ts';
import type { StageEvent } from './nightly-events.ts';
import type { NightVerdict } from './nightly-verdicts.ts';
import {
  REPORT_SAMPLES, deadLetterLine, earliestText, eligibleText, eventWhat, streakText, streamLine, utcText, verdictFate, verdictNote,
} from './nightly-text.ts';
import { sampleRow } from './sample-rows.ts';

const COLOR: Record<NightStatus, string> = { match: '#2e7d32', mismatch: '#c62828', pending: '#f9a825', error: '#6a1b9a', none: '#bdbdbd' };

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}
const e = (v: unknown) => escapeHtml(v === null || v === undefined ? '' : String(v));

const S = {
  body: 'font-family:Arial,Helvetica,sans-serif;font-size:14px;line-height:1.4;color:#212121;margin:0;padding:16px;background:#ffffff',
  h1: 'font-size:20px;margin:0 0 8px 0',
  h2: 'font-size:17px;margin:28px 0 6px 0;padding-top:8px;border-top:2px solid #e0e0e0',
  h3: 'font-size:14px;margin:14px 0 4px 0',
  table: 'border-collapse:collapse;margin:4px 0 8px 0',
  th: 'border:1px solid #d0d0d0;padding:3px 6px;text-align:left;background:#f5f5f5;font-weight:bold',
  td: 'border:1px solid #d0d0d0;padding:3px 6px;text-align:left;vertical-align:top',
  num: 'border:1px solid #d0d0d0;padding:3px 6px;text-align:right;vertical-align:top',
  muted: 'color:#616161',
  code: 'font-family:Consolas,Menlo,monospace;font-size:13px',
};

function badge(status: string, label = status): string {
  const c = COLOR[status as NightStatus] ?? '#616161';
  return `<span class="badge" style="background:${c};color:#ffffff;padding:1px 6px;border-radius:4px;font-weight:bold">${e(label)}</span>`;
}
const th = (cells: string[]) => `<tr>${cells.map((c) => `<th style="${S.th}">${e(c)}</th>`).join('')}</tr>`;
const td = (html: string, style = S.td) => `<td style="${style}">${html}</td>`;
const num = (v: number | null | undefined) => td(v === null || v === undefined ? '-' : e(v), S.num);

/** One cell per night: colour = standing verdict; the day of month under it; details in the title. */
export function trendCells(history: NightPoint[]): string {
  const title = (p: NightPoint) => `${p.date}: ${p.status}, ${p.windows} windows, ${p.differences} differences${p.healed ? `, ${p.healed} healed` : ''}`;
  const bars = history.map((p) => `<td class="night" data-night="${e(p.date)}" data-status="${p.status}" title="${e(title(p))}" style="width:14px;height:22px;padding:0;border:1px solid #ffffff;background:${COLOR[p.status]}">${p.healed ? '<span style="color:#ffffff;font-size:10px">&#8635;</span>' : '&nbsp;'}</td>`).join('');
  const days = history.map((p) => `<td style="padding:0;font-size:9px;color:#757575;text-align:center">${e(p.date.slice(8))}</td>`).join('');
  return `<table class="trend" role="img" aria-label="last ${history.length} nights" style="border-collapse:collapse"><tr>${bars}</tr><tr>${days}</tr></table>`;
}

function summaryRow(d: DatasetNight): string {
  const diffs = d.windows.reduce((n, w) => n + failingDifferences(w), 0);
  return `<tr data-dataset="${e(d.dataset)}">${td(`<a href="#dataset-${e(d.dataset)}" style="color:#1565c0">${e(d.dataset)}</a>`)}${td(e(d.stage))}${td(badge(d.status))}`
    + `${num(d.verdicts.length)}${num(d.healed)}${num(diffs)}${td(e(d.gate.next ? `${Math.min(d.gate.clean, d.gate.required)}/${d.gate.required}${d.gate.eligible ? ' eligible' : ''}` : '-'))}`
    + `${td(e(d.gate.earliestDate ?? '-'))}${num(d.deadLetters.newInPeriod)}${td(trendCells(d.history))}</tr>`;
}

function gateTable(d: DatasetNight): string {
  const rows: [string, string][] = [['next step', streakText(d)], ['eligible', eligibleText(d)], ['earliest promotion', earliestText(d)]];
  return `<table class="gate" data-eligible="${d.gate.eligible}" style="${S.table}">${rows.map(([k, v]) => `<tr>${td(`<b>${e(k)}</b>`)}${td(e(v))}</tr>`).join('')}</table>`;
}

function verdictRow(v: NightVerdict): string {
  const w = v.result, x = w.diff;
  const fate = v.healed ? badge('match', 'healed') : v.supersededBy ? `<span style="${S.muted}">superseded</span>` : 'standing';
  const style = v.supersededBy ? `${S.td};color:#616161` : S.td;
  return `<tr class="verdict" data-verdict-id="${e(v.id)}" data-window="${e(v.window ?? '')}" data-verdict="${e(v.verdict)}" data-healed="${v.healed}" data-superseded="${v.supersededBy !== null}">`
    + `${td(e(v.finishedAt.slice(11, 19)), style)}${td(`#${e(v.id)}`, style)}${td(e(v.window ?? '(whole table)'), `${style};white-space:nowrap`)}${td(badge(v.verdict))}${td(fate)}${td(e(v.stage ?? ''), style)}`
    + `${num(w.batch?.rows)}${num(w.stream?.rows)}${num(x?.missingInStream)}${num(x?.missingInBatch)}${num(x?.changed)}${num(x?.duplicateKeys)}${num(x?.inFlight)}`
    + `${td(e([verdictFate(v) === 'standing' ? '' : verdictFate(v), verdictNote(v)].filter(Boolean).join('; ')), style)}</tr>`;
}

function samplesTable(v: NightVerdict): string {
  const all = [...(v.result.diff?.samples ?? []), ...(v.result.diff?.inFlightSamples ?? [])];
  if (all.length === 0) return '';
  const shown = all.slice(0, REPORT_SAMPLES).map(sampleRow);
  const more = all.length > shown.length ? ` (first ${shown.length} of ${all.length} stored; dualrun reconcile shows all)` : '';
  const caption = `#${v.id} ${v.window ?? '(whole table)'} ${v.verdict}${v.healed ? ', healed' : ''}: sample differences${more}`;
  return `<table class="samples" data-verdict-id="${e(v.id)}" data-healed="${v.healed}" style="${S.table}"><caption style="text-align:left;font-weight:bold;padding:2px 0">${e(caption)}</caption>`
    + `${th(['key', 'kind', 'detail'])}${shown.map((s) => `<tr>${td(`<span style="${S.code}">${e(s.key)}</span>`)}${td(e(s.kind))}${td(e(s.detail))}</tr>`).join('')}</table>`;
}

function eventRow(ev: StageEvent): string {
  const what = ev.kind === 'refused' || ev.forced ? `<b style="color:#c62828">${e(eventWhat(ev))}</b>` : e(eventWhat(ev));
  return `<tr class="event" data-kind="${e(ev.kind)}" data-forced="${ev.forced}">${td(e(utcText(ev.at)), `${S.td};white-space:nowrap`)}${td(what)}${td(e(`${ev.from} → ${ev.to}`), `${S.td};white-space:nowrap`)}${td(e(ev.actor))}${td(e(ev.reason))}${td(e(ev.missing.join('; ')))}</tr>`;
}

function streamPart(d: DatasetNight): string {
  const reasons = d.deadLetters.topReasons.length === 0 ? '' : `<table class="dead-letter-reasons" style="${S.table}">${th(['stage', 'reason', 'count'])}`
    + `${d.deadLetters.topReasons.map((r) => `<tr>${td(e(r.stage))}${td(e(r.reason))}${num(r.count)}</tr>`).join('')}</table>`;
  return `<h3 style="${S.h3}">Streaming</h3><p class="dead-letters" data-new="${d.deadLetters.newInPeriod}" data-open="${d.deadLetters.open}" style="margin:2px 0">Dead letters: ${e(deadLetterLine(d))}</p>${reasons}`
    + `<p class="stream" data-watermark-age="${d.stream.watermarkAgeSeconds ?? ''}" style="margin:2px 0">Stream: ${e(streamLine(d))}</p>`;
}

function datasetSection(d: DatasetNight): string {
  const verdicts = d.verdicts.length === 0
    ? `<p style="${S.muted}">No reconciliation finished this night.</p>`
    : `<table class="verdicts" style="${S.table}">${th(['finished (UTC)', 'id', 'window', 'verdict', 'fate', 'stage', 'batch rows', 'stream rows', 'missing in stream', 'missing in batch', 'changed', 'duplicate keys', 'in flight', 'note'])}${d.verdicts.map(verdictRow).join('')}</table>`
      + d.verdicts.map(samplesTable).join('');
  const events = d.events.length === 0 ? `<p style="${S.muted}">No stage changes or refused promotions this night.</p>`
    : `<table class="events" style="${S.table}">${th(['at', 'what', 'stage', 'actor', 'reason', 'gate said'])}${d.events.map(eventRow).join('')}</table>`;
  return `<section class="dataset" id="dataset-${e(d.dataset)}" data-dataset="${e(d.dataset)}" data-status="${d.status}">
<h2 style="${S.h2}">${e(d.dataset)} ${badge(d.status)} <span style="font-size:13px;font-weight:normal;${S.muted}">stage ${e(d.stage)}</span></h2>
${gateTable(d)}
<h3 style="${S.h3}">Verdicts of the night (${d.verdicts.length}${d.healed ? `, ${d.healed} healed` : ''})</h3>
${verdicts}
<h3 style="${S.h3}">Stage changes and refusals</h3>
${events}
${streamPart(d)}
<h3 style="${S.h3}">Last ${d.history.length} nights</h3>
${trendCells(d.history)}
</section>`;
}

export function htmlReport(r: NightlyReport): string {
  const legend = (Object.keys(COLOR) as NightStatus[]).map((s) => badge(s)).join(' ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>dualrun nightly report ${e(r.date)}</title></head>
<body data-status="${r.status}" style="${S.body}">
<h1 style="${S.h1}">dualrun nightly report: ${e(r.date)} ${badge(r.status)}</h1>
<p style="margin:2px 0;${S.muted}">Reconciliations and changes from ${e(utcText(r.period.from))} to ${e(utcText(r.period.to))}; gates and stream state as of ${e(utcText(r.generatedAt))}.</p>
<p style="margin:2px 0 8px 0">${legend} <span style="${S.muted}">&#8635; = a mismatch healed that night</span></p>
<table id="summary" style="${S.table}">${th(['dataset', 'stage', 'tonight', 'verdicts', 'healed', 'differences', 'gate', 'earliest promotion', 'dead letters', `last ${r.nights} nights`])}${r.datasets.map(summaryRow).join('')}</table>
${r.datasets.map(datasetSection).join('\n')}
</body></html>
`;
}
