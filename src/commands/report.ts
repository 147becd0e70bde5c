import type { Command } from 'commander';
import { runCommand } from './command-runner.ts';
import { notYet } from './not-yet.ts';

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('the nightly report across datasets: status, trend over recent nights, drill-down samples')
    .option('--date <date>', 'the night to report (default: today)')
    .option('--format <format>', 'md|html|json', 'md')
    .option('--out <file>', 'write to a file instead of stdout')
    .addHelpText('after', '\nExample:\n  $ dualrun report --format html --out reports/nightly.html')
    .action(async (_opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('report')));
}
