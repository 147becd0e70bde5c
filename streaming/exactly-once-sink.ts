/**
 * The exactly-once sink: one Postgres transaction per source batch holds the
 * output rows, tombstones, dead letters, keyed state, the new position and the
 * watermark. Records at or below the stored position are skipped, so whatever a
 * transport redelivers after a crash or rebalance has no second effect.
 *
 * A batch that Postgres rejects as a whole (a value of the wrong type, a
 * constraint) is retried row by row under savepoints; the rows that still fail
 * become `apply` dead letters and the rest commit, so one bad row never stalls a
 * partition.
 */
import { inTransaction, type Pool, type PoolClient } from '../src/db/connect.ts';
import { databaseErrorFields } from '../src/errors.ts';
import { writeDeadLetters } from './dead-letters.ts';
import { loadKeyedState, saveKeyedState } from './keyed-state.ts';
import type { MergeStatements } from './output-merge.ts';
import { advancePosition, lockAndReadPosition, type PartitionRef } from './positions.ts';
import { runPipeline, type DeadLetter, type KeyedChange, type PipelineDeps } from './record-pipeline.ts';
import { DualrunError } from '../src/errors.ts';
import { comparePositions, type Position, type SourceBatch } from './transport.ts';

export interface SinkDeps extends Omit<PipelineDeps, 'loadState'> {
  readonly db: Pool;
  readonly source: string;
  readonly merge: MergeStatements;
  /** The last position this process committed per partition (to notice a replay reset under it). */
  readonly committed: Map<number, Position>;
}

export interface BatchOutcome {
  /** Records newer than the stored position (the rest were redeliveries). */
  readonly fresh: number;
  readonly applied: number;
  readonly dead: number;
  readonly maxSourceTs: Date | null;
  /** Dead letters by pipeline stage (for metrics). */
  readonly deadByStage?: Readonly<Record<string, number>>;
  /** Milliseconds spent per phase (for debug logs). */
  readonly phases?: Record<string, number>;
}

export async function applyBatch(deps: SinkDeps, batch: SourceBatch): Promise<BatchOutcome> {
  const ref: PartitionRef = { dataset: deps.dataset, source: deps.source, partition: batch.partition };
  let tCommit = 0;
  const done = await inTransaction(deps.db, async (c) => {
    const stored = await lockAndReadPosition(c, ref);
    const mine = deps.committed.get(batch.partition);
    if (mine && comparePositions(stored, mine) < 0) {
      deps.committed.delete(batch.partition);
      throw new DualrunError('DUALRUN_STREAM_FAILED', `the stored position of ${deps.dataset} partition ${batch.partition} moved back (a replay ran): restarting from it`, { details: { dataset: deps.dataset, restart: true } });
    }
    const fresh = batch.records.filter((r) => comparePositions(r.position, stored) > 0);
    if (fresh.length === 0) return null;
    const t0 = performance.now();
    const result = await runPipeline(fresh, { ...deps, loadState: (keys) => loadKeyedState(c, deps.dataset, keys) });
    const t1 = performance.now();
    const applyDead = await writeChanges(c, deps, [...result.changes.values()]);
    const t2 = performance.now();
    const dead = [...result.deadLetters, ...applyDead];
    await writeDeadLetters(c, ref, dead);
    await saveKeyedState(c, deps.dataset, result.stateWrites);
    const applied = fresh.length - dead.length;
    const to = fresh[fresh.length - 1].position;
    await advancePosition(c, ref, { to, eventTime: batch.headSeenAt ?? result.maxSourceTs, applied, dead: dead.length });
    tCommit = performance.now();
    const phases = { pipeline: Math.round(t1 - t0), merge: Math.round(t2 - t1), bookkeeping: Math.round(tCommit - t2) };
    const deadByStage: Record<string, number> = {};
    for (const d of dead) deadByStage[d.stage] = (deadByStage[d.stage] ?? 0) + 1;
    return { to, outcome: { fresh: fresh.length, applied, dead: dead.length, maxSourceTs: result.maxSourceTs, deadByStage, phases } };
  });
  if (!done) return { fresh: 0, applied: 0, dead: 0, maxSourceTs: null };
  // Only a committed batch moves this worker's notion of where the partition stands.
  deps.committed.set(batch.partition, done.to);
  return { ...done.outcome, phases: { ...done.outcome.phases, commit: Math.round(performance.now() - tCommit) } };
}

/** Writes upserts and deletes as two set statements; falls back to row by row on a data error. */
async function writeChanges(c: PoolClient, deps: SinkDeps, changes: KeyedChange[]): Promise<DeadLetter[]> {
  if (changes.length === 0) return [];
  // A key's tombstone is only written under its partition's lock (held here), so this
  // answer stays true for the rest of the transaction, row-by-row retries included.
  const tombstones = changes.some((ch) => ch.kind === 'delete')
    || (await c.query('SELECT 1 FROM dualrun.stream_tombstones WHERE dataset = $1 LIMIT 1', [deps.dataset])).rowCount! > 0;
  await c.query('SAVEPOINT dr_batch');
  try {
    await runMerge(c, deps, changes, tombstones);
    await c.query('RELEASE SAVEPOINT dr_batch');
    return [];
  } catch (e) {
    if (!isDataError(e)) throw e;
    await c.query('ROLLBACK TO SAVEPOINT dr_batch');
  }
  const dead: DeadLetter[] = [];
  for (const ch of changes) {
    await c.query('SAVEPOINT dr_row');
    try {
      await runMerge(c, deps, [ch], tombstones);
      await c.query('RELEASE SAVEPOINT dr_row');
    } catch (e) {
      if (!isDataError(e)) throw e;
      await c.query('ROLLBACK TO SAVEPOINT dr_row');
      const db = databaseErrorFields(e);
      dead.push({ record: ch.record, recordKey: null, stage: 'apply', reason: `${(e as Error).message}${db?.code ? ` [SQLSTATE ${db.code}]` : ''}`, error: db ? { ...db } : null });
    }
  }
  return dead;
}

/** `tombstones`: whether the dataset may have tombstones (else the lean upsert runs). */
async function runMerge(c: PoolClient, deps: SinkDeps, changes: KeyedChange[], tombstones: boolean): Promise<void> {
  const ups = changes.filter((ch) => ch.kind === 'upsert');
  const dels = changes.filter((ch) => ch.kind === 'delete');
  if (ups.length > 0) {
    const s = deps.merge.upsert(ups, tombstones);
    await c.query(s.text, [deps.dataset, ...s.values]);
  }
  if (dels.length > 0) { const s = deps.merge.delete(dels); await c.query(s.text, [deps.dataset, ...s.values]); }
}

/** Errors caused by the data of a row (SQLSTATE classes 22 and 23), not by the database being unavailable. */
function isDataError(e: unknown): boolean {
  const code = databaseErrorFields(e)?.code ?? '';
  return code.startsWith('22') || code.startsWith('23');
}
