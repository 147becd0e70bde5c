/**
 * The `dualrun` command line. Each command lives in src/commands/<name>.ts and
 * registers itself here; results go to stdout, pino logs to stderr, exit codes
 * follow DESIGN (0 ok, 1 check failed, 2 usage/config, 3 runtime, 4 pending).
 */
import { Command, CommanderError } from 'commander';
import { EXIT } from './errors.ts';
import { registerInit } from './commands/init.ts';
import { registerMigrate } from './commands/migrate.ts';
import { registerDatasets } from './commands/datasets.ts';
import { registerBatch } from './commands/batch.ts';
import { registerStream } from './commands/stream.ts';
import { registerCapture } from './commands/capture.ts';
import { registerReconcile } from './commands/reconcile.ts';
import { registerReport } from './commands/report.ts';
import { registerCutover } from './commands/cutover.ts';
import { registerSchedule } from './commands/schedule.ts';
import { registerDemo } from './commands/demo.ts';
import { registerAdd } from './commands/add.ts';
import { registerDb } from './commands/db.ts';

export function buildProgram(): Command {
  const program = new Command('dualrun')
    .description(
      'Move datasets off a legacy batch ETL onto streaming, one dataset at a time:\n' +
        'run both paths side by side, reconcile their outputs in Postgres, and cut over\n' +
        'per dataset behind evidence-gated, audited, instantly reversible flags.',
    )
    .version('0.1.0')
    .option('-c, --config <path>', 'config file (default: $DUALRUN_CONFIG, then ./dualrun.yaml)')
    .option('--log-level <level>', 'pino log level on stderr: fatal|error|warn|info|debug|trace', process.env.DUALRUN_LOG_LEVEL ?? 'info')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) })
    .addHelpText(
      'after',
      `
Exit codes: 0 ok/match, 1 mismatch or gate refused, 2 usage or config error,
            3 runtime failure (database/broker unreachable, run failed), 4 nothing settled yet.

Quick start:
  $ dualrun demo                         the whole story on an embedded Postgres
  $ dualrun init && dualrun migrate      scaffold dualrun.yaml, create the toolkit schema
  $ dualrun datasets                     stage, last batch run, stream lag, last verdict`,
    );
  for (const register of [registerInit, registerMigrate, registerDatasets, registerBatch, registerStream, registerCapture, registerReconcile, registerReport, registerCutover, registerSchedule, registerDemo, registerAdd, registerDb]) {
    register(program);
  }
  program.commands.forEach(applyExitOverride);
  return program;
}

function applyExitOverride(cmd: Command): void {
  cmd.exitOverride();
  cmd.commands.forEach(applyExitOverride);
}

export async function main(argv: string[]): Promise<never> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      const ok = e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help';
      process.exit(ok ? EXIT.ok : EXIT.usage);
    }
    throw e;
  }
  // Exit explicitly: client libraries may keep timers alive, and the exit code must survive.
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
}
