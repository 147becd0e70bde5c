import type { Command } from 'commander';
import { runCommand } from './command-runner.ts';
import { notYet } from './not-yet.ts';

export function registerBatch(program: Command): void {
  const batch = program.command('batch').description('the legacy batch path: run managed window loads, adopt an external job\'s output');
  batch
    .command('run <dataset>')
    .description('run the managed batch query for a window (or a range, in order) and load batch.output atomically')
    .option('--window <date>', 'one window, e.g. 2026-11-20 (day grain) or 2026-11-20T13 (hour grain)')
    .option('--from <date>', 'first window of a backfill (inclusive)')
    .option('--to <date>', 'last window of a backfill (inclusive)')
    .option('--rerun', 'reload windows that already loaded successfully')
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nExamples:\n  $ dualrun batch run orders --window 2026-11-20\n  $ dualrun batch run orders --from 2026-11-01 --to 2026-11-20   # resumes, skips loaded windows')
    .action(async (_dataset: string, _opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('batch run')));
  batch
    .command('adopt <dataset>')
    .description('record that an external legacy job finished writing a window of batch.output')
    .requiredOption('--window <date>', 'the window the job finished')
    .option('--format <format>', 'text|json', 'text')
    .addHelpText('after', '\nExample (at the end of the legacy job):\n  $ dualrun batch adopt orders --window 2026-11-20')
    .action(async (_dataset: string, _opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('batch adopt')));
}
