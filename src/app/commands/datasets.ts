import type { Command } from 'commander';
import { datasetStatuses, type DatasetStatus } from '../dataset-status.ts';
import { formatTable } from '../../core/format-table.ts';
import { json, out, runCommand } from './command-runner.ts';
import { EXIT } from '../../core/errors.ts';

export function registerDatasets(program: Command): void {
  program
    .command('datasets')
    .description('each dataset: stage, last batch run, stream watermark and lag, last reconciliation verdict')
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nExample:\n  $ dualrun datasets --format json | jq \'.[] | select(.stage == "shadow")\'')
    .action(async (opts: { format: string }, cmd: Command) => {
      await runCommand(cmd, async (rt) => {
        const rows = await datasetStatuses(await rt.db(), rt.config, (url) => rt.pool(url));
        for (const r of rows) if (r.slot?.warning) rt.log.warn({ dataset: r.dataset, slot: r.slot.name, retainedBytes: r.slot.retainedBytes }, `${r.dataset}: ${r.slot.warning}`);
        // Every dataset is still listed; one whose stream database could not be read makes the status incomplete: exit 3.
        const unread = rows.filter((r) => r.stream.error);
        for (const r of unread) process.stderr.write(`dualrun: ${r.dataset}: stream side not read: ${r.stream.error}\n`);
        const code = unread.length > 0 ? EXIT.runtime : EXIT.ok;
        if (opts.format === 'json') { json(rows); return code; }
        if (rows.length === 0) return out(`no datasets in ${rt.config.path ?? 'config'}`);
        out(formatTable(
          ['DATASET', 'STAGE', 'LAST BATCH', 'STREAM WATERMARK', 'LAG', 'DEAD', 'LAST VERDICT'],
          rows.map((r) => [
            r.dataset,
            r.stage,
            r.lastBatchRun ? `${r.lastBatchRun.window ?? 'all'} ${r.lastBatchRun.status}${r.lastBatchRun.rows === null ? '' : ` (${r.lastBatchRun.rows} rows)`}` : null,
            r.stream.watermark,
            r.stream.lagSeconds === null ? null : `${Math.round(r.stream.lagSeconds)}s`,
            r.stream.deadLetters,
            r.lastVerdict ? `${r.lastVerdict.verdict} ${r.lastVerdict.window ?? 'all'}` : null,
          ]),
        ));
        // Below the table: a failed or waiting window must not hide behind a newer window's succeeded last run.
        for (const r of rows) if (r.openWindows.length > 0) out(`${r.dataset}: open batch windows: ${r.openWindows.map(openText).join(', ')}`);
        return code;
      });
    });
}

function openText(o: DatasetStatus['openWindows'][number]): string {
  if (o.state === 'due') return `${o.window} due (a fire has not recorded it yet)`;
  const n = `${o.attempts} ${o.state === 'waiting' ? 'check' : 'attempt'}${o.attempts === 1 ? '' : 's'}`;
  return `${o.window} ${o.state} (${n}${o.retried ? '' : ', not retried'})`;
}
