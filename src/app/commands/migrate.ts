import type { Command } from 'commander';
import { EXIT } from '../../core/errors.ts';
import { migrate } from '../../core/db/migrate.ts';
import { ensureDatasetOutputs, type OutputsResult } from '../db/dataset-outputs.ts';
import { json, out, runCommand } from './command-runner.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description("create or upgrade the toolkit's own schema `dualrun` (idempotent; safe when run concurrently), and create missing dataset output tables")
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', [
      '',
      'Other commands migrate on first use too; run this in deploy pipelines to do it up front.',
      'A missing batch.output or stream.output is created in the shape of what fills it: the batch query\'s',
      'columns (without batch.transform), else stream.source.table, else the other output; the key is its',
      'primary key, and the stream output gets the sink\'s _dr_* columns. Existing tables are never altered:',
      'one lacking a column the config names is reported and migrate exits 2.',
      '',
      'Example:',
      '  $ DATABASE_URL=postgres://etl@db:5432/dw dualrun migrate',
    ].join('\n'))
    .action(async (opts: { format: string }, cmd: Command) => {
      await runCommand(cmd, async (rt) => {
        const result = await migrate(await rt.pool(null));
        if (opts.format !== 'json') {
          out(result.applied.length === 0
            ? `schema dualrun is up to date (version ${result.current})`
            : `applied ${result.applied.map((m) => `${m.version} ${m.name}`).join(', ')}; schema dualrun at version ${result.current}`);
        }
        const outputs = await ensureDatasetOutputs(rt);
        if (opts.format === 'json') json({ applied: result.applied.map((m) => ({ version: m.version, name: m.name })), current: result.current, ...outputs });
        else for (const line of outputLines(outputs)) out(line);
        for (const m of outputs.mismatches) {
          const what = m.whole ? m.differences.join('; ') : `${m.table} does not have what the config expects: ${m.differences.join('; ')} (dualrun never alters an existing table)`;
          process.stderr.write(`dualrun: DUALRUN_CONFIG_INVALID: ${m.at}: ${what}\n`);
        }
        return outputs.mismatches.length > 0 ? EXIT.usage : EXIT.ok;
      }, { configOptional: true, autoMigrate: false });
    });
}

export function outputLines(r: OutputsResult): string[] {
  return r.outputs.flatMap((o) => {
    if (o.action === 'created') return [`created ${o.side} output ${o.table} for ${o.dataset} (shape of ${o.from}): ${o.columns!.join(', ')}`];
    if (o.action === 'skipped') return [`${o.dataset}: ${o.side} output ${o.table} not created: ${o.reason}`];
    return [];
  });
}
