import type { Command } from 'commander';
import { runCommand } from './command-runner.ts';
import { notYet } from './not-yet.ts';

export function registerSchedule(program: Command): void {
  program
    .command('schedule')
    .description('long-running node-cron scheduler: batch runs, reconciliations and the nightly report from config')
    .addHelpText('after', '\nSeveral schedulers may run at once; Postgres advisory locks run each job once.\n\nExample:\n  $ dualrun schedule')
    .action(async (_opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('schedule')));
}
