/**
 * The one place a CLI action becomes a process outcome: load and compile the
 * config, open a runtime, run, map errors to the registry's exit codes, release
 * Postgres (embedded included), and leave the exit code in process.exitCode.
 */
import type { Command } from 'commander';
import { DualrunError, EXIT, toDualrunError, type ExitCode } from '../errors.ts';
import { createLogger } from '../logger.ts';
import { loadConfig } from '../config/load-config.ts';
import { compileConfig } from '../config/compile-config.ts';
import { createRuntime, type Runtime } from '../runtime.ts';
import { scrubSecrets } from '../secrets.ts';

export interface GlobalOptions { config?: string; logLevel?: string; format?: string }

export interface RunOptions {
  /** Without a config file, run on the built-in empty config (embedded Postgres, no datasets). */
  configOptional?: boolean;
  /** Never read a config file (the demo brings its own). */
  ignoreConfig?: boolean;
  autoMigrate?: boolean;
}

/** Writes a result line (or block) to stdout. */
export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function json(value: unknown): void {
  out(JSON.stringify(value, null, 2));
}

export type Action = (rt: Runtime) => Promise<ExitCode | number | void>;

export async function runCommand(cmd: Command, action: Action, opts: RunOptions = {}): Promise<void> {
  const g = cmd.optsWithGlobals<GlobalOptions>();
  const log = createLogger(g.logLevel ?? process.env.DUALRUN_LOG_LEVEL ?? 'info');
  const ac = new AbortController();
  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    signals += 1;
    if (signals === 1) { log.warn({ signal: sig }, 'stopping at the next safe point (send again to force)'); ac.abort(new Error(sig)); }
    else process.exit(sig === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let rt: Runtime | undefined;
  let code: number = EXIT.ok;
  try {
    const config = opts.ignoreConfig ? compileConfig({ datasets: {} }, { path: null }) : loadOrDefault(g.config, opts.configOptional ?? false);
    rt = createRuntime({ config, log, signal: ac.signal, autoMigrate: opts.autoMigrate });
    code = (await action(rt)) ?? EXIT.ok;
  } catch (e) {
    code = reportError(e, g.format === 'json');
  } finally {
    await rt?.close().catch((e) => log.warn({ err: e }, 'closing connections failed'));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  process.exitCode = code;
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

/** Prints an error for people (stderr) and, with --format json, for machines (stdout). */
export function reportError(e: unknown, asJson: boolean): number {
  const err = toDualrunError(e);
  const extra = err.db?.code ? ` [SQLSTATE ${err.db.code}${err.db.detail ? `: ${err.db.detail}` : ''}]` : '';
  process.stderr.write(`dualrun: ${err.code}: ${scrubSecrets(err.message)}${extra}\n`);
  if (err.code === 'DUALRUN_INTERNAL' && err.cause instanceof Error && err.cause.stack) process.stderr.write(`${scrubSecrets(err.cause.stack)}\n`);
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
