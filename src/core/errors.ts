/**
 * One registry of dualrun's error codes. Every failure the CLI can report is a
 * DualrunError with a stable code; the exit code and whether a retry can help are
 * derived from the code, never chosen at the throw site.
 */
import { scrubSecrets } from './secrets.ts';

export const EXIT = { ok: 0, checkFailed: 1, usage: 2, runtime: 3, pending: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

interface CodeSpec { exit: ExitCode; retryable: boolean; summary: string }

export const ERROR_CODES = {
  DUALRUN_USAGE: { exit: 2, retryable: false, summary: 'the command line is wrong' },
  DUALRUN_CONFIG_NOT_FOUND: { exit: 2, retryable: false, summary: 'no config file was found' },
  DUALRUN_CONFIG_INVALID: { exit: 2, retryable: false, summary: 'the config does not validate' },
  DUALRUN_DATASET_UNKNOWN: { exit: 2, retryable: false, summary: 'no such dataset in the config' },
  DUALRUN_DB_UNREACHABLE: { exit: 3, retryable: true, summary: 'Postgres could not be reached' },
  DUALRUN_DB_QUERY_FAILED: { exit: 3, retryable: false, summary: 'a query failed' },
  DUALRUN_EMBEDDED_PG_FAILED: { exit: 3, retryable: true, summary: 'the embedded Postgres could not start' },
  DUALRUN_KAFKA_UNREACHABLE: { exit: 3, retryable: true, summary: 'the Kafka brokers could not be reached' },
  DUALRUN_MIGRATION_FAILED: { exit: 3, retryable: false, summary: 'the toolkit schema could not be migrated' },
  DUALRUN_SCHEMA_OUTDATED: { exit: 3, retryable: false, summary: 'the toolkit schema needs `dualrun migrate`' },
  DUALRUN_BATCH_FAILED: { exit: 3, retryable: false, summary: 'a batch run failed' },
  DUALRUN_STREAM_FAILED: { exit: 3, retryable: true, summary: 'the streaming worker failed' },
  DUALRUN_SOURCE_REWOUND: { exit: 3, retryable: false, summary: 'the source log ends before the position already applied (the topic was deleted and created again, or truncated): nothing more is applied from it' },
  DUALRUN_CHANGELOG_PRUNED: { exit: 2, retryable: false, summary: 'changelog rows a reader or replay needs were pruned (see stream.source.changelogRetention)' },
  DUALRUN_RECONCILE_FAILED: { exit: 3, retryable: false, summary: 'a reconciliation could not run' },
  DUALRUN_TIMEZONE_DATA: { exit: 3, retryable: false, summary: "a database's time-zone rules disagree with Node's for a window" },
  DUALRUN_MISMATCH: { exit: 1, retryable: false, summary: 'the two paths disagree' },
  DUALRUN_PENDING: { exit: 4, retryable: true, summary: 'nothing settled to judge yet' },
  DUALRUN_WINDOW_NOT_DUE: { exit: 2, retryable: true, summary: 'the window has not ended plus its settle allowance yet (--partial loads it anyway, never as evidence)' },
  DUALRUN_REPLAY_RUNNING: { exit: 2, retryable: true, summary: 'another replay of the dataset is running (nothing was changed)' },
  DUALRUN_GATE_REFUSED: { exit: 1, retryable: false, summary: 'a cutover gate refused the promotion' },
  DUALRUN_CONFLICT: { exit: 1, retryable: true, summary: 'another change won a concurrent update' },
  DUALRUN_LOCK_TIMEOUT: { exit: 3, retryable: true, summary: 'a lock was not granted in time (long-running readers or another change)' },
  DUALRUN_SERVE_REFUSED: { exit: 1, retryable: false, summary: 'the serving view cannot be pointed at that output' },
  // The CLI exits 130 (SIGINT) / 143 (SIGTERM) for it, as shells expect; 3 is for library callers.
  DUALRUN_INTERRUPTED: { exit: 3, retryable: true, summary: 'stopped by a signal before the work finished (unfinished work was rolled back and can be run again)' },
  DUALRUN_OUTPUT_FAILED: { exit: 3, retryable: true, summary: 'the result could not be written (stdout or the --out file: disk full, I/O error)' },
  DUALRUN_INTERNAL: { exit: 3, retryable: false, summary: 'an unexpected internal error' },
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The exit code a stored or reported error code derives (an unknown code, e.g. from an older version: a runtime failure). */
export function exitCodeOfError(code: string): ExitCode {
  return (ERROR_CODES as Record<string, CodeSpec>)[code]?.exit ?? EXIT.runtime;
}

/** The fields of a node-postgres DatabaseError that are worth keeping when wrapping. */
export interface DatabaseErrorFields {
  code?: string; detail?: string; hint?: string; position?: string; where?: string;
  schema?: string; table?: string; column?: string; constraint?: string; severity?: string;
}

export class DualrunError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly retryable: boolean;
  /** Extra facts for logs and JSON output (dataset, window, config path...). */
  readonly details: Record<string, unknown>;
  /** Kept from a pg DatabaseError found in the cause chain. */
  readonly db?: DatabaseErrorFields;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; details?: Record<string, unknown> } = {}) {
    super(scrubSecrets(message), opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'DualrunError';
    this.code = code;
    this.exitCode = ERROR_CODES[code].exit;
    this.retryable = ERROR_CODES[code].retryable;
    this.details = opts.details ?? {};
    const db = databaseErrorFields(opts.cause);
    if (db) this.db = db;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, retryable: this.retryable, ...this.details, ...(this.db ? { db: this.db } : {}) };
  }
}

const DB_FIELDS = ['code', 'detail', 'hint', 'position', 'where', 'schema', 'table', 'column', 'constraint', 'severity'] as const;

/** Finds a node-postgres DatabaseError in a cause chain and copies its fields. */
export function databaseErrorFields(err: unknown): DatabaseErrorFields | undefined {
  for (let e = err, depth = 0; e && depth < 8; e = (e as { cause?: unknown }).cause, depth++) {
    if (typeof e === 'object' && (e as { name?: string }).name === 'error' && 'severity' in (e as object)) {
      const out: DatabaseErrorFields = {};
      for (const f of DB_FIELDS) {
        const v = (e as Record<string, unknown>)[f];
        // A detail can quote a row's value (`Key (dsn)=(postgres://u:pw@h/db) already exists`).
        if (typeof v === 'string') out[f] = scrubSecrets(v);
      }
      return out;
    }
  }
  return undefined;
}

export function isDualrunError(e: unknown): e is DualrunError {
  return e instanceof DualrunError;
}

/** Turns anything thrown into a DualrunError, keeping it as the cause. */
export function toDualrunError(e: unknown, fallback: ErrorCode = 'DUALRUN_INTERNAL'): DualrunError {
  if (isDualrunError(e)) return e;
  const db = databaseErrorFields(e);
  const message = e instanceof Error ? e.message : String(e);
  return new DualrunError(db ? 'DUALRUN_DB_QUERY_FAILED' : fallback, message, { cause: e });
}
