/**
 * The nightly report as one self-contained HTML page: inline CSS, an inline SVG
 * trend chart per dataset, drill-down samples in collapsible sections. No
 * scripts, fonts or URLs to fetch, so it can be mailed or archived as is.
 */
import type { DatasetNight, NightlyReport, NightPoint, NightStatus } from './nightly-report-data.ts';
import { failingDifferences } from './nightly-report-data.ts';
import { driftLines } from './schema-drift-text.ts';
import { sampleRows } from './sample-rows.ts';
import type { WindowResult } from './types.ts';

const COLOR: Record<NightStatus, string> = { match: '#2e7d32', mismatch: '#c62828', pending: '#f9a825', error: '#6a1b9a', none: '#bdbdbd' };

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `body{font:14px/1.4 system-ui,sans-serif;margin:2rem;color:#212121}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .5rem;text-align:left;vertical-align:top}
td.n{text-align:right}.badge{color:#fff;padding:.1rem .45rem;border-radius:.3rem;font-weight:600}
${Object.entries(COLOR).map(([s, c]) => `.s-${s}{background:${c}}`).join('')}
code{font-size:.9em}details{margin:.4rem 0}.legend span{margin-right:1rem}`;

function badge(status: NightStatus): string {
  return `<span class="badge s-${status}">${escapeHtml(status)}</span>`;
}

/** One bar per night: colour = verdict, height = log-scaled number of differences. */
export function trendSvg(history: NightPoint[]): string {
  const w = 14, gap = 3, h = 40;
  const max = Math.max(1, ...history.map((p) => p.differences));
  const bars = history.map((p, i) => {
    const bh = p.status === 'none' ? 3 : Math.max(6, Math.round((h - 6) * (Math.log1p(p.differences) / Math.log1p(max))) + 6);
    return `<rect x="${i * (w + gap)}" y="${h - bh}" width="${w}" height="${bh}" fill="${COLOR[p.status]}"><title>${escapeHtml(`${p.date}: ${p.status}, ${p.differences} differences, ${p.windows} windows`)}</title></rect>`;
  });
  const width = history.length * (w + gap);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="trend" width="${width}" height="${h}" viewBox="0 0 ${width} ${h}" role="img" aria-label="last ${history.length} nights">${bars.join('')}</svg>`;
}

function windowRow(w: WindowResult): string {
  const d = w.diff;
  const n = (v: number | undefined | null) => `<td class="n">${v ?? '-'}</td>`;
  return `<tr><td>${escapeHtml(w.window ?? '(whole table)')}</td><td>${badge(w.verdict)}</td>${n(w.batch?.rows)}${n(w.stream?.rows)}${n(d?.missingInStream)}${n(d?.missingInBatch)}${n(d?.changed)}${n(d?.duplicateKeys)}${n(d?.inFlight)}<td>${escapeHtml([w.pendingReason ?? w.error?.message ?? '', ...driftLines(w)].filter(Boolean).join('; '))}</td></tr>`;
}

function samplesHtml(w: WindowResult): string {
  const rows = sampleRows(w);
  if (rows.length === 0) return '';
  const body = rows.map((s) => `<tr><td><code>${escapeHtml(s.key)}</code></td><td>${escapeHtml(s.kind)}</td><td>${escapeHtml(s.detail)}</td></tr>`).join('');
  return `<details class="samples"><summary>${escapeHtml(w.window ?? '(whole table)')}: ${rows.length} sample differences</summary><table><tr><th>key</th><th>kind</th><th>detail</th></tr>${body}</table></details>`;
}

function datasetSection(d: DatasetNight): string {
  const windows = d.windows.length === 0
    ? '<p>No reconciliation finished this night.</p>'
    : `<table><tr><th>window</th><th>verdict</th><th>batch rows</th><th>stream rows</th><th>missing in stream</th><th>missing in batch</th><th>changed</th><th>duplicate keys</th><th>in flight</th><th>note</th></tr>${d.windows.map(windowRow).join('')}</table>${d.windows.map(samplesHtml).join('')}`;
  return `<section class="dataset" id="dataset-${escapeHtml(d.dataset)}" data-dataset="${escapeHtml(d.dataset)}" data-status="${d.status}">
<h2>${escapeHtml(d.dataset)} ${badge(d.status)} <small>stage ${escapeHtml(d.stage)}</small></h2>
${trendSvg(d.history)}
${windows}
</section>`;
}

export function htmlReport(r: NightlyReport): string {
  const summary = r.datasets.map((d) => {
    const diffs = d.windows.reduce((n, w) => n + failingDifferences(w), 0);
    return `<tr><td><a href="#dataset-${escapeHtml(d.dataset)}">${escapeHtml(d.dataset)}</a></td><td>${escapeHtml(d.stage)}</td><td>${badge(d.status)}</td><td class="n">${d.windows.length}</td><td class="n">${diffs}</td><td>${trendSvg(d.history)}</td></tr>`;
  }).join('');
  const legend = Object.keys(COLOR).map((s) => `<span>${badge(s as NightStatus)}</span>`).join('');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>dualrun nightly report ${escapeHtml(r.date)}</title><style>${CSS}</style></head>
<body data-status="${r.status}">
<h1>dualrun nightly report: ${escapeHtml(r.date)} ${badge(r.status)}</h1>
<p>Generated ${escapeHtml(r.generatedAt)}. Trend: the last ${r.nights} nights, one bar per night.</p>
<p class="legend">${legend}</p>
<table id="summary"><tr><th>dataset</th><th>stage</th><th>status</th><th>windows</th><th>differences</th><th>last ${r.nights} nights</th></tr>${summary}</table>
${r.datasets.map(datasetSection).join('\n')}
</body></html>
`;
}
