/** The nightly report as Markdown: status per dataset, a text trend, then each dataset's windows and samples. */
import type { NightlyReport, NightStatus } from './nightly-report-data.ts';
import { failingDifferences } from './nightly-report-data.ts';
import { mdEscape } from './result-text.ts';
import { sampleRows } from './sample-rows.ts';
import { driftLines } from './schema-drift-text.ts';

const MARK: Record<NightStatus, string> = { match: '✓', mismatch: '✗', pending: '…', error: '!', none: '·' };

export function markdownReport(r: NightlyReport): string {
  const out = [`# dualrun nightly report: ${r.date}`, '', `Overall: **${r.status.toUpperCase()}** (generated ${r.generatedAt})`, ''];
  out.push(`| dataset | stage | status | windows | differences | in flight | last ${r.nights} nights |`, '| --- | --- | --- | ---: | ---: | ---: | --- |');
  for (const d of r.datasets) {
    const diffs = d.windows.reduce((n, w) => n + failingDifferences(w), 0);
    const flight = d.windows.reduce((n, w) => n + (w.diff?.inFlight ?? 0), 0);
    out.push(`| ${mdEscape(d.dataset)} | ${d.stage} | ${d.status} | ${d.windows.length} | ${diffs} | ${flight} | ${d.history.map((h) => MARK[h.status]).join('')} |`);
  }
  out.push('', `Trend: ${Object.entries(MARK).map(([s, m]) => `${m} ${s}`).join(', ')}`, '');
  for (const d of r.datasets) {
    out.push(`## ${mdEscape(d.dataset)}: ${d.status}`, '');
    if (d.windows.length === 0) { out.push('No reconciliation finished this night.', ''); continue; }
    out.push('| window | verdict | batch rows | stream rows | missing in stream | missing in batch | changed | duplicate keys | in flight |', '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const w of d.windows) {
      const x = w.diff;
      out.push(`| ${w.window ?? '(whole table)'} | ${w.verdict} | ${w.batch?.rows ?? '-'} | ${w.stream?.rows ?? '-'} | ${x?.missingInStream ?? '-'} | ${x?.missingInBatch ?? '-'} | ${x?.changed ?? '-'} | ${x?.duplicateKeys ?? '-'} | ${x?.inFlight ?? '-'} |`);
    }
    out.push('');
    const samples = d.windows.flatMap((w) => sampleRows(w).map((s) => ({ window: w.window ?? '(whole table)', ...s })));
    if (samples.length > 0) {
      out.push('| window | key | kind | detail |', '| --- | --- | --- | --- |', ...samples.map((s) => `| ${s.window} | ${mdEscape(s.key)} | ${mdEscape(s.kind)} | ${mdEscape(s.detail)} |`), '');
    }
    for (const w of d.windows.filter((x) => x.pendingReason)) out.push(`- ${w.window ?? '(whole table)'} pending: ${mdEscape(w.pendingReason!)}`);
    for (const w of d.windows) for (const line of driftLines(w)) out.push(`- ${w.window ?? '(whole table)'} ${mdEscape(line)}`);
  }
  return `${out.join('\n').trimEnd()}\n`;
}
