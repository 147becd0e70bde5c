/**
 * The `dualrun` command line. Each command lives in src/app/commands/<name>.ts and
 * registers itself; results go to stdout, pino logs to stderr, exit codes follow
 * DESIGN (0 ok, 1 check failed, 2 usage/config, 3 runtime, 4 pending).
 *
 * Startup stays fast because a command's module (and what it pulls in: pg,
 * kafkajs, ajv...) loads only when that command runs: the table below gives
 * each command's name and summary for `dualrun --help`, and a placeholder that
 * loads the real command and parses the same arguments again.
 */
import type { EventEmitter } from 'node:events';
import { Command, CommanderError, Option, type Help } from 'commander';
import { DualrunError, EXIT, toDualrunError } from '../core/errors.ts';
import { LOG_LEVELS } from '../core/log-levels.ts';
import { flushStdout } from '../core/stdout-flush.ts';

type Register = (program: Command) => void;

interface CommandEntry { term: string; description: string; load: () => Promise<Register> }

/** Every command: its term and summary as shown by `dualrun --help` (a test checks them against the modules). */
export const COMMANDS: readonly CommandEntry[] = [
  { term: 'init [options]', description: 'scaffold a commented dualrun.yaml with an example dataset (orders), its batch SQL, transform and record schema', load: async () => (await import('./commands/init.ts')).registerInit },
  { term: 'migrate', description: "create or upgrade the toolkit's own schema `dualrun` (idempotent; safe when run concurrently), and create missing dataset output tables", load: async () => (await import('./commands/migrate.ts')).registerMigrate },
  { term: 'datasets [options]', description: 'each dataset: stage, last batch run, stream watermark and lag, last reconciliation verdict', load: async () => (await import('./commands/datasets.ts')).registerDatasets },
  { term: 'batch', description: "the legacy batch path: run managed window loads, adopt an external job's output", load: async () => (await import('./commands/batch.ts')).registerBatch },
  { term: 'stream [options]', description: 'run the streaming worker: consume change events, validate, transform, upsert into stream.output exactly once', load: async () => (await import('./commands/stream.ts')).registerStream },
  { term: 'capture [options]', description: 'built-in change capture from Postgres source tables (stream.source.table) into the transport', load: async () => (await import('./commands/capture.ts')).registerCapture },
  { term: 'reconcile [options] <dataset>', description: 'compare batch and stream outputs per window: counts, in-database checksums, exact differing keys and columns', load: async () => (await import('./commands/reconcile.ts')).registerReconcile },
  { term: 'report [options]', description: 'the nightly report across datasets: status, trend over recent nights, drill-down samples', load: async () => (await import('./commands/report.ts')).registerReport },
  { term: 'cutover', description: 'per-dataset stages batch → shadow → streaming → streaming-only, gated, audited, reversible', load: async () => (await import('./commands/cutover.ts')).registerCutover },
  { term: 'schedule [options]', description: 'long-running node-cron scheduler: batch runs, reconciliations and the nightly report from config', load: async () => (await import('./commands/schedule.ts')).registerSchedule },
  { term: 'add [options] <dataset>', description: 'scaffold a dataset from a source table: dualrun.yaml entry, batch query, identity transform, record JSON Schema', load: async () => (await import('./commands/add.ts')).registerAdd },
  { term: 'db', description: 'reach the database dualrun uses (database.url, or the embedded Postgres)', load: async () => (await import('./commands/db.ts')).registerDb },
  { term: 'demo [options]', description: 'the whole migration story on an embedded Postgres: shadow run, a caught defect, replay, promotion, rollback', load: async () => (await import('./commands/demo.ts')).registerDemo },
  { term: 'dead-letters', description: 'records the streaming path could not apply: list, inspect, retry after a fix, or discard (audited)', load: async () => (await import('./commands/dead-letters.ts')).registerDeadLetters },
];

const nameOf = (e: CommandEntry) => e.term.split(' ')[0];
const loaded = new Map<string, Register>();

/** Loads a command's module (all of them with no name), so the next buildProgram() has the real command. */
export async function loadCommands(names: string[] = COMMANDS.map(nameOf)): Promise<void> {
  for (const e of COMMANDS) if (names.includes(nameOf(e)) && !loaded.has(nameOf(e))) loaded.set(nameOf(e), await e.load());
}

function baseProgram(): Command {
  return new Command('dualrun')
    .description(
      'Move datasets off a legacy batch ETL onto streaming, one dataset at a time:\n' +
        'run both paths side by side, reconcile their outputs in Postgres, and cut over\n' +
        'per dataset behind evidence-gated, audited, instantly reversible flags.',
    )
    .version('0.1.0')
    .option('-c, --config <path>', 'config file (default: $DUALRUN_CONFIG, then ./dualrun.yaml)')
    .addOption(new Option('--log-level <level>', 'pino log level on stderr (stack traces at debug)').choices(LOG_LEVELS).default(process.env.DUALRUN_LOG_LEVEL ?? 'info'))
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
}

/**
 * The program: commands whose module is loaded are real; the others are
 * placeholders that load theirs on use and parse the same arguments again.
 */
export function buildProgram(): Command {
  const program = baseProgram();
  const terms = new Map<Command, string>();
  for (const e of COMMANDS) {
    const register = loaded.get(nameOf(e));
    if (register) { register(program); continue; }
    const stub = program.command(nameOf(e)).description(e.description).helpOption(false).allowUnknownOption().allowExcessArguments(true).argument('[args...]')
      .action(async () => {
        await loadCommands([nameOf(e)]);
        await buildProgram().parseAsync((program as unknown as { rawArgs: string[] }).rawArgs);
      });
    terms.set(stub, e.term);
  }
  program.configureHelp({ subcommandTerm: (cmd) => terms.get(cmd) ?? defaultTerm(cmd) });
  refuseRepeatedOptions(program);
  program.commands.forEach(finishCommand);
  validateEnvLogLevel();
  return program;
}

function defaultTerm(cmd: Command): string {
  const args = cmd.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}${a.variadic ? '...' : ''}]`)).join(' ');
  return `${cmd.name()}${cmd.options.length ? ' [options]' : ''}${args ? ` ${args}` : ''}`;
}

/**
 * exitOverride everywhere (main maps usage errors to exit 2), and `--format`
 * checked against the values its help names (`text|json|md`): a wrong value is a
 * usage error listing the allowed ones, before anything runs.
 */
function finishCommand(cmd: Command): void {
  cmd.exitOverride();
  refuseRepeatedOptions(cmd);
  addExitCodesHelp(cmd);
  for (const opt of cmd.options) {
    if (opt.attributeName() !== 'format' || opt.argChoices) continue;
    const values = formatValues(opt.description);
    if (values.length >= 2) opt.choices(values);
  }
  cmd.commands.forEach(finishCommand);
}

/** What every command may exit with; a command that can also exit 1 or 4 says so in its own help. */
export const COMMON_EXIT_CODES = 'Exit codes: 0 ok, 2 usage or config error (also a table or column the config names that the database lacks),\n' +
  '3 runtime failure (database or broker unreachable, a query or run failed), 130/143 stopped by SIGINT/SIGTERM.';

/**
 * A command's help states its exit codes (only `dualrun --help` and four commands did): a command
 * whose own help text has no `Exit codes:` line gets the common one, above its examples.
 */
function addExitCodesHelp(cmd: Command): void {
  if (cmd.commands.length > 0 || cmd.name() === 'help') return;
  let own = '';
  const context = { error: false, command: cmd, write: (t: string) => { own += t; } };
  const events = cmd as unknown as EventEmitter;
  for (const listener of events.listeners('afterHelp')) (listener as (c: typeof context) => void)(context);
  if (!/Exit codes:/.test(own)) events.prependListener('afterHelp', (c: { write: (t: string) => void }) => c.write(`\n${COMMON_EXIT_CODES}\n`));
}

/**
 * A single-valued option given twice with different values is a usage error. commander
 * keeps the last silently: `reconcile orders --window 2026-11-01 --window 2026-11-02`
 * judged only 11-02, `--format json --format text` printed text to a script parsing JSON.
 * Variadic options (`--dataset a b`) collect, and a value repeated as is changes nothing.
 */
export function refuseRepeatedOptions(cmd: Command): void {
  for (const opt of cmd.options) {
    if (opt.variadic || !(opt.required || opt.optional)) continue;
    let seen: string | undefined;
    cmd.on(`option:${opt.name()}`, (value: string) => {
      if (seen !== undefined && seen !== value) {
        cmd.error(`error: option '${opt.flags}' given twice (${JSON.stringify(seen)}, then ${JSON.stringify(value)}): give it once`, { exitCode: EXIT.usage, code: 'dualrun.repeatedOption' });
      }
      seen = value;
    });
  }
}

/** The values a `--format` help text names: `text|json|md`, or `text (a story) | json (facts)`. */
export function formatValues(description: string): string[] {
  if (!description.includes('|')) return [];
  return description.match(/(?<=^|\||:\s|\|\s)[a-z]+(?=\s*(?:\||\(|$))/g) ?? [];
}

function validateEnvLogLevel(): void {
  const env = process.env.DUALRUN_LOG_LEVEL;
  if (env !== undefined && !(LOG_LEVELS as readonly string[]).includes(env)) {
    throw new CommanderError(EXIT.usage, 'dualrun.logLevel', `error: DUALRUN_LOG_LEVEL ${JSON.stringify(env)} is invalid. Allowed choices are ${LOG_LEVELS.join(', ')}.`);
  }
}

/** The command an argument list names (`help X` names X), skipping the global options. */
export function commandNameIn(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a === '-c' || a === '--config' || a === '--log-level') { i++; continue; }
    if (a.startsWith('-')) continue;
    return a === 'help' ? args[i + 1] : a;
  }
  return undefined;
}

/** Whether the arguments ask for `--format json` (`--format json` or `--format=json`). */
export function asksForJson(args: readonly string[]): boolean {
  return args.some((a, i) => a === '--format=json' || (a === '--format' && args[i + 1] === 'json'));
}

/**
 * What is wrong when commander shows help instead of running: the command group the
 * arguments reach, and the name after it (or after `help`) that is not one of its commands.
 */
export function missingCommandMessage(program: Command, args: readonly string[]): string {
  let cmd = program;
  const words = args.filter((a, i) => !a.startsWith('-') && !['-c', '--config', '--log-level'].includes(args[i - 1] ?? ''));
  for (let i = 0; i < words.length; i++) {
    const w = words[i] === 'help' ? words[i + 1] : words[i];
    if (w === undefined) break;
    const sub = cmd.commands.find((c) => c.name() === w || c.aliases().includes(w));
    const where = cmd === program ? 'dualrun' : `dualrun ${cmd.name()}`;
    if (!sub) return `unknown command '${w}' for ${where} (commands: ${cmd.commands.map((c) => c.name()).filter((n) => n !== 'help').join(', ')})`;
    cmd = sub;
    if (words[i] === 'help') i++;
  }
  const names = cmd.commands.map((c) => c.name()).filter((n) => n !== 'help');
  return `${cmd === program ? 'dualrun' : `dualrun ${cmd.name()}`} needs a command: ${names.join(', ')}`;
}

/** A write to stdout that failed for another reason than a reader going away (disk full, I/O error). */
let stdoutFailure: NodeJS.ErrnoException | null = null;

/**
 * Writes what is left on stdout (pipes drain asynchronously), then exits with the code.
 * Results that could not be written are a failure (exit 3), whatever the command found:
 * `dualrun datasets --format json > status.json` on a full disk exited 0 with an empty file.
 */
async function exit(code: number): Promise<never> {
  await flushStdout();
  if (stdoutFailure) {
    process.stderr.write(`dualrun: DUALRUN_OUTPUT_FAILED: the results could not be written to stdout: ${stdoutFailure.message}\n`);
    process.exit(EXIT.runtime);
  }
  process.exit(code);
}

/** The --log-level an argument list asks for, else DUALRUN_LOG_LEVEL, else info. */
function logLevelIn(args: readonly string[]): string {
  const i = args.findIndex((a) => a === '--log-level' || a.startsWith('--log-level='));
  const v = i < 0 ? undefined : args[i].includes('=') ? args[i].split('=')[1] : args[i + 1];
  return v ?? process.env.DUALRUN_LOG_LEVEL ?? 'info';
}

/**
 * An error nobody awaited (a forgotten promise in a user's transform, a library's stray
 * callback) would end Node with its own stack dump and exit 1, which the contract reserves
 * for "a check failed", and --format json would print nothing. It is a runtime failure:
 * one line (the stack at debug), JSON when asked, exit 3. The process still ends at once:
 * what it was doing is in an unknown state, and open transactions roll back.
 */
function exitOnUnhandled(args: readonly string[]): void {
  let failing = false;
  const fail = (e: unknown) => {
    // The first one is reported; more (e.g. one per row) while exiting add nothing.
    if (failing) return;
    failing = true;
    const err = new DualrunError('DUALRUN_INTERNAL', `unhandled error (in dualrun or in a user module such as a transform): ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    void import('./commands/command-runner.ts').then(({ reportError }) => exit(reportError(err, asksForJson(args), logLevelIn(args))), () => process.exit(EXIT.runtime));
  };
  process.on('uncaughtException', fail);
  process.on('unhandledRejection', fail);
}

export async function main(argv: string[]): Promise<never> {
  exitOnUnhandled(argv.slice(2));
  let program: Command | undefined;
  // A reader that goes away (`| head`) is not an error of ours, and it does not end the
  // command: the rest of stdout is dropped, the work (later windows, stored results,
  // alerts) finishes and the exit code is the command's own (1 for a mismatch).
  // Any other write error (ENOSPC, EIO) is remembered and fails the command at exit.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') stdoutFailure ??= e;
    process.stdout.destroy();
  });
  try {
    const name = commandNameIn(argv.slice(2));
    if (name) await loadCommands([name]);
    program = buildProgram();
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'dualrun.logLevel') process.stderr.write(`${e.message}\n`);
      // commander.help with a non-zero exit code is help shown *instead of* running:
      // no command given (`dualrun`, `dualrun cutover`), or `dualrun help nosuch`.
      const helpInstead = e.code === 'commander.help' && e.exitCode !== 0;
      const ok = !helpInstead && (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help');
      const message = helpInstead && program ? missingCommandMessage(program, argv.slice(2)) : e.message.replace(/^error: /, '');
      if (helpInstead) process.stderr.write(`error: ${message}\n`);
      // A script that asked for JSON parses stdout: a usage error is JSON there too, like every other error.
      if (!ok && asksForJson(argv.slice(2))) {
        const { json } = await import('./commands/command-runner.ts');
        json({ error: new DualrunError('DUALRUN_USAGE', message).toJSON() });
      }
      return exit(ok ? EXIT.ok : EXIT.usage);
    }
    // Outside a command's runner: still one line, the stack only at debug.
    const { reportError } = await import('./commands/command-runner.ts');
    return exit(reportError(toDualrunError(e), false));
  }
  // Exit explicitly: client libraries may keep timers alive, and the exit code must survive.
  return exit(typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok);
}
