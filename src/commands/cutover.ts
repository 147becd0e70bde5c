import type { Command } from 'commander';
import { runCommand } from './command-runner.ts';
import { notYet } from './not-yet.ts';

export function registerCutover(program: Command): void {
  const cutover = program.command('cutover').description('per-dataset stages batch → shadow → streaming → streaming-only, gated, audited, reversible');
  cutover.command('status').description('stage, serving table and gate progress of every dataset').option('--format <format>', 'text|json', 'text')
    .action(async (_opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('cutover status')));
  cutover.command('promote <dataset>').description('move one stage forward if the evidence gate holds')
    .requiredOption('--reason <text>', 'why (recorded in the audit)')
    .option('--actor <name>', 'who (default: $USER)')
    .option('--force', 'bypass the gate (recorded as forced)')
    .option('--format <format>', 'text|json', 'text')
    .action(async (_d: string, _opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('cutover promote')));
  cutover.command('rollback <dataset>').description('move back to an earlier stage (default: the previous one); always allowed')
    .option('--to <stage>', 'target stage')
    .requiredOption('--reason <text>', 'why (recorded in the audit)')
    .option('--actor <name>', 'who (default: $USER)')
    .option('--format <format>', 'text|json', 'text')
    .action(async (_d: string, _opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('cutover rollback')));
  cutover.command('history <dataset>').description('the audit trail of a dataset').option('--format <format>', 'text|json', 'text')
    .action(async (_d: string, _opts: unknown, cmd: Command) => runCommand(cmd, async () => notYet('cutover history')));
}
