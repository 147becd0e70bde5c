import type { Command } from 'commander';
import { runCommand } from './command-runner.ts';
import { notYet } from './not-yet.ts';

export function registerStream(program: Command): void {
  program
    .command('stream')
    .description('run the streaming worker: consume change events, validate, transform, upsert into stream.output exactly once')
    .option('--dataset <name...>', 'only these datasets (default: every dataset in shadow or later)')
    .option('--from-beginning', 'replay: reset positions and rebuild stream.output from the start')
    .option('--from-time <time>', 'replay from a point in time (ISO 8601)')
    .option('--until-idle', 'stop once caught up (for tests and backfills)')
    .addHelpText('after', '\nExamples:\n  $ dualrun stream                         # long-running worker\n  $ dualrun stream --dataset orders --until-idle')
    .action(async (_opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('stream')));
}
