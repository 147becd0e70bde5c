/** `dualrun reconcile --format text|md`: the results for people. */
import { formatTable } from '../src/core/format-table.ts';
import type { WindowResult } from './types.ts';
import { countsLine, sampleRows } from './sample-rows.ts';
import { driftLines } from './schema-drift-text.ts';

function title(r: WindowResult): string {
  return `${r.dataset} ${r.window ?? '(whole table)'}: ${r.verdict.toUpperCase()}`;
}

export function resultText(r: WindowResult): string {
  const lines = [title(r)];
  if (r.verdict === 'pending') lines.push(`  ${r.pendingReason ?? 'not settled yet'}`);
  if (r.verdict === 'error') lines.push(`  ${r.error?.code}: ${r.error?.message}`);
  for (const d of driftLines(r)) lines.push(`  ${d}`);
  if (r.batch && r.stream) {
    lines.push(formatTable(['', 'rows', 'checksum'], [['batch', r.batch.rows, r.batch.checksum], ['stream', r.stream.rows, r.stream.checksum]])
      .split('\n').map((l) => `  ${l}`).join('\n'));
    lines.push(`  ${countsLine(r)}`);
    const rows = sampleRows(r);
    if (rows.length > 0) {
      lines.push(formatTable(['key', 'kind', 'detail'], rows.map((s) => [s.key, s.kind, s.detail])).split('\n').map((l) => `  ${l}`).join('\n'));
    }
    if (r.columnNames) lines.push(`  ${columnNamesLine(r.columnNames)}`);
    lines.push(`  ${r.columns.length} columns compared, ${r.buckets?.mismatched ?? 0}/${r.buckets?.total ?? 0} buckets differed, ${r.durationMs} ms`);
  }
  return lines.join('\n');
}

/** e.g. `compared as: amount = batch (amount_cents / 100.0) vs stream amount; name = batch name vs stream full_name`. */
export function columnNamesLine(names: NonNullable<WindowResult['columnNames']>): string {
  return `compared as: ${Object.entries(names).map(([c, n]) => `${c} = batch ${n.batch} vs stream ${n.stream}`).join('; ')}`;
}

/** Table-cell safe Markdown: pipes escaped, no raw HTML, emphasis characters neutralised. */
export function mdEscape(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, ' ').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/([`*[\]])/g, '\\$1');
}

export function resultMarkdown(r: WindowResult): string {
  const lines = [`## ${mdEscape(title(r))}`, ''];
  if (r.verdict === 'pending') lines.push(mdEscape(r.pendingReason ?? 'not settled yet'), '');
  if (r.verdict === 'error') lines.push(`**${mdEscape(r.error?.code ?? '')}**: ${mdEscape(r.error?.message ?? '')}`, '');
  for (const d of driftLines(r)) lines.push(`- **${mdEscape(d)}**`);
  if (driftLines(r).length > 0) lines.push('');
  if (r.batch && r.stream) {
    lines.push('| side | rows | checksum |', '| --- | ---: | --- |', `| batch | ${r.batch.rows} | \`${r.batch.checksum}\` |`, `| stream | ${r.stream.rows} | \`${r.stream.checksum}\` |`, '');
    lines.push(mdEscape(countsLine(r)), '');
    if (r.columnNames) lines.push(mdEscape(columnNamesLine(r.columnNames)), '');
    const rows = sampleRows(r);
    if (rows.length > 0) {
      lines.push('| key | kind | detail |', '| --- | --- | --- |', ...rows.map((s) => `| ${mdEscape(s.key)} | ${mdEscape(s.kind)} | ${mdEscape(s.detail)} |`), '');
    }
  }
  return lines.join('\n');
}
