import type { Command } from 'commander';
import { migrate } from '../db/migrate.ts';
import { json, out, runCommand } from './command-runner.ts';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description("create or upgrade the toolkit's own schema `dualrun` (idempotent; safe when run concurrently)")
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nOther commands migrate on first use too; run this in deploy pipelines to do it up front.\n\nExample:\n  $ DATABASE_URL=postgres://etl@db:5432/dw dualrun migrate')
    .action(async (opts: { format: string }, cmd: Command) => {
      await runCommand(cmd, async (rt) => {
        const result = await migrate(await rt.pool(null));
        if (opts.format === 'json') json({ applied: result.applied.map((m) => ({ version: m.version, name: m.name })), current: result.current });
        else out(result.applied.length === 0
          ? `schema dualrun is up to date (version ${result.current})`
          : `applied ${result.applied.map((m) => `${m.version} ${m.name}`).join(', ')}; schema dualrun at version ${result.current}`);
      }, { configOptional: true, autoMigrate: false });
    });
}
