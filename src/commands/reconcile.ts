import type { Command } from 'commander';
import { runCommand } from './command-runner.ts';
import { notYet } from './not-yet.ts';

export function registerReconcile(program: Command): void {
  program
    .command('reconcile <dataset>')
    .description('compare batch and stream outputs per window: counts, in-database checksums, exact differing keys and columns')
    .option('--window <date>', 'one window')
    .option('--from <date>', 'first window (inclusive)')
    .option('--to <date>', 'last window (inclusive)')
    .option('--format <format>', 'text|json|md', 'text')
    .option('--samples <n>', 'differences to list per window', '20')
    .option('--assume-settled', 'judge windows dualrun cannot prove settled instead of answering pending')
    .addHelpText('after', '\nExit codes: 0 match, 1 mismatch, 3 failure, 4 pending (not settled yet).\n\nExample:\n  $ dualrun reconcile orders --window 2026-11-20 --format json')
    .action(async (_dataset: string, _opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('reconcile')));
}
