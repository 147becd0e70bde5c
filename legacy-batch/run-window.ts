/**
 * One managed batch run of one window (or the whole table): ledger row
 * `running`, then in one transaction on the output's database lock the window,
 * delete its rows and load the query's rows, then `succeeded`. Any failure rolls
 * the transaction back (the window keeps its previous content) and the ledger
 * keeps the database's message and SQLSTATE. Returns a result, never throws for
 * a failed window, so a backfill can report every window.
 */
import { DualrunError } from '../src/core/errors.ts';
import { inTransaction, type PoolClient } from '../src/core/db/connect.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Runtime } from '../src/core/runtime.ts';
import type { Window } from '../src/core/windows.ts';
import { bindBatchQuery, type BoundQuery } from './batch-query.ts';
import { cancelOnAbort } from './cancel-on-abort.ts';
import { pagedCopy, type CopyResult } from './cross-database-copy.ts';
import { assertRunLive, finishRun, ledgerError, startRun, type RunTrigger } from './run-ledger.ts';
import { loadTransform, type BatchTransform } from './transform-module.ts';
import { clearWindow, lockWindow } from './window-claim.ts';
import { insertSelect } from './window-load.ts';
import { scopeLabel, windowScope, type WindowScope } from './window-scope.ts';
import { assertWindowColumnType } from './window-column-type.ts';
import { assertBatchOutput } from './batch-output-check.ts';
import { assertLoadedInWindow } from './window-rows-guard.ts';
import { batchFailedAlert } from '../src/core/alerts/pipeline-alerts.ts';
import { assertDue, isDue } from './due-window.ts';
import { currentDefinition } from '../src/core/cutover/dataset-definition.ts';

export type WindowStatus = 'succeeded' | 'partial' | 'failed' | 'abandoned' | 'skipped' | 'not-run';

export interface WindowResult {
  dataset: string;
  /** null for a whole-table dataset. */
  window: string | null;
  status: WindowStatus;
  runId: number | null;
  rows: number | null;
  ms: number;
  error?: DualrunError;
}

export interface RunWindowOptions {
  trigger: RunTrigger;
  /** Aborting cancels the running statement and records the run as `abandoned`. */
  signal?: AbortSignal;
  pageRows?: number;
  /** Allow a window that is not due yet (end + settle in the future); it is recorded `partial`. */
  partial?: boolean;
  /** The clock for the due check (default: now). */
  now?: Date;
}

export async function runWindow(rt: Runtime, ds: DatasetConfig, window: Window | null, opts: RunWindowOptions): Promise<WindowResult> {
  const t0 = Date.now();
  const scope = windowScope(ds, window);
  const base = { dataset: ds.name, window: window?.label ?? null };
  // A window not yet due would read as complete forever: refused, or recorded partial.
  const at = opts.now ?? new Date();
  const early = window !== null && !isDue(ds, window, at);
  if (early && !opts.partial) assertDue(ds, [window], at);
  const done = early ? 'partial' as const : 'succeeded' as const;
  // Config problems (no query, unreadable file, bad transform) are not runs: they throw.
  const query = bindBatchQuery(ds, scope);
  const transform = ds.batch.transform ? await loadTransform(ds.name, ds.batch.transform) : null;
  if (opts.signal?.aborted) return { ...base, status: 'not-run', runId: null, rows: null, ms: 0 };

  const toolkit = await rt.db();
  const target = await rt.pool(ds.batch.database);
  // With the output in the toolkit database the ledger's `succeeded` commits with the rows.
  const ledgerInLoad = ds.batch.database === null;
  // The batch query or transform may have changed: the gate dates evidence from here.
  const { parts } = await currentDefinition(toolkit, ds, { record: 'batch run' });
  const definition = { batchQuery: parts.batchQuery, batchTransform: parts.batchTransform };
  const runId = await startRun(toolkit, { dataset: ds.name, window, mode: 'managed', trigger: opts.trigger, definition });
  rt.log.info({ dataset: ds.name, window: scopeLabel(scope), runId }, 'batch run started');
  try {
    const result = await inTransaction(target, async (client) => {
      const loaded = await loadWindow(rt, client, ds, scope, query, transform, opts);
      await assertRunLive(runId);
      if (ledgerInLoad) await finishRun(client, runId, { status: done, ...loaded });
      return loaded;
    });
    if (!ledgerInLoad) await finishRun(toolkit, runId, { status: done, ...result });
    rt.log.info({ dataset: ds.name, window: scopeLabel(scope), runId, rows: result.rows }, `batch run ${done}`);
    rt.metrics.batchRun({ dataset: ds.name, status: done, seconds: (Date.now() - t0) / 1000 });
    return { ...base, status: done, runId, rows: result.rows, ms: Date.now() - t0 };
  } catch (e) {
    const status = opts.signal?.aborted ? 'abandoned' : 'failed';
    // An abandoned run records why it stopped; the cancelled statement's message would mislead.
    const recorded = status === 'abandoned' ? new Error(`stopped by ${abortReason(opts.signal)} before the load committed; the window keeps its previous content`) : e;
    await finishRun(toolkit, runId, { status, error: recorded }).catch((le) => rt.log.error({ err: le, runId }, 'recording the run outcome failed'));
    const error = runError(ds.name, scopeLabel(scope), runId, status, e);
    rt.log.error({ dataset: ds.name, window: scopeLabel(scope), runId, err: error.message }, `batch run ${status}`);
    rt.metrics.batchRun({ dataset: ds.name, status, seconds: (Date.now() - t0) / 1000 });
    if (status === 'failed') rt.alerts.emit(batchFailedAlert(ds.name, base.window, runId, error));
    return { ...base, status, runId, rows: null, ms: Date.now() - t0, error };
  }
}

/** Inside the load transaction: lock the window, clear it, load it. */
async function loadWindow(rt: Runtime, client: PoolClient, ds: DatasetConfig, scope: WindowScope, query: BoundQuery,
  transform: BatchTransform | null, opts: RunWindowOptions): Promise<CopyResult> {
  const target = await rt.pool(ds.batch.database);
  const stopCancel = await cancelOnAbort(target, client, opts.signal);
  try {
    const txStart = await lockWindow(client, scope);
    // A failed run (ledger, alert), but with the config mistake's own code: exit 2, not 3.
    await assertBatchOutput(client, ds, rt.config.path);
    await assertWindowColumnType(client, ds, rt.config.path);
    await clearWindow(client, ds.batch.output.sql, scope);
    let loaded: CopyResult;
    if (ds.batch.sourceUrl || transform) {
      const source = ds.batch.sourceUrl ? await rt.pool(ds.batch.sourceUrl) : target;
      loaded = await pagedCopy(client, ds.batch.output, { pool: source, query, transform, signal: opts.signal, pageRows: opts.pageRows });
    } else {
      loaded = { rows: await insertSelect(client, ds.batch.output, query), snapshotAt: txStart };
    }
    await assertLoadedInWindow(client, ds, scope, loaded.rows);
    opts.signal?.throwIfAborted(); // stopped at the last moment: still roll back
    return loaded;
  } finally {
    stopCancel();
  }
}

function runError(dataset: string, window: string, runId: number, status: string, e: unknown): DualrunError {
  if (e instanceof DualrunError && e.code !== 'DUALRUN_DB_QUERY_FAILED') return e;
  const { message } = ledgerError(e);
  const verb = status === 'abandoned' ? 'was abandoned' : 'failed';
  return new DualrunError('DUALRUN_BATCH_FAILED', `batch run of dataset ${dataset}, window ${window} ${verb}: ${message}`, {
    cause: e, details: { dataset, window, runId, status },
  });
}

function abortReason(signal: AbortSignal | undefined): string {
  const r = signal?.reason as unknown;
  return r instanceof Error ? r.message : typeof r === 'string' ? r : 'a signal';
}
