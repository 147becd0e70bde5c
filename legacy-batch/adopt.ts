/**
 * Adopted batch: an external legacy job writes batch.output; dualrun only records
 * that a window finished (with the rows it sees now), so the reconciler and the
 * cutover gate know the batch side is settled. `batch.completion` (SQL returning a
 * row once the job finished the window) lets the scheduler notice by itself.
 */
import { DualrunError } from '../src/core/errors.ts';
import type { DatasetConfig } from '../src/core/config/types.ts';
import type { Runtime } from '../src/core/runtime.ts';
import type { Pool } from '../src/core/db/connect.ts';
import type { Window } from '../src/core/windows.ts';
import { bindSql } from './batch-query.ts';
import { ledgerError, recordAdopted, recordAdoptedOnce, type RunTrigger } from './run-ledger.ts';
import { scopeLabel, windowScope } from './window-scope.ts';
import { assertDue, isDue } from './due-window.ts';
import { windowColumnTypeProblem } from './window-column-type.ts';
import { assertBatchOutput } from './batch-output-check.ts';
import { caseHint } from '../src/core/db/table-catalog.ts';

export interface AdoptResult {
  dataset: string; window: string | null; status: 'succeeded' | 'partial'; runId: number; rows: number; snapshotAt: string;
  /** With `once`: the window had already succeeded (run `runId`), nothing was recorded. */
  already?: boolean;
}

/** `once` (the scheduler): record a window only if no run settled it meanwhile (run-ledger.ts recordAdoptedOnce). */
export async function adoptWindow(rt: Runtime, ds: DatasetConfig, window: Window | null, trigger: RunTrigger, opts: { partial?: boolean; now?: Date; once?: boolean } = {}): Promise<AdoptResult> {
  // The external job cannot have finished a window that is not due: refused, or recorded partial.
  const at = opts.now ?? new Date();
  const early = window !== null && !isDue(ds, window, at);
  if (early && !opts.partial) assertDue(ds, [window], at, 'adopted');
  const status = early ? 'partial' as const : 'succeeded' as const;
  const scope = windowScope(ds, window);
  const output = await rt.pool(ds.batch.database);
  await assertBatchOutput(output, ds, rt.config.path);
  await refuseUnusableWindowColumn(output, ds);
  let seen: { n: string; at: Date };
  try {
    seen = (await output.query<{ n: string; at: Date }>(`SELECT count(*) AS n, now() AS at FROM ${ds.batch.output.sql} ${scope.where}`, [...scope.params])).rows[0];
  } catch (e) {
    // A missing output named in another case than the legacy table: say which table is there.
    const hint = (e as { code?: string }).code === '42P01' ? await caseHint(output, ds.batch.output) : '';
    throw new DualrunError('DUALRUN_BATCH_FAILED', `adopting dataset ${ds.name}, window ${scopeLabel(scope)}: ${ledgerError(e).message}${hint}`, {
      cause: e, details: { dataset: ds.name, window: window?.label ?? null },
    });
  }
  const rows = Number(seen.n);
  const run = { dataset: ds.name, window, trigger };
  // A whole table has no window to settle once: each finished run of the job is recorded.
  if (opts.once && window && status === 'succeeded') {
    const r = await recordAdoptedOnce(await rt.db(), run, rows, seen.at);
    if (r.existing) return { dataset: ds.name, window: window?.label ?? null, status, runId: r.id, rows, snapshotAt: seen.at.toISOString(), already: true };
    return logged(rt, ds, scope, { dataset: ds.name, window: window?.label ?? null, status, runId: r.id, rows, snapshotAt: seen.at.toISOString() });
  }
  const runId = await recordAdopted(await rt.db(), run, rows, seen.at, status);
  return logged(rt, ds, scope, { dataset: ds.name, window: window?.label ?? null, status, runId, rows, snapshotAt: seen.at.toISOString() });
}

function logged(rt: Runtime, ds: DatasetConfig, scope: ReturnType<typeof windowScope>, r: AdoptResult): AdoptResult {
  rt.log.info({ dataset: ds.name, window: scopeLabel(scope), runId: r.runId, rows: r.rows, status: r.status }, 'adopted batch window recorded');
  return r;
}

/**
 * The window's rows are counted by comparing the window column with its bounds, as a managed
 * load selects them: a text column compares them as strings (an adopted window of 0 rows,
 * recorded succeeded, then settled), so the one rule of the managed load refuses it here too.
 */
async function refuseUnusableWindowColumn(output: Pool, ds: DatasetConfig): Promise<void> {
  const problem = await windowColumnTypeProblem(output, ds, 'nothing was recorded');
  if (problem) throw new DualrunError('DUALRUN_CONFIG_INVALID', `datasets.${ds.name}.window.column: ${problem}`, { details: { dataset: ds.name } });
}

/**
 * Whether `batch.completion` says the external job finished the window (false without a check).
 * A row says so unless its first column is NULL or false: a job log queried as
 * `SELECT finished_at FROM etl_runs WHERE …` has the run's row, finished_at NULL, while
 * the job still writes the window, and adopting then made a half-written window
 * settled, then evidence. Every row must say so (a re-run beside a finished attempt is running).
 */
export async function externalJobFinished(rt: Runtime, ds: DatasetConfig, window: Window | null): Promise<boolean> {
  if (!ds.batch.completion) return false;
  const scope = windowScope(ds, window);
  const q = bindSql(ds.batch.completion, ds, scope, `datasets.${ds.name}.batch.completion`);
  const output = await rt.pool(ds.batch.database);
  try {
    const rows = (await output.query<unknown[]>({ text: q.text, values: [...q.values], rowMode: 'array' })).rows;
    return rows.length > 0 && rows.every(saysFinished);
  } catch (e) {
    throw new DualrunError('DUALRUN_BATCH_FAILED', `completion check of dataset ${ds.name}, window ${scopeLabel(scope)}: ${ledgerError(e).message}`, {
      cause: e, details: { dataset: ds.name, window: window?.label ?? null },
    });
  }
}

/** A completion row says "finished" unless its first column is NULL or false (a row with no columns: its existence). */
function saysFinished(row: readonly unknown[]): boolean {
  return row.length === 0 || (row[0] !== null && row[0] !== false);
}
