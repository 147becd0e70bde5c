/**
 * Promote and roll back. Each change is one transaction: the stage row (optimistic
 * version check, which also serialises competing changes on the row lock), the
 * serving view re-pointed, and the audit row. A concurrent change that committed
 * first makes this one fail with DUALRUN_CONFLICT and leave nothing behind.
 */
import { inTransaction, type PoolClient } from '../db/connect.ts';
import { DualrunError } from '../errors.ts';
import type { Runtime } from '../runtime.ts';
import type { DatasetConfig } from '../config/types.ts';
import { nextStage, previousStage, readStageRow, servedSide, stageIndex, type Stage, type StageRow } from '../stages.ts';
import { batchMissedWhileRetired, type RetiredGaps } from './retired-batch-gaps.ts';
import { gateForNextStep } from './evidence.ts';
import { judgedRowCounter } from './judged-rows.ts';
import { appendAudit, latestAudit, type AuditEntry } from './audit-log.ts';
import { assertServeable, pointServingView } from './serving-view.ts';
import type { GateResult } from './stage-gate.ts';
import { alertingStageChange } from '../alerts/pipeline-alerts.ts';
import { recordGateDecision } from './gate-decisions.ts';
import { excludeReconciliations } from './reconcile-lock.ts';

export interface ChangeOptions {
  /** Why (required; recorded in the audit). */
  reason: string;
  /** Who; default $USER, else 'unknown'. */
  actor?: string;
  /** Fail with DUALRUN_CONFLICT unless the stage row is at this version (0: no row yet). */
  expectedVersion?: number;
  /** Fail with DUALRUN_CONFLICT unless the dataset is in this stage (CLI `--from`). */
  expectedStage?: Stage;
  /** How long to wait for the serving view's lock (default 5000; DUALRUN_CUTOVER_LOCK_TIMEOUT_MS). */
  lockTimeoutMs?: number;
  now?: Date;
}
export interface PromoteOptions extends ChangeOptions { force?: boolean }
export interface RollbackOptions extends ChangeOptions { to?: Stage }

export interface StageChange {
  readonly dataset: string;
  readonly action: 'promote' | 'rollback';
  readonly from: Stage;
  readonly to: Stage;
  readonly version: number;
  readonly forced: boolean;
  readonly gate: GateResult | null;
  readonly serving: string | null;
  readonly audit: AuditEntry;
  readonly warnings: readonly string[];
}

export async function promote(rt: Runtime, dataset: string, opts: PromoteOptions): Promise<StageChange> {
  const ds = prepare(rt, dataset, opts);
  // A refusal commits its decision record, then is thrown outside the transaction.
  return alertingStageChange(rt.alerts, promoteOrRefuse(rt, ds, opts));
}

async function promoteOrRefuse(rt: Runtime, ds: DatasetConfig, opts: PromoteOptions): Promise<StageChange> {
  const outcome = await changeTransaction(rt, ds, opts, async (c): Promise<StageChange | DualrunError> => {
    // The stage as the operator asked from: read before any wait, so a change committed meanwhile is a conflict, not a next step.
    const row = await currentRow(c, ds, opts);
    // A running reconciliation has not stored its verdicts: the gate would judge without them. Forcing skips the gate, and this.
    if (!opts.force) await excludeReconciliations(c, ds.name, lockTimeoutOf(opts));
    const to = nextStage(row.stage);
    if (!to) throw new DualrunError('DUALRUN_USAGE', `${ds.name} is already in streaming-only, the last stage; nothing to promote to`);
    const gate = (await gateForNextStep(c, ds, row, { now: opts.now, recordDefinition: 'promote', countRows: judgedRowCounter(rt, ds) }))!;
    if (!gate.ok && !opts.force) return refusePromotion(c, ds, row, to, gate, opts);
    return grantPromotion(c, rt, ds, row, to, gate, opts);
  });
  if (outcome instanceof DualrunError) throw outcome;
  return outcome;
}

/** The one place a promotion is refused: the decision is recorded, the error says why. */
async function refusePromotion(c: PoolClient, ds: DatasetConfig, row: StageRow, to: Stage, gate: GateResult, opts: PromoteOptions): Promise<DualrunError> {
  const decision = await recordGateDecision(c, { dataset: ds.name, from: row.stage, to, outcome: 'refused', actor: actorOf(opts), reason: opts.reason.trim(), gate });
  return new DualrunError('DUALRUN_GATE_REFUSED',
    `${ds.name}: ${row.stage} → ${to} refused: ${gate.missing.join('; ')}. ` +
    'Wait for more clean reconciliations (dualrun reconcile), or override with --force and a --reason (recorded as forced).',
    { details: { dataset: ds.name, gate, decision: decision.id } });
}

/** The one place a promotion is granted (gate held, or forced past it): stage, view, audit and decision in one transaction. */
async function grantPromotion(c: PoolClient, rt: Runtime, ds: DatasetConfig, row: StageRow, to: Stage, gate: GateResult, opts: PromoteOptions): Promise<StageChange> {
  const forced = !gate.ok;
  const change = await apply(c, rt, ds, row, { action: 'promote', to, gate, forced, opts, warnings: [] });
  await recordGateDecision(c, { dataset: ds.name, from: row.stage, to, outcome: forced ? 'forced' : 'granted', actor: change.audit.actor, reason: change.audit.reason, gate });
  return change;
}

function actorOf(opts: ChangeOptions): string {
  return opts.actor?.trim() || process.env.USER?.trim() || 'unknown';
}

export async function rollback(rt: Runtime, dataset: string, opts: RollbackOptions): Promise<StageChange> {
  const ds = prepare(rt, dataset, opts);
  return alertingStageChange(rt.alerts, changeTransaction(rt, ds, opts, async (c) => {
    const row = await currentRow(c, ds, opts);
    const to = opts.to ?? previousStage(row.stage);
    if (!to) throw new DualrunError('DUALRUN_USAGE', `${ds.name} is in batch, the first stage; nothing to roll back to`);
    if (stageIndex(to) >= stageIndex(row.stage)) {
      throw new DualrunError('DUALRUN_USAGE', `${ds.name} is in ${row.stage}; rollback goes to an earlier stage and ${to} is not earlier (use promote to go forward)`);
    }
    const warnings = retiredWarning(ds, to, await batchMissedWhileRetired(c, ds));
    return apply(c, rt, ds, row, { action: 'rollback', to, gate: null, forced: false, opts, warnings });
  }));
}

/** The batch output misses windows due while the batch path was retired: said at every rollback until they are backfilled. */
function retiredWarning(ds: DatasetConfig, to: Stage, gaps: RetiredGaps | null): string[] {
  if (!gaps) return [];
  const readers = servedSide(to) === 'batch' ? 'readers now see a batch output without them' : 'the batch side cannot verify them';
  if (gaps.first === null) {
    return [`the legacy batch path was retired (streaming-only) from ${gaps.since.toISOString()} and the batch output has not been reloaded since: ${readers}; run dualrun batch run ${ds.name} before trusting the batch side`];
  }
  const n = `${gaps.count}${gaps.more ? '+' : ''} window(s)`;
  return [`the legacy batch path was retired (streaming-only) from ${gaps.since.toISOString()}; its output misses ${n} that fell due then (${gaps.first} … ${gaps.last}): ${readers}; ` +
    `re-run them (dualrun batch run ${ds.name} --from ${gaps.first} --to ${gaps.last}) before trusting the batch side`];
}

/**
 * Re-pointing the view needs an exclusive lock on it, which waits for running
 * readers, and every new reader queues behind that wait. A bounded wait turns a
 * long report query into a clear, retryable failure instead of a reader outage.
 */
async function changeTransaction<T>(rt: Runtime, ds: DatasetConfig, opts: ChangeOptions, fn: (c: PoolClient) => Promise<T>): Promise<T> {
  const ms = lockTimeoutOf(opts);
  try {
    return await inTransaction(await rt.db(), async (c) => {
      await c.query(`SELECT set_config('lock_timeout', $1, true)`, [`${Math.max(1, Math.floor(ms))}ms`]);
      return fn(c);
    });
  } catch (e) {
    if ((e as { code?: string }).code !== '55P03') throw e;
    throw new DualrunError('DUALRUN_LOCK_TIMEOUT',
      `${ds.name}: the stage change waited ${ms}ms for a lock (long-running readers of ${ds.cutover.serve?.text ?? 'the serving view'}, or another change) and gave up; nothing was changed. Retry, or find the blocker in pg_stat_activity`,
      { cause: e, details: { dataset: ds.name, lockTimeoutMs: ms } });
  }
}

function lockTimeoutOf(opts: ChangeOptions): number {
  return opts.lockTimeoutMs ?? (Number(process.env.DUALRUN_CUTOVER_LOCK_TIMEOUT_MS) || 5000);
}

function prepare(rt: Runtime, dataset: string, opts: ChangeOptions): DatasetConfig {
  const ds = rt.dataset(dataset);
  if (!opts.reason?.trim()) throw new DualrunError('DUALRUN_USAGE', `a stage change of ${ds.name} needs a --reason (it is recorded in the audit)`);
  // Before touching anything: a serving view that could never be created must not block a change half-way.
  assertServeable(rt.config, ds);
  return ds;
}

async function currentRow(c: PoolClient, ds: DatasetConfig, opts: ChangeOptions): Promise<StageRow> {
  const row = await readStageRow(c, ds.name);
  if (opts.expectedVersion !== undefined && opts.expectedVersion !== row.version) throw await conflict(c, ds, `stage version ${opts.expectedVersion}`);
  if (opts.expectedStage !== undefined && opts.expectedStage !== row.stage) throw await conflict(c, ds, `stage ${opts.expectedStage}`);
  return row;
}

interface Plan { action: 'promote' | 'rollback'; to: Stage; gate: GateResult | null; forced: boolean; opts: ChangeOptions; warnings: string[] }

async function apply(c: PoolClient, rt: Runtime, ds: DatasetConfig, row: StageRow, p: Plan): Promise<StageChange> {
  const version = await writeStage(c, ds, row, p.to);
  const actor = actorOf(p.opts);
  // A rollback is never refused: readers it would lock out of the view are said, not a reason to stay.
  const warn = p.action === 'rollback' ? (m: string) => { p.warnings.push(m); } : undefined;
  const serving = await pointServingView(c, rt.config, ds, p.to, `stage ${p.to} (version ${version}, ${p.action} by ${actor})`, warn);
  const audit = await appendAudit(c, {
    dataset: ds.name, action: p.action, from: row.stage, to: p.to, actor, reason: p.opts.reason.trim(), forced: p.forced,
    evidence: p.gate?.evidence ?? [], gate: p.gate, serving, stageVersion: version, warnings: p.warnings,
  });
  for (const w of p.warnings) rt.log.warn({ dataset: ds.name }, w);
  return { dataset: ds.name, action: p.action, from: row.stage, to: p.to, version, forced: p.forced, gate: p.gate, serving, audit, warnings: p.warnings };
}

/** Writes the new stage if the row is still at the version read; returns the new version. */
async function writeStage(c: PoolClient, ds: DatasetConfig, row: StageRow, to: Stage): Promise<number> {
  // A competing writer holds the row (or the key) until it commits; then our condition fails.
  const r = row.version === 0
    ? await c.query('INSERT INTO dualrun.stages (dataset, stage, version, updated_at) VALUES ($1, $2, 1, now()) ON CONFLICT (dataset) DO NOTHING', [ds.name, to])
    : await c.query('UPDATE dualrun.stages SET stage = $2, version = version + 1, updated_at = now() WHERE dataset = $1 AND version = $3', [ds.name, to, row.version]);
  if (r.rowCount !== 1) throw await conflict(c, ds, `stage version ${row.version}`);
  return row.version + 1;
}

async function conflict(c: PoolClient, ds: DatasetConfig, expected: string): Promise<DualrunError> {
  const now = await readStageRow(c, ds.name);
  const last = (await latestAudit(c, [ds.name])).get(ds.name);
  const by = last ? ` (${last.action} ${last.from} → ${last.to} by ${last.actor} at ${last.at}: ${JSON.stringify(last.reason)})` : '';
  return new DualrunError('DUALRUN_CONFLICT',
    `${ds.name} changed under you: expected ${expected}, but it is now ${now.stage} at version ${now.version}${by}; ` +
    'another change came first (or --from names the wrong stage). Nothing was changed; check `dualrun cutover status` and retry if the change is still wanted.',
    { details: { dataset: ds.name, expected, stage: now.stage, version: now.version } });
}
