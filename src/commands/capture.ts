import type { Command } from 'commander';
import { runCommand } from './command-runner.ts';
import { notYet } from './not-yet.ts';

export function registerCapture(program: Command): void {
  program
    .command('capture')
    .description('built-in change capture from Postgres source tables (stream.source.table) into the transport')
    .option('--dataset <name...>', 'only these datasets')
    .addHelpText('after', '\nExample:\n  $ dualrun capture --dataset orders')
    .action(async (_opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('capture')));
}
