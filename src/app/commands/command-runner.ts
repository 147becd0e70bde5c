/**
 * The one place a CLI action becomes a process outcome: load and compile the
 * config, open a runtime, run, map errors to the registry's exit codes, release
 * Postgres (embedded included), and leave the exit code in process.exitCode.
 *
 * Signals: the first SIGINT/SIGTERM aborts rt.signal (work stops at its next safe
 * point); whatever is still running 4 s later is cut short (connections closed,
 * so open transactions roll back), so any command is gone within 5 s (`schedule`
 * extends it by its --grace, allowStopWithin). A second
 * signal exits at once. A command interrupted this way exits non-zero (130 for
 * SIGINT, 143 for SIGTERM) unless it is a long-running worker whose normal stop
 * is a signal (stream, capture, schedule), which decides its own code
 * (`interruptedExitCode(rt.signal)` / `interruptedBy()` tell it what happened).
 */
import type { Command } from 'commander';
import { DualrunError, EXIT, toDualrunError, type ExitCode } from '../../core/errors.ts';
import { createLogger, showsStacks, type Logger } from '../../core/logger.ts';
import { loadConfig } from '../../core/config/load-config.ts';
import { compileConfig } from '../../core/config/compile-config.ts';
import { createRuntime, type Runtime } from '../../core/runtime.ts';
import { scrubSecrets } from '../../core/secrets.ts';
import { stringifyExact } from '../../core/exact-json.ts';
import { barOnScreen, lineAboveBar } from '../../core/terminal.ts';
import { flushStdout } from '../../core/stdout-flush.ts';
import { takeEarlySignal } from '../../core/early-signals.ts';

export { flushStdout };

export interface GlobalOptions { config?: string; logLevel?: string; format?: string }

export interface RunOptions {
  /** Without a config file, run on the built-in empty config (embedded Postgres, no datasets). */
  configOptional?: boolean;
  /** Never read a config file (the demo brings its own). */
  ignoreConfig?: boolean;
  autoMigrate?: boolean;
}

/** Commands whose normal way to stop is a signal: they choose their own exit code. */
const WORKERS = new Set(['stream', 'capture', 'schedule']);
const STOP_DEADLINE_MS = 4_000;
const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143 };

let received: NodeJS.Signals | null = null;
let stopDeadlineMs = STOP_DEADLINE_MS;
let deadline: { at: number; timer: NodeJS.Timeout; cut: () => void } | null = null;

/**
 * A command whose stop may rightly take longer than the 4 s deadline (`schedule
 * --grace`: running jobs get the grace, then are cancelled and recorded) says so
 * here. It was cut short at 4 s whatever the grace: exit 143, the load rolled back
 * and the fire left without an outcome. Never shortens the deadline.
 */
export function allowStopWithin(ms: number): void {
  stopDeadlineMs = Math.max(STOP_DEADLINE_MS, ms);
  if (!deadline) return;
  clearTimeout(deadline.timer);
  deadline.timer = setTimeout(deadline.cut, Math.max(0, deadline.at + stopDeadlineMs - Date.now()));
  deadline.timer.unref();
}

/** The signal that interrupted this command, if any. */
export function interruptedBy(): NodeJS.Signals | null {
  return received;
}

/** The exit code for work cut short by the signal received (130 SIGINT, 143 SIGTERM). */
function signalExitCode(): number {
  return SIGNAL_EXIT[received ?? 'SIGTERM'] ?? 143;
}

/** Writes a result line (or block) to stdout (above a progress bar on a shared terminal). */
export function out(text: string): void {
  // The reader went away (EPIPE, see main): nothing more to say to it.
  if (process.stdout.destroyed) return;
  const line = text.endsWith('\n') ? text : `${text}\n`;
  if (barOnScreen()) lineAboveBar(line);
  else process.stdout.write(line);
}

let printedJson = false;

/** A result as JSON; 64-bit integers and long decimals stay exact. */
export function json(value: unknown): void {
  printedJson = true;
  out(stringifyExact(value, 2));
}


export type Action = (rt: Runtime) => Promise<ExitCode | number | void>;

export async function runCommand(cmd: Command, action: Action, opts: RunOptions = {}): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const level = g.logLevel ?? process.env.DUALRUN_LOG_LEVEL ?? 'info';
  const log = createLogger(level);
  const ac = new AbortController();
  stopDeadlineMs = STOP_DEADLINE_MS;
  deadline = null;
  let rt: Runtime | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    if (received) { process.exit(SIGNAL_EXIT[sig] ?? 143); }
    received = sig;
    log.warn({ signal: sig }, 'stopping at the next safe point (send again to force)');
    ac.abort(new Error(sig));
    const cut = () => void cutShort(log, rt, g.format === 'json');
    deadline = { at: Date.now(), timer: setTimeout(cut, stopDeadlineMs), cut };
    deadline.timer.unref();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A signal while the CLI loaded: stop now, before any work starts.
  const early = takeEarlySignal();
  if (early) onSignal(early);
  let code: number = EXIT.ok;
  try {
    const config = opts.ignoreConfig ? compileConfig({ datasets: {} }, { path: null }) : loadOrDefault(g.config, opts.configOptional ?? false);
    rt = createRuntime({ config, log, signal: ac.signal, autoMigrate: opts.autoMigrate });
    code = (await action(rt)) ?? EXIT.ok;
  } catch (e) {
    code = reportError(e, g.format === 'json', level);
    // Work given up because of the signal (src/core/stopped.ts) exits as interrupted, not as a runtime failure.
    if (received && toDualrunError(e).code === 'DUALRUN_INTERRUPTED') code = signalExitCode();
  } finally {
    await rt?.close().catch((e) => log.warn({ err: e }, 'closing connections failed'));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  if (received && code === EXIT.ok && !WORKERS.has(topCommand(cmd))) {
    code = signalExitCode();
    if (g.format === 'json' && !printedJson) json({ error: interruptedError().toJSON() });
  }
  process.exitCode = code;
}

/**
 * This invocation's command line with some options replaced, to print as the
 * command that resumes interrupted work, e.g. `dualrun batch run orders --from 2026-11-07 --to 2026-11-20`.
 */
export function resumeCommand(replace: Record<string, string>, argv: readonly string[] = process.argv.slice(2)): string {
  const args = [...argv];
  for (const [flag, value] of Object.entries(replace)) {
    const i = args.findIndex((a) => a === flag || a.startsWith(`${flag}=`));
    if (i < 0) args.push(flag, value);
    else if (args[i] === flag) args[i + 1] = value;
    else args[i] = `${flag}=${value}`;
  }
  const quote = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['dualrun', ...args.map(quote)].join(' ');
}

function topCommand(cmd: Command): string {
  let c = cmd;
  while (c.parent?.parent) c = c.parent;
  return c.name();
}

function interruptedError(): DualrunError {
  return new DualrunError('DUALRUN_INTERRUPTED', `stopped by ${received ?? 'a signal'} before the work finished`, { details: { signal: received } });
}

/** The stop deadline passed: release what can be released quickly, flush results, exit non-zero. */
async function cutShort(log: Logger, rt: Runtime | undefined, asJson: boolean): Promise<void> {
  log.warn({ afterMs: stopDeadlineMs }, 'did not reach a safe point in time: stopping now (unfinished work is rolled back and can be run again)');
  // A script that asked for JSON parses stdout: it gets an error document, not nothing.
  if (asJson && !printedJson) json({ error: interruptedError().toJSON() });
  await Promise.race([rt?.close().catch(() => undefined), new Promise((r) => setTimeout(r, 700))]);
  await Promise.race([flushStdout(), new Promise((r) => setTimeout(r, 200))]);
  process.exit(signalExitCode());
}

function loadOrDefault(configPath: string | undefined, optional: boolean) {
  try {
    return loadConfig({ configPath });
  } catch (e) {
    if (optional && e instanceof DualrunError && e.code === 'DUALRUN_CONFIG_NOT_FOUND' && !configPath && !process.env.DUALRUN_CONFIG) {
      // As init's dualrun.yaml: DATABASE_URL when set, else the embedded Postgres.
      return compileConfig({ database: { url: '${DATABASE_URL:-}' }, datasets: {} }, { path: null });
    }
    throw e;
  }
}

/**
 * Prints an error for people (stderr: one line, plus the stack at --log-level
 * debug) and, with --format json, for machines (stdout).
 */
export function reportError(e: unknown, asJson: boolean, level: string = process.env.DUALRUN_LOG_LEVEL ?? 'info'): number {
  const err = toDualrunError(e);
  const extra = err.db?.code ? ` [SQLSTATE ${err.db.code}${err.db.detail ? `: ${scrubSecrets(err.db.detail)}` : ''}]` : '';
  process.stderr.write(`dualrun: ${err.code}: ${scrubSecrets(err.message)}${extra}\n`);
  const stack = err.cause instanceof Error ? err.cause.stack : err.stack;
  if (showsStacks(level) && stack) process.stderr.write(`${scrubSecrets(stack)}\n`);
  else if (err.code === 'DUALRUN_INTERNAL') process.stderr.write('(an internal error: run again with --log-level debug for the stack trace, and report it)\n');
  if (asJson) json({ error: err.toJSON() });
  return err.exitCode;
}

/**
 * The exit code of a run stopped by a signal before it finished its work: 130 for
 * SIGINT, 143 for SIGTERM (128 + signal number, what shells report); null when the
 * run was not interrupted. The abort reason is the signal's name (see runCommand).
 */
export function interruptedExitCode(signal: AbortSignal): number | null {
  if (!signal.aborted) return null;
  return (signal.reason as Error | undefined)?.message === 'SIGINT' ? 130 : 143;
}
