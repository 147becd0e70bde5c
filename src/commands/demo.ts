import type { Command } from 'commander';
import { runCommand } from './command-runner.ts';
import { notYet } from './not-yet.ts';

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('the whole migration story on an embedded Postgres: batch, streaming, a caught defect, replay, promotion, rollback')
    .action(async (_opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('demo'), { configOptional: true }));
}
